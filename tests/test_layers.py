"""The package structure: one top-level import name, layers enforced by import-linter, and a live contract."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
FOLDERS = {"tolk.device": "device", "tolk.models": "models", "tolk.audio": "audio", "tolk.ui": "ui"}
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# Modules that may reach tolk.models.build (lazily, for `tolk models install-defaults|convert|tiny|eval` and
# `tolk bench` on a build host), and the package roots whose descendants are listed one by one.
BUILD_USERS = ("tolk.device.cli", "tolk.device.cli_models", "tolk.device.cli_bench", "tolk.device.bench",
               "tolk.models.build")
ROOTS = ("tolk.device", "tolk.models")


def all_modules() -> set[str]:
    names = set()
    for package, folder in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            names.add(".".join((package, *parts)))
    return names


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    inherited = os.environ.get("PYTHONPATH")
    path = str(pythonpath) if pythonpath else inherited
    env = {"PATH": "/usr/bin:/bin", **({"PYTHONPATH": path} if path else {})}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def test_pyproject_lists_every_package_folder():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {m for m in all_modules() if (ROOT / FOLDERS[".".join(m.split(".")[:2])] /
                                              "/".join(m.split(".")[2:]) / "__init__.py").is_file()}
    assert listed == on_disk
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == FOLDERS


def test_forbidden_contract_names_every_runtime_module():
    (forbidden,) = [c for c in PYPROJECT["tool"]["importlinter"]["contracts"] if c["type"] == "forbidden"]
    sources = forbidden["source_modules"]

    def covered(module: str) -> bool:
        return any(module == s or (module.startswith(s + ".") and s not in ROOTS) for s in sources)

    runtime = {m for m in all_modules()
               if m not in ROOTS and not any(m == u or m.startswith(u + ".") for u in BUILD_USERS)}
    assert sorted(m for m in runtime if not covered(m)) == []


def test_import_contracts_hold():
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 2 kept, 0 broken." in proc.stdout


@pytest.mark.parametrize("victim, bad_import, message", [
    ("ui/frames.py", "from tolk.device import events", "tolk.ui is not allowed to import tolk.device"),
    ("audio/endpoint.py", "import tolk.device.controller", "tolk.audio is not allowed to import tolk.device"),
    ("models/translate.py", "from tolk.models.build import fetch",
     "tolk.models.translate is not allowed to import tolk.models.build"),
])
def test_a_wrong_import_breaks_a_contract(tmp_path, victim, bad_import, message):
    """The contracts are live: the same tree with one wrong import fails lint-imports."""
    tree = tmp_path / "tree"
    for package, folder in FOLDERS.items():
        shutil.copytree(ROOT / folder, tree / "tolk" / package.split(".")[1],
                        ignore=shutil.ignore_patterns("__pycache__"))
    target = tree / "tolk" / victim
    target.write_text(target.read_text() + f"\n{bad_import}  # deliberately wrong\n")
    proc = lint_imports(tmp_path, pythonpath=tree)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert message in proc.stdout


@pytest.mark.slow
def test_pip_install_gives_one_top_level_name(tmp_path):
    """`pip install .` into a fresh venv: the distribution's only top-level import name is `tolk`."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps",
                    "--disable-pip-version-check", str(ROOT)], check=True, capture_output=True)
    listing = subprocess.run([str(py), "-c", """
import importlib.metadata as md
files = md.distribution("tolk").files
print("\\n".join(sorted({f.parts[0] for f in files if not f.parts[0].endswith(".dist-info")
                          and f.parts[0] not in ("..",)})))
"""], check=True, capture_output=True, text=True, cwd=tmp_path).stdout.split()
    assert listing == ["tolk"]
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True, cwd=tmp_path).stdout.strip())
    assert not (site / "tolk" / "__init__.py").exists()  # a namespace package: nothing claims `tolk` itself
    assert {p.name for p in (site / "tolk").iterdir()} == {"audio", "device", "models", "ui"}


def test_without_the_build_tooling_the_build_commands_say_so(tmp_path, monkeypatch, capsys):
    """As on the device image (tolk/models/build removed): build commands give a code, the rest works."""
    from tolk.device import cli

    for name in ["tolk.models.build", *(m for m in sys.modules if m.startswith("tolk.models.build."))]:
        monkeypatch.setitem(sys.modules, name, None)  # importing any of it now fails like a missing folder
    monkeypatch.setenv("TOLK_DATA_DIR", str(tmp_path / "data"))
    for args in (["install-defaults"], ["tiny", "-o", str(tmp_path / "t")], ["eval"]):
        assert cli.main(["models", *args]) == 2
        assert "BUILD-TOOLS-MISSING" in capsys.readouterr().err
    assert cli.main(["models", "list"]) == 1  # nothing installed in this data folder: said plainly
    assert "install-defaults" in capsys.readouterr().out
