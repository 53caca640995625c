"""What goes on the boot and data partitions, and the manifest of everything that went into the image."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

from . import recipe

log = logging.getLogger(__name__)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def boot_folder(root: Path, boot: Path, profile: recipe.Profile, version: str, rpi_firmware: Path | None) -> None:
    """Kernel, initrd (qemu: Debian's, from the root fs) or the Raspberry Pi firmware folder, plus text files."""
    if boot.exists():
        shutil.rmtree(boot)
    boot.mkdir(parents=True)
    if profile.kernel == "debian":
        (vmlinuz,) = sorted((root / "boot").glob("vmlinuz-*"))[-1:]
        (initrd,) = sorted((root / "boot").glob("initrd.img-*"))[-1:]
        shutil.copy2(vmlinuz, boot / "vmlinuz")
        shutil.copy2(initrd, boot / "initrd.img")
    else:
        if rpi_firmware is None:
            raise SystemExit(rpi_firmware_help())
        missing = missing_rpi_files(rpi_firmware)
        if missing:
            raise SystemExit(f"error: [IMAGE-RPI-FIRMWARE] {rpi_firmware} lacks: {', '.join(missing)}\n"
                             + rpi_firmware_help())
        shutil.copytree(rpi_firmware, boot, dirs_exist_ok=True, ignore=shutil.ignore_patterns("cmdline.txt",
                                                                                            "config.txt"))
    for name, text in recipe.boot_files(profile, version).items():
        (boot / name).write_text(text)


def missing_rpi_files(folder: Path) -> list[str]:
    return [name for name in recipe.RPI_BOOT_FILES if not (folder / name).is_file()]


def rpi_firmware_help() -> str:
    return ("error: [IMAGE-RPI-FIRMWARE] the rpi profile needs Raspberry Pi's kernel and boot firmware, which are "
            "not in Debian: pass --rpi-firmware DIR with the boot partition of a current Raspberry Pi OS "
            "(start4.elf, fixup4.dat, kernel8.img, kernel_2712.img, bcm2711/bcm2712 .dtb files, overlays/) "
            "and --rpi-modules DIR with its /lib/modules/<version> folders.")


def data_folder(data: Path, project_python: str, profile: recipe.Profile, real_packs: Path) -> None:
    """The data partition: /data/tolk/packs with the profile's packs, installed (verified) by Tolk's own store."""
    if data.exists():
        shutil.rmtree(data)
    packs = data / "tolk" / "packs"
    packs.parent.mkdir(parents=True)
    env = dict(os.environ)
    if profile.packs == "tiny":
        subprocess.run([str(Path(project_python).parent / "tolk"), "models", "--packs-dir", str(packs), "tiny", "-o",
                        str(data.parent / "tiny-src"), "--install",
                        "--real-packs", str(real_packs)], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(data.parent / "tiny-src")
    else:
        missing = missing_real_packs(profile, real_packs)
        if missing:
            raise SystemExit(missing_packs_help(profile, real_packs, missing))
        for pack_id in profile.pack_ids:
            subprocess.run([str(Path(project_python).parent / "tolk"), "models", "--packs-dir", str(packs), "install",
                            str((real_packs / pack_id).resolve())], check=True, env=env)
    staging = packs / ".staging"
    if staging.is_dir() and not any(staging.iterdir()):
        staging.rmdir()
    installed = sorted(p.name for p in packs.iterdir() if p.is_symlink())
    if installed != sorted(profile.pack_ids):
        raise SystemExit(f"error: [IMAGE-PACKS] the {profile.name} image has packs {', '.join(installed)}; "
                         f"its profile carries {', '.join(profile.pack_ids)}")


def missing_real_packs(profile: recipe.Profile, real_packs: Path) -> list[str]:
    """The profile's real packs that the build host's pack store lacks (checked before anything is built)."""
    if profile.packs != "defaults":
        return []
    return [pack_id for pack_id in profile.pack_ids if not (real_packs / pack_id / "manifest.json").is_file()]


def missing_packs_help(profile: recipe.Profile, real_packs: Path, missing: list[str]) -> str:
    return (f"error: [IMAGE-PACKS] the {profile.name} image carries {', '.join(profile.pack_ids)}; {real_packs} "
            f"lacks {', '.join(missing)}: run  tolk models install-defaults  first")


def test_clip(root: Path) -> Path:
    """A spoken English clip in the image for the boot test's `interpret` (espeak-ng on the build host)."""
    folder = root / recipe.CLIP_DIR.lstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / "hello-en.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(clip),
                    "Good morning. Where is the train station?"], check=True)
    return clip


def pack_hashes(packs: Path) -> list[dict]:
    out = []
    for link in sorted(p for p in packs.iterdir() if p.is_symlink()):
        manifest = json.loads((link / "manifest.json").read_text())
        out.append({"id": manifest["id"], "version": manifest["version"], "license": manifest["license"],
                    "files": {f["path"]: f["sha256"] for f in manifest["files"]}})
    return out


def build_manifest(*, version: str, profile: recipe.Profile, debug: bool, commit: str, epoch: int,
                   packages: list[dict], wheels: list[Path], packs: Path, mirror: str) -> dict:
    return {
        "tolk": version, "profile": profile.name, "debug": debug, "git_commit": commit,
        "source_date_epoch": epoch, "debian": {"suite": recipe.SUITE, "mirror": mirror, "packages": packages},
        "python_wheels": [{"file": w.name, "sha256": sha256(w)} for w in wheels],
        "packs": pack_hashes(packs),
    }
