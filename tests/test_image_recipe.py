"""The firmware image recipe, checked statically for both profiles (the qemu image is also booted by image-build/test;
the rpi profile cannot be booted here: Raspberry Pi's kernel and firmware are not reachable)."""
from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

IMAGE_BUILD = Path(__file__).resolve().parents[1] / "image-build"
sys.path.insert(0, str(IMAGE_BUILD))

from tolkimage import assemble, recipe  # noqa: E402

from tolk.device.config import load_config  # noqa: E402
from tolk.device.system import read_health, read_mounts  # noqa: E402

VERSION = "0.1.0"
PROFILES = sorted(recipe.PROFILES)


def unit(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(text)
    return parser


@pytest.mark.parametrize("name", PROFILES)
def test_three_partitions_boot_root_data(name):
    profile = recipe.PROFILES[name]
    parts = recipe.partitions(profile)
    assert [(p.name, p.fs, p.mountpoint) for p in parts] == [
        ("boot", "vfat", "/boot/firmware"), ("root", "ext4", "/"), ("data", "ext4", "/data")]
    assert "ro" in parts[1].options.split(",") and "rw" in parts[2].options.split(",")
    layout = assemble.plan(profile, root_mb=1200, data_mb=1500)
    assert layout[0].start_mb == assemble.ALIGN_MB
    for a, b in zip(layout, layout[1:]):
        assert a.start_mb + a.size_mb == b.start_mb  # no gaps, no overlaps
    assert all(item.start_mb % 4 == 0 and item.size_mb % 4 == 0 for item in layout)
    assert layout[1].size_mb > 1200 and layout[2].size_mb > 1500


@pytest.mark.parametrize("name", PROFILES)
def test_fstab_and_cmdline_agree_and_root_is_read_only(name):
    profile = recipe.PROFILES[name]
    fstab = [line.split() for line in recipe.fstab(profile, VERSION).splitlines() if line and not line.startswith("#")]
    by_point = {f[1]: f for f in fstab}
    cmdline = recipe.cmdline(profile, VERSION).split()
    root_arg = next(a for a in cmdline if a.startswith("root="))
    assert by_point["/"][0] == root_arg[len("root="):] == f"PARTUUID={recipe.disk_id(VERSION, name)}-02"
    assert "ro" in cmdline and "ro" in by_point["/"][3].split(",")
    assert by_point["/data"][0].endswith("-03") and by_point["/data"][5] == "2"  # fsck'd at every boot
    for point in ("/tmp", "/var/log", "/var/tmp", "/var/lib/systemd"):
        assert by_point[point][2] == "tmpfs"  # logs and temp in RAM
    assert f"console={profile.kernel_console}" in cmdline


def test_disk_ids_differ_per_profile_and_version():
    ids = {recipe.disk_id(v, p) for v in ("0.1.0", "0.2.0") for p in PROFILES}
    assert len(ids) == 4 and all(len(i) == 8 and int(i, 16) >= 0 for i in ids)


@pytest.mark.parametrize("name", PROFILES)
def test_tolk_service_is_notify_with_watchdog_restart_and_memory_limit(name):
    profile = recipe.PROFILES[name]
    service = unit(recipe.tolk_service(profile))["Service"]
    assert service["Type"] == "notify" and int(service["WatchdogSec"]) > 0
    assert service["Restart"] == "on-failure" and service["MemoryMax"]
    assert service["ExecStart"] == f"{recipe.VENV}/bin/tolk run --config /etc/tolk/config.toml"
    assert service["ReadWritePaths"] == "/data" and service["ProtectSystem"] == "strict"
    console = unit(recipe.console_service())["Service"]
    assert console["ExecStart"].endswith("tolk console --port /dev/%I --baud 115200")


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("debug", [False, True])
def test_console_replaces_the_login_getty_unless_debug(name, debug):
    profile = recipe.PROFILES[name]
    enabled, masked = recipe.enabled_units(profile, debug), recipe.masked_units(profile)
    for tty in profile.console_ttys:
        assert f"tolk-console@{tty}.service" in enabled and f"serial-getty@{tty}.service" in masked
    shells = [u for u in enabled if "getty" in u]
    assert bool(shells) is debug
    assert not set(shells) & set(masked)
    assert "tolk.service" in enabled and "tolk-expand-data.service" in enabled


@pytest.mark.parametrize("name", PROFILES)
def test_device_config_of_each_profile_loads(name, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(recipe.PROFILES[name].config_toml)
    config = load_config(path)
    assert config.display.driver == ("st7789" if name == "rpi" else "memory")
    assert config.console.debug is (name == "qemu")  # fault-injection commands: the test image only


def test_rpi_boot_config_enables_uart_spi_i2s_and_gadget_and_ships_its_overlays():
    text = recipe.rpi_config_txt()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    for needed in ("enable_uart=1", "dtparam=spi=on", "dtparam=i2s=on", "arm_64bit=1"):
        assert needed in lines
    overlays = {line.split("=", 1)[1].split(",")[0] for line in lines if line.startswith("dtoverlay=")}
    assert {"dwc2", "googlevoicehat-soundcard"} <= overlays
    assert "gpio-shutdown" not in overlays  # it would take GPIO 3 from Tolk's power button
    for overlay in overlays:  # every overlay config.txt names must be required from the firmware folder
        assert f"overlays/{overlay}.dtbo" in recipe.RPI_BOOT_FILES
    kernels = {line.split("=", 1)[1] for line in lines if line.startswith("kernel=")}
    assert kernels <= set(recipe.RPI_BOOT_FILES)
    files = recipe.boot_files(recipe.PROFILES["rpi"], VERSION)
    assert {"cmdline.txt", "config.txt"} <= set(files) and files["cmdline.txt"].count("\n") == 1


def test_rpi_profile_uses_the_gadget_serial_and_real_packs():
    rpi = recipe.PROFILES["rpi"]
    assert "ttyGS0" in rpi.console_ttys and "g_serial" in rpi.modules and rpi.packs == "defaults"
    qemu = recipe.PROFILES["qemu"]
    assert qemu.packs == "tiny" and "linux-image-arm64" in qemu.packages


def test_rpi_image_carries_every_default_pack_including_kokoro_and_qemu_the_tiny_kokoro():
    from tolk.models.build.defaults import KOKORO_82M, default_packs
    from tolk.models.build.tiny import TINY_KOKORO_LANGUAGES

    rpi = recipe.PROFILES["rpi"]
    assert set(rpi.pack_ids) == {p.id for p in default_packs()} | {"espeak-ng"}
    assert KOKORO_82M.default and KOKORO_82M.id in rpi.pack_ids
    qemu = recipe.PROFILES["qemu"]
    assert "tiny-kokoro" in qemu.pack_ids and len(qemu.pack_ids) == 4
    # the boot test translates into Spanish and checks the Kokoro engine spoke it: Spanish has no tiny Piper voice
    assert "es" in TINY_KOKORO_LANGUAGES
    test_script = (IMAGE_BUILD / "test").read_text()
    assert "--to es" in test_script and "check_kokoro_spoke(reply, check)" in test_script


def test_missing_real_packs_are_named_before_the_build(tmp_path):
    from tolkimage import contents

    rpi = recipe.PROFILES["rpi"]
    (tmp_path / "whisper-base").mkdir()
    (tmp_path / "whisper-base" / "manifest.json").write_text("{}")
    missing = contents.missing_real_packs(rpi, tmp_path)
    assert missing == [p for p in rpi.pack_ids if p != "whisper-base"] and "kokoro-82m-int8" in missing
    assert "install-defaults" in contents.missing_packs_help(rpi, tmp_path, missing)
    assert contents.missing_real_packs(recipe.PROFILES["qemu"], tmp_path) == []  # generated, not copied


def _pins(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            out[name.strip().lower().replace("_", "-")] = version.strip() if version else ""
    return out


def test_arm64_constraints_pin_every_runtime_dependency_including_kokoros():
    import re
    import tomllib

    project = tomllib.loads((IMAGE_BUILD.parent / "pyproject.toml").read_text())["project"]
    constraints = _pins((IMAGE_BUILD / "constraints-arm64.txt").read_text().splitlines())
    assert all(re.fullmatch(r"[0-9][0-9a-z.]*", v) for v in constraints.values()), "every line an exact pin"
    for dep in project["dependencies"]:
        name = re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0].lower().replace("_", "-")
        assert name in constraints, f"{name} is not pinned for the image"
        if "==" in dep:
            assert constraints[name] == dep.split("==", 1)[1].split(";")[0].strip(), f"{name}: pyproject and image differ"
    # Kokoro: onnxruntime (brought by piper-tts) runs the model, pypinyin reads Mandarin (pure Python)
    assert constraints["onnxruntime"] and constraints["pypinyin"] == "0.55.0"


@pytest.mark.parametrize("name", PROFILES)
def test_recipe_files_are_complete(name):
    files = recipe.files(recipe.PROFILES[name], VERSION)
    assert files["/etc/machine-id"][0] == ""  # systemd makes a runtime id on the read-only root
    assert "Storage=volatile" in files["/etc/systemd/journald.conf.d/tolk.conf"][0]
    assert "HandlePowerKey=poweroff" in files["/etc/systemd/logind.conf.d/tolk.conf"][0]
    script = files["/usr/lib/tolk/expand-data"]
    assert script[1] == 0o755
    if shutil.which("sh"):
        subprocess.run(["sh", "-n"], input=script[0], text=True, check=True)  # parses


def test_rpi_build_without_firmware_says_what_to_provide():
    if os.geteuid() != 0:
        pytest.skip("the image build checks for root first")
    result = subprocess.run([sys.executable, str(IMAGE_BUILD / "build"), "--profile", "rpi", "-o", "/nonexistent"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "IMAGE-RPI-FIRMWARE" in result.stderr or "IMAGE-TOOLS" in result.stderr


def test_health_reads_read_only_root_and_data_space(tmp_path):
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "mounts").write_text("/dev/vda2 / ext4 ro,noatime 0 0\n/dev/vda3 /data ext4 rw,noatime 0 0\n"
                                 "tmpfs /tmp tmpfs rw,nosuid 0 0\n")
    mounts = read_mounts(proc)
    assert mounts["/"]["read_only"] and not mounts["/data"]["read_only"]
    health = read_health(tmp_path, proc)
    assert health["root_fs"] == "ro" and health["data_mb"] > 0 and health["data_free_mb"] >= 0


def test_rpi_buttons_stay_clear_of_the_pins_the_overlays_claim(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(recipe.PROFILES["rpi"].config_toml)
    config = load_config(path)
    buttons = set(config.buttons.pins().values())
    for owner, pins in recipe.RPI_RESERVED_PINS.items():
        assert not buttons & set(pins), f"a button shares a pin with {owner}"
    assert {config.display.gpio_dc, config.display.gpio_rst} == set(recipe.RPI_RESERVED_PINS["st7789 dc/rst"])
