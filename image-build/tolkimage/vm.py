"""Boot a Tolk image under qemu-system-aarch64 and talk to it: the serial console (Tolk's, JSON mode) and QMP."""
from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)
MB = 2**20


class VmError(Exception):
    pass


def partitions(image: Path) -> list[dict]:
    """Start and size in bytes of each partition of ``image`` (sfdisk's JSON)."""
    table = json.loads(subprocess.run(["sfdisk", "-J", str(image)], check=True, capture_output=True,
                                      text=True).stdout)["partitiontable"]
    sector = table.get("sectorsize", 512)
    return [{"start": p["start"] * sector, "size": p["size"] * sector} for p in table["partitions"]]


def extract_partition(image: Path, index: int, dest: Path) -> Path:
    part = partitions(image)[index]
    subprocess.run(["dd", f"if={image}", f"of={dest}", "bs=4M", f"skip={part['start']}", f"count={part['size']}",
                    "iflag=skip_bytes,count_bytes", "conv=sparse", "status=none"], check=True)
    return dest


def boot_file(image: Path, name: str, dest: Path) -> Path:
    """Copy ``name`` out of the FAT boot partition (mtools reads at an offset: no mounts)."""
    start = partitions(image)[0]["start"]
    subprocess.run(["mcopy", "-o", "-i", f"{image}@@{start}", f"::{name}", str(dest)], check=True,
                   env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"})
    return dest


class Serial:
    """The emulated UART: everything received is kept (and logged to a file) and searched by ``expect``."""

    def __init__(self, path: Path, log_file: Path) -> None:
        self.sock = _connect(path)
        self.buffer = b""
        self.lock = threading.Lock()
        self.log = open(log_file, "ab")
        self.closed = False
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                self.closed = True
                return
            with self.lock:
                self.buffer += data
            self.log.write(data)
            self.log.flush()

    def mark(self) -> int:
        with self.lock:
            return len(self.buffer)

    def since(self, mark: int) -> bytes:
        with self.lock:
            return self.buffer[mark:]

    def write(self, data: bytes) -> None:
        for i in range(0, len(data), 16):  # a human-ish pace: the guest UART has a small FIFO
            self.sock.sendall(data[i:i + 16])
            time.sleep(0.01)

    def expect(self, needle: bytes, mark: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                at = self.buffer.find(needle, mark)
            if at >= 0:
                return at + len(needle)
            if self.closed:
                raise VmError("serial closed (the VM stopped)")
            time.sleep(0.05)
        raise VmError(f"timed out after {timeout:.0f} s waiting for {needle!r}")

    def close(self) -> None:
        self.sock.close()
        self.log.close()


class Qmp:
    def __init__(self, path: Path) -> None:
        self.sock = _connect(path)
        self.file = self.sock.makefile("rwb")
        self._read()  # greeting
        self.command("qmp_capabilities")

    def _read(self) -> dict:
        while True:
            line = self.file.readline()
            if not line:
                raise VmError("QMP closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, name: str, **arguments) -> dict:
        self.file.write(json.dumps({"execute": name, **({"arguments": arguments} if arguments else {})}).encode()
                        + b"\n")
        self.file.flush()
        reply = self._read()
        if "error" in reply:
            raise VmError(f"QMP {name}: {reply['error']}")
        return reply.get("return", {})

    def close(self) -> None:
        self.sock.close()


def _connect(path: Path, timeout: float = 30) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(path))
            return sock
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Vm:
    """A virt machine (Cortex-A76) booting the image's own kernel, initrd and cmdline.txt."""

    def __init__(self, image: Path, work: Path, *, memory_mb: int = 2048, cpus: int = 2, grow_mb: int = 256) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.disk = work / "disk.img"
        subprocess.run(["cp", "--sparse=always", str(image), str(self.disk)], check=True)
        if grow_mb:  # a bigger card than the image: first boot must grow the data partition
            with open(self.disk, "r+b") as f:
                f.truncate(self.disk.stat().st_size + grow_mb * MB)
        self.kernel = boot_file(self.disk, "vmlinuz", work / "vmlinuz")
        self.initrd = boot_file(self.disk, "initrd.img", work / "initrd.img")
        self.cmdline = boot_file(self.disk, "cmdline.txt", work / "cmdline.txt").read_text().strip()
        self.memory_mb, self.cpus = memory_mb, cpus
        self.proc: subprocess.Popen | None = None
        self.serial: Serial | None = None
        self.qmp: Qmp | None = None

    def start(self) -> None:
        for sock in ("serial.sock", "qmp.sock", "debug.sock"):
            (self.work / sock).unlink(missing_ok=True)
        cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a76", "-smp", str(self.cpus),
               "-m", str(self.memory_mb), "-display", "none", "-monitor", "none", "-nic", "none",
               "-kernel", str(self.kernel), "-initrd", str(self.initrd), "-append", self.cmdline,
               "-drive", f"file={self.disk},format=raw,if=virtio,cache=writeback",
               "-device", "virtio-rng-pci",
               # a second console (hvc0): a debug build (--debug) gives a root login there; release builds nothing
               "-device", "virtio-serial-pci",
               "-chardev", f"socket,id=debug,path={self.work / 'debug.sock'},server=on,wait=off",
               "-device", "virtconsole,chardev=debug",
               # a sound card for PortAudio: HDA with a duplex codec; what the guest plays goes to speaker.wav
               "-audiodev", f"wav,id=snd0,path={self.work / 'speaker.wav'}",
               "-device", "intel-hda", "-device", "hda-duplex,audiodev=snd0",
               "-serial", f"unix:{self.work / 'serial.sock'},server=on,wait=off",
               "-qmp", f"unix:{self.work / 'qmp.sock'},server=on,wait=off"]
        log.info("starting: %s", " ".join(cmd))
        self.proc = subprocess.Popen(cmd, stdout=open(self.work / "qemu.log", "ab"), stderr=subprocess.STDOUT)
        self.serial = Serial(self.work / "serial.sock", self.work / "serial.log")
        self.qmp = Qmp(self.work / "qmp.sock")

    def reset(self) -> None:
        """A power cut and power-on: the guest gets no warning, unwritten caches are gone."""
        assert self.qmp
        self.qmp.command("system_reset")

    def power_button(self) -> None:
        assert self.qmp
        self.qmp.command("system_powerdown")

    def wait_exit(self, timeout: float) -> int:
        assert self.proc
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for part in (self.serial, self.qmp):
            if part:
                part.close()


class Console:
    """Tolk's serial console in JSON mode: one command, one JSON reply."""

    PROMPT = b"tolk> "

    def __init__(self, serial: Serial) -> None:
        self.serial = serial

    def wait_prompt(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            mark = self.serial.mark()
            self.serial.write(b"\r")
            try:
                self.serial.expect(self.PROMPT, mark, 5)
                return
            except VmError:
                if time.monotonic() > deadline:
                    raise VmError(f"no Tolk console prompt within {timeout:.0f} s") from None

    def command(self, line: str, timeout: float = 120) -> dict:
        """Send ``line``; the reply is the first whole line after it that is a JSON object (in JSON mode the
        console prints no prompt; kernel or echo lines around it are skipped)."""
        mark = self.serial.mark()
        self.serial.write(line.encode() + b"\r")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.serial.since(mark).decode("utf-8", "replace")
            for candidate in text.splitlines(keepends=True):
                stripped = candidate.strip()
                if candidate.endswith("\n") and stripped.startswith("{") and stripped.endswith("}"):
                    try:
                        return json.loads(stripped)
                    except json.JSONDecodeError:
                        continue
            if self.serial.closed:
                raise VmError("serial closed (the VM stopped)")
            time.sleep(0.1)
        raise VmError(f"no JSON reply to {line!r} within {timeout:.0f} s: {self.serial.since(mark)[-500:]!r}")

    def send_only(self, line: str) -> None:
        self.serial.write(line.encode() + b"\r")


def have_qemu() -> bool:
    return shutil.which("qemu-system-aarch64") is not None
