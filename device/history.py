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
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        self._db.commit()

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
