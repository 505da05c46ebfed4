"""Trim ICU's data library (``libicudata``, 32 MB) to what a Qt widgets app in English uses (about 7 MB).

Qt Core links ICU for collation (sorting file names), case mapping and text codecs. ICU's data library carries
every locale's names, units, currencies, collations, time-zone names, transliterators, word-break dictionaries and
East-Asian codec tables as one "common data" blob exported under one symbol (``icudt73_dat``). This module reads
that blob, keeps the locale-independent items plus the root and English locales, and assembles a new library with
the same soname and symbol. Any other locale falls back to root data, which is what ICU does for a locale it lacks.

Linux only (it needs ``gcc``); elsewhere :func:`trim_icu_binaries` leaves the bundle as it is.

Common data layout (ICU ``udata``): a data header (``headerSize`` uint16, magic ``0xda 0x27``, a ``UDataInfo``
with format ``CmnD``), then a table of contents: uint32 count, ``count`` pairs of uint32 (name offset, data
offset) relative to the table's start, sorted by name (ICU binary-searches it), the names, then the items.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bundle_rules import load_segments

TocEntry = tuple[str, str, str]

ITEM_ALIGNMENT = 16  # ICU's pkgdata aligns every item to 16 bytes
KEPT_LOCALES = re.compile(r"^(en|en_[A-Za-z0-9_]+)$")
# ICU locale ids: language, then subtags that start upper-case or with a digit (Latn, US, 419, POSIX). Not root,
# pool, res_index (the list of locales in each tree), supplementalData and the other locale-free tables.
LOCALE_STEM = re.compile(r"^[a-z]{2,3}(_[A-Z0-9][A-Za-z0-9]*)*$")
LARGEST_CODEC = 100_000  # bytes: drops the multi-byte East-Asian codec tables, keeps single-byte ones
_LIBRARY = re.compile(r"(^|/)libicudata\.so\.(?P<version>\d+)$")


@dataclass(frozen=True)
class CommonData:
    """An ICU common-data blob: its header bytes and its items (name, bytes) in table-of-contents order."""

    header: bytes
    items: list[tuple[str, bytes]]


def parse_common_data(blob: bytes) -> CommonData:
    """Split a common-data blob into header and items; raises ValueError if it is not one."""
    if len(blob) < 32 or blob[2:4] != b"\xda\x27":
        raise ValueError("not ICU data (magic 0xda27 missing)")
    (header_size,) = struct.unpack_from("<H", blob, 0)
    if blob[12:16] != b"CmnD":
        raise ValueError(f"not ICU common data (format {blob[12:16]!r})")
    if blob[8] != 0:
        raise ValueError("big-endian ICU data is not supported")
    toc = header_size
    (count,) = struct.unpack_from("<I", blob, toc)
    offsets = [struct.unpack_from("<II", blob, toc + 4 + 8 * index) for index in range(count)]
    items = []
    for index, (name_offset, data_offset) in enumerate(offsets):
        name_end = blob.index(b"\0", toc + name_offset)
        name = blob[toc + name_offset:name_end].decode("ascii")
        end = offsets[index + 1][1] if index + 1 < count else len(blob) - toc
        items.append((name, blob[toc + data_offset:toc + end]))
    return CommonData(blob[:header_size], items)


def write_common_data(data: CommonData) -> bytes:
    """The blob for ``data``: items sorted by name (ICU's lookup is a binary search), each 16-byte aligned."""
    items = sorted(data.items, key=lambda item: item[0].encode("ascii"))
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    table_size = 4 + 8 * len(items)
    first_item = _aligned(len(data.header) + table_size + len(names)) - len(data.header)
    name_offsets, data_offsets, body = [], [], bytearray()
    name_position = table_size
    for name, payload in items:
        name_offsets.append(name_position)
        name_position += len(name) + 1
        data_offsets.append(first_item + len(body))
        body += payload
        body += b"\0" * (_aligned(len(body)) - len(body))
    table = struct.pack("<I", len(items)) + b"".join(
        struct.pack("<II", name_offset, data_offset) for name_offset, data_offset in zip(name_offsets, data_offsets)
    )
    padding = b"\0" * (first_item - table_size - len(names))
    return data.header + table + names + padding + bytes(body)


def _aligned(size: int) -> int:
    return -(-size // ITEM_ALIGNMENT) * ITEM_ALIGNMENT


def keep_item(name: str, size: int) -> bool:
    """Whether the trimmed data keeps item ``name`` (e.g. ``icudt73l/coll/de.res``) of ``size`` bytes."""
    leaf = name.rsplit("/", 1)[-1]
    stem, _, extension = leaf.rpartition(".")
    if extension == "dict":  # word-break dictionaries (Thai, Khmer, CJK...)
        return False
    if extension == "cnv":
        return size <= LARGEST_CODEC
    if extension == "res" and LOCALE_STEM.match(stem):
        return bool(KEPT_LOCALES.match(stem))
    return True  # root, pool, res_index, properties, normalisation, time-zone rules, break rules, ...


def trim(data: CommonData) -> CommonData:
    return CommonData(data.header, [(name, payload) for name, payload in data.items if keep_item(name, len(payload))])


def read_library_data(library: Path) -> tuple[str, bytes]:
    """The exported data symbol of a ``libicudata`` (name, blob), found with ``nm`` and the ELF LOAD segments."""
    symbols = subprocess.run(["nm", "-D", "--defined-only", "-S", str(library)], check=True, capture_output=True,
                             text=True).stdout
    for line in symbols.splitlines():
        parts = line.split()
        if len(parts) == 4 and re.fullmatch(r"icudt\d+_dat", parts[3]):
            address, size, name = int(parts[0], 16), int(parts[1], 16), parts[3]
            break
    else:
        raise ValueError(f"{library}: no icudt*_dat symbol")
    for segment_offset, segment_address, file_size, _ in load_segments(library) or []:
        if segment_address <= address < segment_address + file_size:
            with open(library, "rb") as handle:
                handle.seek(segment_offset + address - segment_address)
                return name, handle.read(size)
    raise ValueError(f"{library}: {name} is in no LOAD segment of a 64-bit ELF file")


def build_library(blob: bytes, symbol: str, soname: str, out: Path) -> Path:
    """A shared library exporting ``blob`` as the read-only, 16-byte aligned object ``symbol``."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise RuntimeError("no C compiler (gcc/cc) to assemble the trimmed ICU data library")
    with tempfile.TemporaryDirectory() as folder:
        data_file = Path(folder) / "icudata.dat"
        data_file.write_bytes(blob)
        source = Path(folder) / "icudata.s"
        source.write_text(
            f'\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n{symbol}:\n'
            f'\t.incbin "{data_file}"\n\t.size {symbol}, .-{symbol}\n\t.section .note.GNU-stack,"",@progbits\n'
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([compiler, "-shared", "-nostdlib", f"-Wl,-soname,{soname}", "-o", str(out), str(source)],
                       check=True, capture_output=True)
    return out


def trimmed_library(library: Path, out: Path) -> Path:
    """Write a trimmed copy of ``library`` (a ``libicudata.so.N``) to ``out``; the soname and symbol stay."""
    symbol, blob = read_library_data(library)
    return build_library(write_common_data(trim(parse_common_data(blob))), symbol, library.name, out)


def trim_icu_binaries(binaries: list[TocEntry], work_dir: Path) -> list[TocEntry]:
    """Point a PyInstaller TOC's ``libicudata.so.N`` at a trimmed copy. No-op off Linux or without gcc and nm."""
    if not sys.platform.startswith("linux") or not (shutil.which("gcc") or shutil.which("cc")) or not shutil.which("nm"):
        return binaries
    result: list[TocEntry] = []
    for dest, src, code in binaries:
        if _LIBRARY.search(dest) and code == "BINARY" and Path(src).is_file():
            target = work_dir / Path(dest).name
            if not target.is_file() or target.stat().st_mtime < Path(src).stat().st_mtime:
                trimmed_library(Path(src), target)
            result.append((dest, str(target), code))
        else:
            result.append((dest, src, code))
    return result
