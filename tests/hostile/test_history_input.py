"""A damaged history database never stops the device: moved aside (kept), a fresh one, a notice; private (0600).

The device shows a notice with the code HISTORY-DAMAGED and goes on.
"""
import sqlite3

import pytest

from tolk.device.history import History
from tests.test_controller import make_controller


def _damage(path, damage):
    original = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        path.write_bytes(original[:1000])
    elif damage == "zeroed-header":
        path.write_bytes(b"\0" * 100 + original[100:])
    else:
        path.unlink()
        path.mkdir()
        (path / "x").write_text("x")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed-header", "directory"])
def test_damaged_history_is_moved_aside_and_a_fresh_one_starts(tmp_path, damage):
    path = tmp_path / "history.sqlite"
    good = History(path)
    good.add("en", "es", "Good morning.", "Buenos días.")
    good.close()
    _damage(path, damage)
    damaged = None if path.is_dir() else path.read_bytes()
    history = History(path)
    aside = history.moved_aside
    assert aside is not None and aside.exists() and aside.name.startswith("history.sqlite.damaged-")
    if damaged is not None:
        assert aside.read_bytes() == damaged  # the old file is kept as it was, for a person to inspect
    else:
        assert (aside / "x").read_text() == "x"
    assert history.recent() == []
    history.add("en", "es", "Hello.", "Hola.")
    history.close()
    assert [e.translation for e in History(path).recent()] == ["Hola."]
    assert (path.stat().st_mode & 0o777) == 0o600  # private to the service


def test_the_controller_shows_a_notice_for_a_damaged_history(tmp_path):
    (tmp_path / "history.sqlite").write_bytes(b"garbage" * 500)
    controller, *_ = make_controller(tmp_path)
    assert controller.notice == "History was damaged: kept aside, a new one started [HISTORY-DAMAGED]"
    assert controller.history.recent() == []
    kept = list(tmp_path.glob("history.sqlite.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"garbage" * 500


def test_a_healthy_history_left_world_readable_is_made_private_and_keeps_its_rows(tmp_path):
    path = tmp_path / "history.sqlite"
    old = History(path)
    for i in range(3):
        old.add("en", "es", f"Line {i}.", f"Línea {i}.")
    old.close()
    path.chmod(0o644)  # as an older version left it
    history = History(path)
    assert history.moved_aside is None
    assert [e.source_text for e in history.recent()] == ["Line 2.", "Line 1.", "Line 0."]  # no row lost
    history.add("en", "es", "More.", "Más.")
    for name in ("history.sqlite", "history.sqlite-wal", "history.sqlite-shm"):
        if (tmp_path / name).exists():
            assert ((tmp_path / name).stat().st_mode & 0o777) == 0o600, name


def test_a_history_with_a_foreign_schema_is_not_a_crash(tmp_path):
    """A valid SQLite file holding something else: the turns table is added beside it, nothing is dropped."""
    path = tmp_path / "history.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE other (x TEXT)")
    db.execute("INSERT INTO other VALUES ('keep me')")
    db.commit()
    db.close()
    history = History(path)
    history.add("en", "es", "Hello.", "Hola.")
    assert history.moved_aside is None and history.count() == 1
    history.close()
    assert sqlite3.connect(path).execute("SELECT x FROM other").fetchall() == [("keep me",)]
