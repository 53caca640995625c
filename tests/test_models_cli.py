"""`tolk models …` as a user runs it."""
import subprocess
import sys

import pytest

from tolk.device.cli import main
from tests.packfixtures import make_pack


def tolk(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def packs(tmp_path):
    return tmp_path / "packs"


def test_install_list_verify_flip(capsys, packs, tmp_path):
    make_pack(tmp_path / "src")
    code, out, _ = tolk(capsys, "models", "--packs-dir", str(packs), "install", str(tmp_path / "src"), "--no-load-test")
    assert code == 0 and "installed tiny-mt" in out
    code, out, _ = tolk(capsys, "models", "--packs-dir", str(packs), "list")
    assert code == 0
    assert "tiny-mt" in out and "Apache-2.0" in out and "RAM:" in out and "ctranslate2-generator" in out
    code, out, err = tolk(capsys, "models", "--packs-dir", str(packs), "verify")
    assert code == 0 and "tiny-mt: OK" in err

    model = next(packs.glob(".versions/tiny-mt-*/model.bin"))
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    code, out, err = tolk(capsys, "models", "--packs-dir", str(packs), "verify")
    assert code != 0
    assert "model.bin" in err and "sha256" in err and "FAILED" in err


def test_empty_store_says_what_to_do(capsys, packs):
    code, out, _ = tolk(capsys, "models", "--packs-dir", str(packs), "list")
    assert code == 1 and "install-defaults" in out


def test_entry_point_runs_as_a_process(packs):
    proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "models", "--packs-dir", str(packs), "list", "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and '"packs": []' in proc.stdout
