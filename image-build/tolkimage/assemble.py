"""The card image from three folders, with no loop devices and no mounts: FAT boot, ext4 root, ext4 data, MBR."""
from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import recipe

log = logging.getLogger(__name__)
MB = 2**20
ALIGN_MB = 4  # partitions start on 4 MiB boundaries (SD erase blocks)


@dataclass(frozen=True)
class Layout:
    start_mb: int
    size_mb: int
    partition: recipe.Partition


def folder_mb(folder: Path) -> int:
    out = subprocess.run(["du", "-s", "--block-size=1M", "--apparent-size", str(folder)], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[0])


def plan(profile: recipe.Profile, root_mb: int, data_mb: int) -> list[Layout]:
    """Start and size of each partition. ext4 gets ~25 % + 64 MiB headroom for metadata and journal;
    data grows to the whole card on first boot."""
    sizes = {"boot": profile.boot_mb, "root": int(root_mb * 1.25) + 64, "data": int(data_mb * 1.25) + 64}
    layout, start = [], ALIGN_MB
    for part in recipe.partitions(profile):
        size = -(-sizes[part.name] // ALIGN_MB) * ALIGN_MB
        layout.append(Layout(start, size, part))
        start += size
    return layout


def make_fs(part: recipe.Partition, folder: Path, image: Path, size_mb: int, uuid_seed: str, epoch: int) -> None:
    if image.exists():
        image.unlink()
    if part.fs == "vfat":
        volume_id = uuid_seed[:8]
        subprocess.run(["mkfs.vfat", "-C", "-F", "32", "-n", part.label, "-i", volume_id, "--invariant",
                        str(image), str(size_mb * 1024)], check=True, stdout=subprocess.DEVNULL)
        entries = [str(p) for p in sorted(folder.iterdir())]
        if entries:
            subprocess.run(["mcopy", "-s", "-p", "-m", "-i", str(image), *entries, "::"], check=True,
                           env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
        return
    uuid = f"{uuid_seed[:8]}-{uuid_seed[8:12]}-4{uuid_seed[13:16]}-8{uuid_seed[17:20]}-{uuid_seed[20:32]}"
    env = {**os.environ, "E2FSPROGS_FAKE_TIME": str(epoch)}
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", part.label, "-U", uuid, "-E",
                    f"hash_seed={uuid},root_owner=0:0", "-d", str(folder), str(image), f"{size_mb}M"],
                   check=True, env=env)


def write_image(out: Path, layout: list[Layout], fs_images: dict[str, Path], disk_id: str) -> Path:
    total_mb = layout[-1].start_mb + layout[-1].size_mb
    partial = out.with_suffix(".partial")
    with open(partial, "wb") as f:
        f.truncate(total_mb * MB)
    types = {"vfat": "c", "ext4": "83"}
    script = [f"label: dos", f"label-id: 0x{disk_id}", "unit: sectors"]
    for item in layout:
        bootable = ", bootable" if item.partition.name == "boot" else ""
        script.append(f"start={item.start_mb * 2048}, size={item.size_mb * 2048}, "
                      f"type={types[item.partition.fs]}{bootable}")
    subprocess.run(["sfdisk", "-q", str(partial)], input="\n".join(script) + "\n", text=True, check=True)
    for item in layout:
        subprocess.run(["dd", f"if={fs_images[item.partition.name]}", f"of={partial}", "bs=4M",
                        f"seek={item.start_mb * MB}", "oflag=seek_bytes", "conv=notrunc,sparse", "status=none"],
                       check=True)
    partial.rename(out)
    return out


def check_filesystems(fs_images: dict[str, Path]) -> None:
    for name, image in fs_images.items():
        tool = ["fsck.vfat", "-n"] if name == "boot" else ["e2fsck", "-fn"]
        result = subprocess.run([*tool, str(image)], capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"error: [IMAGE-FSCK] {name} file system is not clean:\n{result.stdout}{result.stderr}")
