"""One table of error codes: every code used in the source is a member, and errors carry members."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tolk.models.errors import ErrorCode, ManifestError, TolkError

ROOT = Path(__file__).resolve().parents[1]
CODE_LITERAL = re.compile(r'"([A-Z]{2,}(?:-[A-Z]+)+)"')


def test_every_code_has_a_summary_and_an_action():
    for code in ErrorCode:
        assert code.value == code.name.replace("_", "-")
        assert code.summary.endswith(".") and code.action, code
    assert len({c.value for c in ErrorCode}) == len(ErrorCode)


def test_no_loose_code_strings_in_the_runtime():
    """Codes are written as ErrorCode members; a quoted code outside the table is a leftover string."""
    loose = []
    for folder in ("device", "models", "audio", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "errors.py" and path.parent.name == "models":
                continue
            for lineno, line in enumerate(path.read_text().splitlines(), 1):
                loose += [f"{path.relative_to(ROOT)}:{lineno}: {m}" for m in CODE_LITERAL.findall(line)
                          if not line.lstrip().startswith("#") and "e.g." not in line]
    assert loose == []


def test_errors_carry_members_not_strings():
    err = TolkError("the pack is gone", code=ErrorCode.PACK_MISSING)
    assert err.code is ErrorCode.PACK_MISSING and str(err) == "[PACK-MISSING] the pack is gone"
    assert err.action == ErrorCode.PACK_MISSING.action
    assert json.dumps({"code": err.code}) == '{"code": "PACK-MISSING"}'
    with pytest.raises(TypeError):
        TolkError("x", code="PACK-MISSING")  # type: ignore[arg-type]
    assert ManifestError().message == ErrorCode.PACK_MANIFEST.summary


def test_bad_paths_on_the_command_line_get_a_code_not_a_traceback(tmp_path):
    import subprocess
    import sys

    cases = [["simulate", "--headless", "--audio", "files", "--script", str(tmp_path / "missing.script")],
             ["translate", "", "--from", "en", "--to", "es"]]
    for args in cases:
        proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", *args], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith("error: [")
