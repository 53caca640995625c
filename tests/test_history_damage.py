"""A damaged history database never stops the device: moved aside (kept), a fresh one, a notice."""
import sqlite3

import pytest

from tolk.device.history import History
from tests.test_controller import make_controller


@pytest.mark.parametrize("damage", ["garbage", "truncated", "directory"])
def test_damaged_history_is_moved_aside_and_a_fresh_one_starts(tmp_path, damage):
    path = tmp_path / "history.sqlite"
    good = History(path)
    good.add("en", "es", "Good morning.", "Buenos días.")
    good._db.close()
    original = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        path.write_bytes(original[:1000])
    else:
        path.unlink()
        path.mkdir()
        (path / "x").write_text("x")
    history = History(path)
    assert history.moved_aside is not None and history.moved_aside.exists()
    assert history.recent() == []
    history.add("en", "es", "Hello.", "Hola.")
    assert [e.translation for e in History(path).recent()] == ["Hola."]
    assert (path.stat().st_mode & 0o077) == 0  # private to the service


def test_the_controller_shows_a_notice_for_a_damaged_history(tmp_path):
    (tmp_path / "history.sqlite").write_bytes(b"garbage" * 500)
    controller, *_ = make_controller(tmp_path)
    assert "History" in controller.notice and controller.history.recent() == []
