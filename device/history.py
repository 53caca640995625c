"""Conversation history on the data partition (SQLite): browse, speak again, export, wipe."""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    source_lang TEXT NOT NULL,
    target_lang TEXT NOT NULL,
    source_text TEXT NOT NULL,
    translation TEXT NOT NULL
)"""


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    at: float
    source_lang: str
    target_lang: str
    source_text: str
    translation: str


class History:
    """The history database. A damaged one (garbage, truncated, a folder in its place) never stops the device:
    it is moved aside (kept, for a person to inspect) and a fresh one starts; ``moved_aside`` says where."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.moved_aside: Path | None = None
        try:
            self._db = self._open()
        except (sqlite3.DatabaseError, OSError) as err:
            self.moved_aside = self._move_aside()
            log.warning("history %s is damaged (%s): moved to %s, starting a fresh one", self.path, err,
                        self.moved_aside)
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path.exists() and not self.path.is_file():
            raise sqlite3.DatabaseError(f"{self.path} is not a file")
        db = sqlite3.connect(str(self.path), check_same_thread=False)
        try:
            for private in (self.path, *(self.path.with_name(self.path.name + x) for x in ("-wal", "-shm"))):
                if private.exists():  # what people said is private (files an older version left 0644 too)
                    private.chmod(0o600)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(_SCHEMA)
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
            db.commit()
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside(self) -> Path:
        target = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        self.path.rename(target)
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
        return target

    def add(self, source_lang: str, target_lang: str, source_text: str, translation: str,
            at: float | None = None) -> int:
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT INTO turns (at, source_lang, target_lang, source_text, translation) VALUES (?, ?, ?, ?, ?)",
                (time.time() if at is None else at, source_lang, target_lang, source_text, translation))
            return int(cur.lastrowid)

    def recent(self, limit: int = 20, offset: int = 0) -> list[HistoryEntry]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM turns ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset)).fetchall()
        return [HistoryEntry(*row) for row in rows]

    def get(self, entry_id: int) -> HistoryEntry | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM turns WHERE id = ?", (entry_id,)).fetchone()
        return HistoryEntry(*row) if row else None

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM turns").fetchone()[0])

    def export_json(self) -> str:
        return json.dumps([asdict(e) for e in reversed(self.recent(limit=1_000_000))], ensure_ascii=False, indent=1)

    def wipe(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM turns")
        with self._lock:
            self._db.execute("VACUUM")

    def close(self) -> None:
        with self._lock:
            self._db.close()
