"""The guard every test runs under (tests/leaks.py, used by conftest's autouse fixture): it sees a thread and a child
process left running, lets a process-wide fixture's own through, and runs the closers helpers register."""
import subprocess
import threading
from pathlib import Path

from tests import leaks


def test_a_thread_left_running_is_named_until_it_ends():
    before = leaks.snapshot()
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="tolk-test-left-behind", daemon=True)
    thread.start()
    left = leaks.leftovers(before, join_seconds=0.2)
    assert left.threads == (thread,) and not left.pids
    assert left.lines() == ["thread 'tolk-test-left-behind' (daemon, running Event.wait)"]
    release.set()
    assert not leaks.leftovers(before)  # ends within the join time: not a leak


def test_a_child_process_left_running_is_found_and_ended():
    before = leaks.snapshot()
    child = subprocess.Popen(["sleep", "60"])
    left = leaks.leftovers(before, join_seconds=0.2)
    assert list(left.pids) == [child.pid] and "sleep 60" in left.lines()[0]
    left.end_children()
    assert not Path(f"/proc/{child.pid}").exists() and not leaks.leftovers(before, join_seconds=0.2)  # killed, reaped
    child.wait(5)


def test_what_a_process_wide_fixture_owns_is_not_a_leak():
    before = leaks.snapshot()
    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)
    thread.start()
    forget = leaks.process_wide(lambda: [thread])
    try:
        assert not leaks.leftovers(before, join_seconds=0.1)
    finally:
        forget()
    assert leaks.leftovers(before, join_seconds=0.1).threads == (thread,)  # once the fixture is gone, it is
    release.set()
    thread.join(2)


def test_closers_run_last_first_and_their_failures_are_reported():
    ran = []

    class Thing:
        def close(self):
            ran.append("thing")

    def broken():
        raise OSError("disk gone")

    saved = leaks._closers[:]  # this test's own closers stay for the guard
    leaks._closers.clear()
    try:
        leaks.close_after_test(broken)
        assert leaks.closing(Thing()).close
        assert leaks.run_closers() == [
            "closing test_closers_run_last_first_and_their_failures_are_reported.<locals>.broken raised "
            "OSError: disk gone"]
        assert ran == ["thing"] and leaks._closers == []
    finally:
        leaks._closers[:] = saved


def test_every_test_runs_under_the_guard(request):
    assert request.fixturenames[0] == "closes_what_it_starts"  # first function fixture set up: torn down last
