"""One recipe, two profiles: what goes into the Tolk firmware image, as plain data and rendered files.

Nothing here runs a command, so the whole recipe (partition layout, boot files, units,
fstab, configs) is checked statically by the tests for both profiles, including ``rpi``
whose Raspberry Pi kernel and firmware are not reachable on every build host.
"""
from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
VENV = "/opt/tolk/venv"
# Build-host tooling the device never imports (tolk.models.build: converters, fetchers, pinned catalogue, tiny
# models, eval); removed from the image's venv after install. `tolk models install-defaults|convert|tiny|eval`
# then say BUILD-TOOLS-MISSING on the device.
BUILD_ONLY_PACKAGES = ("tolk/models/build",)
DATA_MOUNT = "/data"
DATA_DIR = "/data/tolk"
CLIP_DIR = "/usr/share/tolk/clips"
MANIFEST_PATH = "/usr/share/tolk/image-manifest.json"
LABELS = {"boot": "TOLKBOOT", "root": "tolk-root", "data": "tolk-data"}

# Debian packages in every image (one mmdebstrap pass). Python wheels come from the
# project's pins (pyproject.toml + constraints-arm64.txt), not from Debian.
BASE_PACKAGES = [
    "systemd", "systemd-sysv", "udev", "dbus", "kmod", "initramfs-tools",
    "python3", "python3-venv",
    "espeak-ng", "fonts-noto-core", "fonts-noto-cjk", "fonts-noto-color-emoji", "libraqm0",
    "alsa-utils", "libportaudio2",
    "e2fsprogs", "dosfstools", "cloud-guest-utils", "fdisk",
    "ca-certificates",
]


@dataclass(frozen=True)
class Partition:
    name: str
    fs: str  # vfat | ext4
    label: str
    mountpoint: str
    options: str
    size_mb: int | None  # None: sized to its contents plus headroom
    fsck_pass: int


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    packages: tuple[str, ...]
    kernel: str  # "debian": linux-image-arm64 in the root fs | "rpi-folder": Raspberry Pi kernel+firmware given at build
    console_ttys: tuple[str, ...]  # where `tolk console` listens instead of a login getty
    kernel_console: str
    packs: str  # "tiny": generated packs (emulation) | "defaults": the real default packs (``pack_ids``)
    boot_mb: int
    watchdog_sec: int
    start_timeout_sec: int
    memory_max: str
    modules: tuple[str, ...] = ()
    service_env: tuple[str, ...] = ()
    extra_venv: tuple[str, ...] = ()
    config_toml: str = ""
    pack_ids: tuple[str, ...] = ()  # the packs on the data partition (defaults: from the build host's pack store)


# The real packs the rpi image carries: the catalogue's default packs (tolk.models.build.defaults, default=True)
# and the espeak-ng fallback voice. Kokoro-82M runs on onnxruntime (piper-tts's dependency) and speaks Mandarin
# through pypinyin: both are pinned in constraints-arm64.txt.
RPI_PACKS = ("whisper-base", "qwen2.5-coder-1.5b-int8", "piper-en-us-joe-medium", "kokoro-82m-int8", "espeak-ng")
# What the tiny set (models/build/tiny.py) installs on the qemu image.
TINY_PACKS = ("tiny-whisper", "tiny-llm", "tiny-piper", "tiny-kokoro")


QEMU_CONFIG = """\
# /etc/tolk/config.toml for the qemu profile (virt machine, no panel, ALSA dummy card)
[display]
driver = "memory"
width = 240
height = 240

[console]
# a test image: the boot test unlocks with this passphrase and injects faults with `debug` (never on rpi)
passphrase = "qemu-boot-test"
debug = true
"""

RPI_CONFIG = """\
# /etc/tolk/config.toml — Raspberry Pi 4/5, ST7789 240x240 on SPI0, buttons on BCM pins (see README: wiring).
# Pins kept clear of SPI0 (7-11), the UART (14, 15), I2S (18-21) and the panel's DC/RST (24, 25).
[buttons]
talk_a = 5
talk_b = 6
swap = 13
menu = 16
select = 26
up = 23
down = 27
power = 3

[audio]
# a substring of the sound card's name; unset = ALSA's default card (/etc/asound.conf)
# input_device = "USB PnP Sound Device"
# output_device = "USB PnP Sound Device"

[display]
driver = "st7789"
width = 240
height = 240
spi_port = 0
spi_device = 0
gpio_dc = 24
gpio_rst = 25
"""

PROFILES = {
    "qemu": Profile(
        name="qemu", description="QEMU virt machine (cortex-a76) for boot tests; tiny generated packs",
        packages=("linux-image-arm64",), kernel="debian", console_ttys=("ttyAMA0",), kernel_console="ttyAMA0",
        packs="tiny", pack_ids=TINY_PACKS, boot_mb=96, watchdog_sec=120, start_timeout_sec=900, memory_max="1500M",
        # sound: the test VM has an Intel HDA controller + duplex codec (snd-hda-intel loads by itself via udev)
        service_env=("GPIOZERO_PIN_FACTORY=mock",),  # virt has no button header; the console's `press` drives them
        config_toml=QEMU_CONFIG),
    "rpi": Profile(
        name="rpi", description="Raspberry Pi 4/5: SPI screen, I2S/USB audio, UART + USB-gadget console; real packs",
        packages=("python3-spidev", "python3-lgpio", "python3-rpi-lgpio"), kernel="rpi-folder",
        console_ttys=("ttyAMA0", "ttyGS0"), kernel_console="tty1", packs="defaults", boot_mb=256,
        watchdog_sec=30, start_timeout_sec=180, memory_max="85%",
        modules=("g_serial",), extra_venv=("luma.lcd==2.11.0", "luma.core==2.5.1"), config_toml=RPI_CONFIG,
        pack_ids=RPI_PACKS),
}

# Units that would fail or write on a read-only root with no network: never wanted on the device.
MASKED_UNITS = (
    "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_all.timer",
    "e2scrub_reap.service", "systemd-networkd-wait-online.service", "getty@tty1.service",
)


def disk_id(version: str, profile: str) -> str:
    """The MBR disk identifier, derived from version and profile (fixed, so PARTUUIDs are known in advance)."""
    return hashlib.sha256(f"tolk-{version}-{profile}".encode()).hexdigest()[:8]


def partitions(profile: Profile) -> list[Partition]:
    return [
        Partition("boot", "vfat", LABELS["boot"], "/boot/firmware", "ro,noatime,nofail,umask=0022", profile.boot_mb, 2),
        Partition("root", "ext4", LABELS["root"], "/", "ro,noatime,errors=remount-ro", None, 1),
        # commit=5: at most ~5 s of settings/history lost to a power cut; data=ordered (default) keeps files whole
        Partition("data", "ext4", LABELS["data"], DATA_MOUNT, "rw,noatime,nodev,nosuid,commit=5", None, 2),
    ]


def partuuid(version: str, profile: str, index: int) -> str:
    return f"{disk_id(version, profile)}-{index:02d}"


def fstab(profile: Profile, version: str) -> str:
    lines = ["# Tolk firmware: root is read-only; logs, temp and state that must not survive a reboot live in RAM.",
             "# <fs>  <mountpoint>  <type>  <options>  <dump>  <pass>"]
    for i, part in enumerate(partitions(profile), start=1):
        lines.append(f"PARTUUID={partuuid(version, profile.name, i)}  {part.mountpoint}  {part.fs}  "
                     f"{part.options}  0  {part.fsck_pass}")
    for point, size in (("/tmp", "64m"), ("/var/tmp", "16m"), ("/var/log", "16m"), ("/var/lib/systemd", "4m"),
                        ("/var/lib/alsa", "1m")):
        lines.append(f"tmpfs  {point}  tmpfs  mode={'1777' if 'tmp' in point else '0755'},nosuid,nodev,size={size}"
                     "  0  0")
    return "\n".join(lines) + "\n"


def cmdline(profile: Profile, version: str) -> str:
    root = f"PARTUUID={partuuid(version, profile.name, 2)}"
    common = f"root={root} rootfstype=ext4 ro rootwait fsck.repair=yes panic=10"
    if profile.name == "qemu":
        return f"console={profile.kernel_console} {common} loglevel=4 systemd.show_status=error"
    return f"console={profile.kernel_console} {common} quiet loglevel=3 systemd.show_status=error"


def rpi_config_txt() -> str:
    return textwrap.dedent("""\
        # Tolk firmware — Raspberry Pi 4 / 5 boot configuration
        [all]
        arm_64bit=1
        kernel=kernel_2712.img
        auto_initramfs=0
        disable_splash=1
        # UART console on GPIO 14/15 (pins 8/10): the Tolk serial console, 115200 8N1
        enable_uart=1
        dtparam=uart0=on
        # SPI0 for the ST7789 panel (CE0, DC on GPIO 24, RST on GPIO 25, backlight on GPIO 18)
        dtparam=spi=on
        # I2S sound (e.g. a MAX98357A amplifier + an SPH0645 / INMP441 microphone); USB audio needs nothing here
        dtparam=i2s=on
        dtoverlay=googlevoicehat-soundcard
        dtparam=audio=off
        # USB-C as a serial gadget (/dev/ttyGS0): the console over a USB cable, no adapter
        dtoverlay=dwc2,dr_mode=peripheral
        # The power button on GPIO 3 is Tolk's (held 3 s: clean shutdown, with a notice on the screen); no
        # gpio-shutdown overlay, which would take the pin from it. GPIO 3 low also wakes a halted board.
        # Leave GPU memory small: no desktop
        gpu_mem=16

        [pi4]
        kernel=kernel8.img
        """)


# Files the rpi profile needs from a Raspberry Pi kernel+firmware folder (the boot partition of Raspberry
# Pi OS, or their raspi-firmware/linux-image packages unpacked): checked before anything is built.
# BCM pins that config.txt hands to kernel drivers: no button may use them.
RPI_RESERVED_PINS = {"spi0": (7, 8, 9, 10, 11), "uart0": (14, 15), "i2s": (18, 19, 20, 21), "st7789 dc/rst": (24, 25)}

RPI_BOOT_FILES = ("start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb", "bcm2712-rpi-5-b.dtb", "kernel8.img",
                  "kernel_2712.img", "overlays/googlevoicehat-soundcard.dtbo", "overlays/dwc2.dtbo")


def tolk_service(profile: Profile) -> str:
    env = "\n".join(f"Environment={e}" for e in ("TOLK_DATA_DIR=" + DATA_DIR, "PYTHONDONTWRITEBYTECODE=1",
                                                  "HOME=/run/tolk", *profile.service_env))
    text = textwrap.dedent(f"""\
        [Unit]
        Description=Tolk offline interpreter (buttons, screen, microphone, speaker)
        Documentation=file:///usr/share/doc/tolk/README.md
        Requires=data.mount
        After=data.mount local-fs.target sound.target tolk-expand-data.service
        StartLimitIntervalSec=300
        StartLimitBurst=5

        [Service]
        Type=notify
        NotifyAccess=main
        ExecStart={VENV}/bin/tolk run --config /etc/tolk/config.toml
        # the controller's main loop pings the watchdog; a hung loop is restarted
        WatchdogSec={profile.watchdog_sec}
        TimeoutStartSec={profile.start_timeout_sec}
        Restart=on-failure
        RestartSec=2
        MemoryMax={profile.memory_max}
        OOMScoreAdjust=-500
        RuntimeDirectory=tolk
        @ENV@
        # root only for GPIO/SPI/sound and power-off; everything else is closed off
        ProtectSystem=strict
        ReadWritePaths={DATA_MOUNT}
        ProtectHome=yes
        PrivateTmp=yes
        NoNewPrivileges=yes
        ProtectKernelTunables=yes
        ProtectControlGroups=yes
        RestrictAddressFamilies=AF_UNIX
        IPAddressDeny=any

        [Install]
        WantedBy=multi-user.target
        """)
    return text.replace("@ENV@", env)


def console_service() -> str:
    return textwrap.dedent(f"""\
        [Unit]
        Description=Tolk serial debug console on %I
        Documentation=file:///usr/share/doc/tolk/README.md
        BindsTo=dev-%i.device
        After=dev-%i.device systemd-user-sessions.service
        Conflicts=serial-getty@%i.service

        [Service]
        ExecStart={VENV}/bin/tolk console --port /dev/%I --baud 115200
        Environment=TOLK_DATA_DIR={DATA_DIR}
        Environment=PYTHONDONTWRITEBYTECODE=1
        Environment=HOME=/run
        Restart=always
        RestartSec=1
        UtmpIdentifier=%I
        ProtectSystem=strict
        ReadWritePaths={DATA_MOUNT}
        PrivateTmp=yes
        IPAddressDeny=any

        [Install]
        WantedBy=multi-user.target
        """)


def expand_service() -> str:
    return textwrap.dedent("""\
        [Unit]
        Description=Grow the Tolk data partition to fill the card (first boot)
        Requires=data.mount
        After=data.mount
        Before=tolk.service
        ConditionPathExists=!/data/.expanded

        [Service]
        Type=oneshot
        ExecStart=/usr/lib/tolk/expand-data
        RemainAfterExit=yes

        [Install]
        WantedBy=multi-user.target
        """)


EXPAND_SCRIPT = """\
#!/bin/sh
# Grow the data partition (the last one) to the end of the card, then its ext4 online. Once.
set -eu
dev=$(findmnt -no SOURCE /data)
disk=/dev/$(lsblk -no PKNAME "$dev")
part=$(cat "/sys/class/block/$(basename "$dev")/partition")
before=$(df -m --output=size /data | tail -1)
out=$(growpart "$disk" "$part" 2>&1) || case "$out" in NOCHANGE*) ;; *) echo "$out" >&2; exit 1;; esac
resize2fs "$dev"
sync
touch /data/.expanded
echo "data partition: ${before} MB -> $(df -m --output=size /data | tail -1) MB"
"""

JOURNALD = """\
[Journal]
# logs live in RAM (the root is read-only; the SD card is spared); `tolk console` -> log tail
Storage=volatile
RuntimeMaxUse=16M
"""

LOGIND = """\
[Login]
# a power key (the Pi 5's button, an ACPI/GPIO power button) shuts down cleanly
HandlePowerKey=poweroff
HandlePowerKeyLongPress=poweroff
"""

ASOUND = """\
# Tolk: microphone and speaker on ALSA's first card; pick another by name in /etc/tolk/config.toml
# (input_device / output_device) or change the card here.
defaults.pcm.card 0
defaults.ctl.card 0
"""


def files(profile: Profile, version: str, debug: bool = False) -> dict[str, tuple[str, int]]:
    """Every file the recipe writes into the root filesystem: path -> (text, mode)."""
    out = {
        "/etc/fstab": (fstab(profile, version), 0o644),
        "/etc/hostname": ("tolk\n", 0o644),
        "/etc/hosts": ("127.0.0.1 localhost\n127.0.1.1 tolk\n", 0o644),
        "/etc/machine-id": ("", 0o444),  # empty: systemd keeps a fresh id in RAM on a read-only root
        "/etc/tolk/config.toml": (profile.config_toml, 0o644),
        "/etc/systemd/system/tolk.service": (tolk_service(profile), 0o644),
        "/etc/systemd/system/tolk-console@.service": (console_service(), 0o644),
        "/etc/systemd/system/tolk-expand-data.service": (expand_service(), 0o644),
        "/usr/lib/tolk/expand-data": (EXPAND_SCRIPT, 0o755),
        "/etc/systemd/journald.conf.d/tolk.conf": (JOURNALD, 0o644),
        "/etc/systemd/logind.conf.d/tolk.conf": (LOGIND, 0o644),
        "/etc/asound.conf": (ASOUND, 0o644),
        "/etc/modules-load.d/tolk.conf": ("".join(m + "\n" for m in profile.modules), 0o644),
        "/etc/tolk/build-profile": (f"{profile.name}{' debug' if debug else ''}\n", 0o644),
    }
    if profile.name == "rpi":
        out["/etc/udev/rules.d/60-tolk-gpio.rules"] = (
            'SUBSYSTEM=="gpio", GROUP="root", MODE="0660"\nSUBSYSTEM=="spidev", GROUP="root", MODE="0660"\n', 0o644)
    return out


def boot_files(profile: Profile, version: str) -> dict[str, str]:
    """Text files on the FAT boot partition (the kernel and firmware are copied beside them)."""
    out = {"cmdline.txt": cmdline(profile, version) + "\n"}
    if profile.name == "rpi":
        out["config.txt"] = rpi_config_txt()
    out["tolk-version.txt"] = f"Tolk {version} ({profile.name})\n"
    return out


def enabled_units(profile: Profile, debug: bool) -> list[str]:
    units = ["tolk.service", "tolk-expand-data.service"] + [f"tolk-console@{tty}.service"
                                                            for tty in profile.console_ttys]
    if debug:
        units.append(f"serial-getty@{'hvc0' if profile.name == 'qemu' else 'tty1'}.service")
    return units


def masked_units(profile: Profile) -> list[str]:
    # no login getty where the Tolk console listens (the kernel console would otherwise get one)
    return list(MASKED_UNITS) + [f"serial-getty@{tty}.service" for tty in profile.console_ttys]


@dataclass
class BuildOptions:
    profile: Profile
    version: str
    debug: bool = False
    mirror: str = DEFAULT_MIRROR
    rpi_firmware: str | None = None
    extra: dict = field(default_factory=dict)
