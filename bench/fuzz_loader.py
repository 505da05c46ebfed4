"""Fuzz the image loader: mutated PNG/JPEG/BMP/TIFF/GIF/DICOM files and random bytes through load_image + preprocess.

    python bench/fuzz_loader.py --n 10000 [--seed 0] [--timeout 10]

The loader's contract: it returns an RGB image or raises ImageLoadError; anything else escaping is a bug and is
counted as "unhandled" (target 0). Each unhandled input is saved under bench/out/fuzz/ to reproduce it. Inputs
that hit the loader's last-resort "decoder error" branch are counted too: handled, but with a generic message.
An input taking longer than --timeout seconds is counted as a hang.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import resource
import signal
import struct
import sys
import tempfile
import time
import traceback
import zlib
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.core.imageio import IMAGE_SUFFIXES, ImageLoadError, frame_count, load_image
from desktop_app.core.preprocessing import preprocess
from tests.trust.fuzz_seeds import SEED_SUFFIXES, mutate, seed_files

OUT_DIR = ROOT / "bench" / "out" / "fuzz"
#: What decoders are documented to raise on bad data; other types reaching the loader's handlers are counted.
DOCUMENTED_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    ImageLoadError,
    MemoryError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
)
#: The loader's message for an exception type it has no specific wording for (see describe_decode_error).
LAST_RESORT = re.compile(r"\(decoder error ([A-Za-z_][A-Za-z0-9_.]*): ")


class Hang(Exception):
    """Raised by the alarm when one input takes too long."""


def _on_alarm(_signum: int, _frame: object) -> None:
    raise Hang


def message_category(message: str) -> str:
    """The message without the file name and variable details, to group outcomes."""
    text = message.split(": ", 1)[-1]
    text = re.sub(r"\(.*", "", text)
    text = re.sub(r"\d+", "N", text)
    return text.strip()[:70]


def run(n: int, seed: int, timeout: float) -> dict[str, object]:
    rng = random.Random(seed)
    seeds = seed_files()
    names = sorted(seeds)
    outcomes: collections.Counter[str] = collections.Counter()
    messages: collections.Counter[str] = collections.Counter()
    unhandled: list[dict[str, str]] = []
    hangs = 0
    generic: collections.Counter[str] = collections.Counter()
    undocumented: collections.Counter[str] = collections.Counter()
    slowest = (0.0, "")
    signal.signal(signal.SIGALRM, _on_alarm)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for index in range(n):
            if rng.random() < 0.1:
                data, origin = rng.randbytes(rng.randint(0, 4096)), "random"
                suffix = rng.choice(sorted(IMAGE_SUFFIXES))
            else:
                origin = rng.choice(names)
                data, suffix = mutate(seeds[origin], rng), SEED_SUFFIXES[origin]
            path = Path(folder) / f"input{suffix}"
            path.write_bytes(data)
            frame = 1 if rng.random() < 0.1 else 0
            began = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                if frame:
                    frame_count(path)
                image = load_image(path, frame=frame)
                preprocess(image, (32, 32))
                outcomes["loaded"] += 1
            except ImageLoadError as error:
                outcomes["ImageLoadError"] += 1
                messages[message_category(str(error))] += 1
                last_resort = LAST_RESORT.search(str(error))
                if last_resort:
                    generic[last_resort.group(1)] += 1
                cause = error.__cause__
                if cause is not None and not isinstance(cause, DOCUMENTED_DECODE_ERRORS):
                    undocumented[type(cause).__name__] += 1
            except Hang:
                hangs += 1
                outcomes["hang"] += 1
                _save(index, origin, suffix, data, "hang")
            except Exception as error:  # noqa: BLE001 - the point is to count these
                outcomes["unhandled"] += 1
                saved = _save(index, origin, suffix, data, type(error).__name__)
                unhandled.append(
                    {
                        "input": str(saved),
                        "origin": origin,
                        "error": f"{type(error).__name__}: {error}",
                        "where": traceback.format_exc(limit=-2),
                    }
                )
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.perf_counter() - began
            if elapsed > slowest[0]:
                slowest = (elapsed, origin)
    total_seconds = time.perf_counter() - started
    return {
        "inputs": n,
        "seed": seed,
        "outcomes": dict(outcomes),
        "unhandled": outcomes["unhandled"],
        "hangs": hangs,
        "handled_by_last_resort_branch": sum(generic.values()),
        "last_resort_exception_types": dict(generic.most_common()),
        "undocumented_decoder_exceptions_converted": dict(undocumented.most_common()),
        "messages": dict(messages.most_common()),
        "unhandled_examples": unhandled[:20],
        "seconds": round(total_seconds, 1),
        "slowest_input_seconds": round(slowest[0], 3),
        "slowest_input_origin": slowest[1],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _save(index: int, origin: str, suffix: str, data: bytes, kind: str) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{kind}_{index:06d}_{origin}{suffix}"
    path.write_bytes(data)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000, help="number of inputs (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds before an input counts as a hang"
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    report = run(args.n, args.seed, args.timeout)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(
        f"\n{report['inputs']} inputs: {report['unhandled']} unhandled exceptions, {report['hangs']} hangs, "
        f"{report['handled_by_last_resort_branch']} via the last-resort branch, {report['seconds']} s",
        file=sys.stderr,
    )
    return 1 if report["unhandled"] or report["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
