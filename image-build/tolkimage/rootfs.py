"""The arm64 Debian root filesystem: one mmdebstrap pass (cached as a tarball), then Tolk's venv in a chroot."""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

from . import recipe

log = logging.getLogger(__name__)
BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU_ENV = {"QEMU_CPU": "cortex-a76"}  # the Pi 5's core; QEMU's default CPU gave numpy false FP warnings


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    log.debug("$ %s", " ".join(cmd))
    return subprocess.run(cmd, check=True, **kwargs)


@contextlib.contextmanager
def arm64_binfmt():
    """Make the kernel run aarch64 programs through qemu-user-static (registered with the F flag,
    so it works inside a chroot); undone afterwards only if this build registered it."""
    registered_here = []
    if not (BINFMT / "register").exists():
        run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)])
        registered_here.append("mount")
    if not (BINFMT / "qemu-aarch64").exists():
        conf = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")
        if not conf.exists():
            raise SystemExit("error: [IMAGE-TOOLS] qemu-user-static is not installed (apt-get install qemu-user-static)")
        (BINFMT / "register").write_text(conf.read_text().strip())
        registered_here.append("entry")
    try:
        yield
    finally:
        if "entry" in registered_here:
            with contextlib.suppress(OSError):
                (BINFMT / "qemu-aarch64").write_text("-1")


def rootfs_key(profile: recipe.Profile, mirror: str) -> str:
    text = json.dumps([recipe.SUITE, mirror, recipe.BASE_PACKAGES, list(profile.packages), INITRAMFS_MODULES])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


INITRAMFS_MODULES = ["virtio_blk", "virtio_pci", "virtio_mmio", "ext4", "vfat"]


def debootstrap(profile: recipe.Profile, mirror: str, cache: Path) -> Path:
    """The profile's Debian root as a tarball in ``cache`` (built once per package list)."""
    tarball = cache / f"rootfs-{recipe.SUITE}-{profile.name}-{rootfs_key(profile, mirror)}.tar"
    if tarball.exists():
        log.info("root filesystem: cached %s", tarball.name)
        return tarball
    cache.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".partial.tar")
    packages = recipe.BASE_PACKAGES + list(profile.packages)
    # initramfs with only the drivers the image boots from: built once, small, fast under emulation
    hook = ('mkdir -p "$1/etc/initramfs-tools/conf.d" && echo MODULES=list > "$1/etc/initramfs-tools/conf.d/tolk.conf"'
            f' && printf "%s\\n" {" ".join(INITRAMFS_MODULES)} >> "$1/etc/initramfs-tools/modules"')
    components = "main,non-free-firmware"
    log.info("root filesystem: mmdebstrap %s arm64, %d packages (a few minutes under emulation)", recipe.SUITE,
             len(packages))
    run(["mmdebstrap", "--architectures=arm64", "--variant=minbase", f"--components={components}",
         "--include=" + ",".join(packages), f"--essential-hook={hook}",
         "--customize-hook=chroot \"$1\" apt-get clean", "--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/*",
         recipe.SUITE, str(partial), mirror], env={**os.environ, **QEMU_ENV})
    partial.rename(tarball)
    return tarball


def extract(tarball: Path, root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    run(["tar", "-xpf", str(tarball), "--numeric-owner", "-C", str(root)])


@contextlib.contextmanager
def chroot_mounts(root: Path):
    """/proc and /dev for programs in the chroot. Never /sys: onnxruntime and piper crash reading the host's
    x86 CPU files through it. The host's CA bundle is bound in for the build only (intercepted TLS)."""
    mounted = []
    try:
        for src, dst, opts in (("proc", root / "proc", ["-t", "proc"]), ("/dev", root / "dev", ["--bind"]),
                               ("/dev/pts", root / "dev/pts", ["--bind"])):
            dst.mkdir(parents=True, exist_ok=True)
            run(["mount", *opts, src, str(dst)])
            mounted.append(dst)
        yield
    finally:
        for dst in reversed(mounted):
            subprocess.run(["umount", "-l", str(dst)], check=False)


def chroot(root: Path, cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root", **QEMU_ENV,
           **kwargs.pop("env", {})}
    return run(["chroot", str(root), *cmd], env=env, **kwargs)


def download_wheels(project: Path, python: str, constraints: Path, extra: list[str], dest: Path) -> list[Path]:
    """Tolk's wheel plus every aarch64 CPython 3.11 wheel it needs, fetched on the host (fast, no emulation)."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("tolk-*.whl"):
        old.unlink()
    env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
    run([python, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dest), str(project)],
        env=env)
    (tolk_wheel,) = dest.glob("tolk-*.whl")
    platforms = ["manylinux_2_36_aarch64", "manylinux_2_28_aarch64", "manylinux_2_17_aarch64",
                 "manylinux2014_aarch64", "linux_aarch64"]
    cmd = [python, "-m", "pip", "download", "-q", "--only-binary=:all:", "--python-version", "3.11",
           "--implementation", "cp", "--abi", "cp311", "-c", str(constraints), "-d", str(dest)]
    for platform in platforms:
        cmd += ["--platform", platform]
    run(cmd + [str(tolk_wheel), *extra], env=env)
    return sorted(dest.glob("*.whl"))


def install_venv(root: Path, wheels: list[Path], profile: recipe.Profile) -> None:
    """A venv at recipe.VENV with Tolk and its pinned dependencies, installed inside the arm64 chroot
    from the downloaded wheels only (no index: exactly those files)."""
    staged = root / "var/tmp/tolk-wheels"
    staged.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        shutil.copy2(wheel, staged / wheel.name)
    tolk = next(w.name for w in wheels if w.name.startswith("tolk-"))
    venv_args = ["--system-site-packages"] if profile.name == "rpi" else []  # Debian's spidev/lgpio
    with chroot_mounts(root):
        chroot(root, ["python3", "-m", "venv", *venv_args, recipe.VENV])
        chroot(root, [f"{recipe.VENV}/bin/pip", "install", "-q", "--no-index", "--no-cache-dir",
                      "--find-links", "/var/tmp/tolk-wheels", f"/var/tmp/tolk-wheels/{tolk}",
                      *profile.extra_venv])
        drop_build_tooling(root)
        # bytecode now: the root is read-only on the device
        chroot(root, [f"{recipe.VENV}/bin/python", "-m", "compileall", "-q", "-j", "0", recipe.VENV],
               stdout=subprocess.DEVNULL)
        chroot(root, [f"{recipe.VENV}/bin/tolk", "--help"], stdout=subprocess.DEVNULL)
        # the Kokoro voice's runtime on arm64: onnxruntime, and phonemes from libespeak-ng and pypinyin
        chroot(root, [f"{recipe.VENV}/bin/python", "-c", KOKORO_SMOKE], stdout=subprocess.DEVNULL)
    shutil.rmtree(staged)


KOKORO_SMOKE = ("import onnxruntime\n"
                "from tolk.models.g2p import phonemize\n"
                "assert phonemize('Hola.', 'es') and phonemize('\u4f60\u597d', 'zh'), 'no phonemes'\n"
                "print(onnxruntime.__version__)\n")


def drop_build_tooling(root: Path) -> int:
    """Remove the build-host subpackages (converters, fetchers, catalogue, tiny models, eval) from the image's
    venv: the device runtime never imports them (import-linter contract). Returns the bytes saved."""
    saved = 0
    for site in (root / recipe.VENV.lstrip("/")).glob("lib/python3*/site-packages"):
        for rel in recipe.BUILD_ONLY_PACKAGES:
            folder = site / rel
            if folder.is_dir():
                saved += sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
                shutil.rmtree(folder)
    log.info("left the build tooling out of the image: %d kB", saved // 1024)
    return saved


def configure(root: Path, profile: recipe.Profile, version: str, debug: bool) -> None:
    """Write the recipe's files, enable and mask units, and prepare mount points."""
    for path, (text, mode) in recipe.files(profile, version, debug).items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(text)
        target.chmod(mode)
    for point in ("boot/firmware", "data", "var/lib/systemd", "var/lib/alsa"):
        (root / point).mkdir(parents=True, exist_ok=True)
    with chroot_mounts(root):
        chroot(root, ["systemctl", "enable", *recipe.enabled_units(profile, debug)], stderr=subprocess.DEVNULL)
        chroot(root, ["systemctl", "mask", *recipe.masked_units(profile)], stderr=subprocess.DEVNULL)
        if debug:
            chroot(root, ["passwd", "-d", "root"])
    docs = root / "usr/share/doc/tolk"
    docs.mkdir(parents=True, exist_ok=True)


def dpkg_packages(root: Path) -> list[dict]:
    out = subprocess.run(["chroot", str(root), "dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Architecture}\n"],
                         check=True, capture_output=True, text=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **QEMU_ENV}).stdout
    return [dict(zip(("name", "version", "arch"), line.split("\t"))) for line in out.splitlines() if line]


def slim(root: Path) -> None:
    """Drop what a sealed appliance never reads: docs, man pages, locales but C/en, apt caches."""
    for rel in ("usr/share/man", "usr/share/info", "var/cache/apt", "var/lib/apt/lists", "var/cache/debconf/templates.dat-old"):
        target = root / rel
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    doc = root / "usr/share/doc"
    for entry in doc.iterdir() if doc.is_dir() else ():
        if entry.name == "tolk":
            continue
        for item in entry.iterdir() if entry.is_dir() and not entry.is_symlink() else ():
            if item.name != "copyright":  # licences stay
                shutil.rmtree(item) if item.is_dir() and not item.is_symlink() else item.unlink()
