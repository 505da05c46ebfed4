"""Trimming ICU's data library: the blob format round-trips, the filter keeps root and English, Qt still collates."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.packaging.conftest import load_packaging_module


@pytest.fixture(scope="module")
def icu_data() -> ModuleType:
    return load_packaging_module("icu_data")


def _header() -> bytes:
    """A little-endian common-data header like ICU's (size 32: 4 bytes + 20-byte UDataInfo + padding)."""
    info = struct.pack("<HHBBBB4s4s4s", 20, 0, 0, 0, 2, 0, b"CmnD", b"\1\0\0\0", b"\3\0\0\0")
    return struct.pack("<HBB", 32, 0xDA, 0x27) + info + b"\0" * 8


def test_common_data_round_trips_sorted_and_aligned(icu_data: ModuleType) -> None:
    items = [("icudt73l/zz.res", b"z" * 5), ("icudt73l/coll/root.res", b"r" * 33), ("icudt73l/a.icu", b"\1\2")]
    blob = icu_data.write_common_data(icu_data.CommonData(_header(), items))
    parsed = icu_data.parse_common_data(blob)
    assert parsed.header == _header()
    names = [name for name, _ in parsed.items]
    assert names == sorted(name for name, _ in items)  # ICU binary-searches the table of contents
    for name, payload in parsed.items:  # items come back with their alignment padding only
        original = dict(items)[name]
        assert payload[: len(original)] == original and not payload[len(original):].strip(b"\0")
    count = struct.unpack_from("<I", blob, 32)[0]
    offsets = [struct.unpack_from("<II", blob, 36 + 8 * i)[1] for i in range(count)]
    assert all((32 + offset) % 16 == 0 for offset in offsets)


def test_parse_refuses_what_is_not_common_data(icu_data: ModuleType) -> None:
    with pytest.raises(ValueError, match="magic"):
        icu_data.parse_common_data(b"\0" * 64)
    not_common = bytearray(_header())
    not_common[12:16] = b"ResB"
    with pytest.raises(ValueError, match="common data"):
        icu_data.parse_common_data(bytes(not_common) + b"\0" * 16)


@pytest.mark.parametrize(
    ("name", "size", "kept"),
    [
        ("icudt73l/coll/root.res", 300_000, True),
        ("icudt73l/coll/ucadata.icu", 570_000, True),
        ("icudt73l/coll/en.res", 200, True),
        ("icudt73l/coll/de.res", 200, False),
        ("icudt73l/en_GB.res", 9_000, True),
        ("icudt73l/zh_Hant_TW.res", 9_000, False),
        ("icudt73l/yue.res", 9_000, False),
        ("icudt73l/pool.res", 159_000, True),
        ("icudt73l/res_index.res", 9_000, True),
        ("icudt73l/coll/res_index.res", 9_000, True),
        ("icudt73l/sr_Latn_BA.res", 9_000, False),
        ("icudt73l/es_419.res", 9_000, False),
        ("icudt73l/en_US_POSIX.res", 9_000, True),
        ("icudt73l/zoneinfo64.res", 151_000, True),
        ("icudt73l/brkitr/word.brk", 90_000, True),
        ("icudt73l/brkitr/cjdict.dict", 2_000_000, False),
        ("icudt73l/ibm-5348_P100-1997.cnv", 1_500, True),
        ("icudt73l/ibm-1390_P110-2003.cnv", 300_000, False),
    ],
)
def test_filter_keeps_root_english_and_locale_free_items(icu_data: ModuleType, name: str, size: int,
                                                         kept: bool) -> None:
    assert icu_data.keep_item(name, size) is kept


QT_CHECK = """
import functools, json
from PySide6.QtCore import QCollator, QLocale, QStringDecoder
words = ["zebra", "Banana", "apple", "\\u00c9lan", "eclair"]
print(json.dumps({
    "sorted": {loc: sorted(words, key=functools.cmp_to_key(QCollator(QLocale(loc)).compare)) for loc in ("en_US", "de_DE")},
    "upper": QLocale("tr_TR").toUpper("i"),
    "cp1252": QStringDecoder("windows-1252").isValid(),
}))
"""


def _qt_icu_library() -> Path | None:
    try:
        import PySide6
    except ImportError:
        return None
    found = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    return found[0] if found else None


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("gcc") is None or shutil.which("nm") is None
                    or _qt_icu_library() is None, reason="Linux with gcc, nm and PySide6's bundled ICU")
def test_qt_collates_with_the_trimmed_library_and_not_without_data(icu_data: ModuleType, tmp_path: Path) -> None:
    """Qt loaded with the trimmed library (LD_PRELOAD wins by soname) sorts like ICU does; with an empty data
    library it cannot create a collator and falls back to code-point order, so the check can tell them apart."""
    import json

    original = _qt_icu_library()
    trimmed = icu_data.trimmed_library(original, tmp_path / "trimmed" / original.name)
    assert trimmed.stat().st_size < original.stat().st_size / 3
    symbol, blob = icu_data.read_library_data(original)
    empty = icu_data.build_library(icu_data.write_common_data(icu_data.CommonData(
        icu_data.parse_common_data(blob).header, [])), symbol, original.name, tmp_path / "empty" / original.name)

    def run(library: Path) -> dict:
        env = dict(os.environ, LD_PRELOAD=str(library), QT_QPA_PLATFORM="offscreen")
        done = subprocess.run([sys.executable, "-c", QT_CHECK], env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    expected = ["apple", "Banana", "eclair", "\u00c9lan", "zebra"]
    with_trimmed = run(trimmed)
    assert with_trimmed["sorted"] == {"en_US": expected, "de_DE": expected}
    assert with_trimmed["upper"] == "\u0130" and with_trimmed["cp1252"] is True
    assert run(empty)["sorted"]["en_US"] != expected
