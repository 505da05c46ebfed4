"""Folder throughput end to end (decode, resize, infer, CSV) and peak memory, through the app's batch API.

    python -m bench.throughput [--model M] [--n 500] [--repeats 1] [--chunk-size K] [--workers W] [--name N]

Writes ``--n`` synthetic ultrasound-like PNGs (grey, 560x440 and a few other sizes) to a temporary folder, then in
a fresh child process per run: opens the model, classifies the folder with ``desktop_app.core.batch.classify_files``
(decoding on a thread pool, overlapped with inference) and writes the results CSV; reports images/s and the
child's peak resident memory after all images. A sequential baseline (decode a chunk, then infer it, same
chunk size) runs in the same way, for the overlap ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import default_model, peak_rss_mb, write_result

SIZES = ((440, 560), (471, 558), (600, 800), (310, 190))


def write_images(folder: Path, n: int) -> list[Path]:
    """``n`` deterministic synthetic grey PNGs of a few realistic ultrasound sizes."""
    from desktop_app.__main__ import synthetic_image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(n):
        path = folder / f"scan_{index:04d}.png"
        synthetic_image(size=SIZES[index % len(SIZES)], seed=index).save(path)
        paths.append(path)
    return paths


def child(model: Path, folder: Path, mode: str, csv_path: Path, workers: int, chunk_size: int) -> dict:
    """One measured run (in its own process, so peak memory is this run's)."""
    import numpy as np

    from desktop_app.core.batch import BatchRow, classify_files, write_csv
    from desktop_app.core.imageio import iter_image_files, load_image
    from desktop_app.core.inference import ModelSession
    from desktop_app.core.preprocessing import preprocess

    session = ModelSession.open(model)
    session.run(np.zeros((1, *session.input_size, 3), np.float32))  # warm-up, as the app does on load
    files = list(iter_image_files([folder]))
    start = time.perf_counter()
    if mode == "overlapped":
        rows = classify_files(session, files, chunk_size=chunk_size, decode_workers=workers)
        count = write_csv(rows, session.labels, csv_path)
    else:

        def sequential_rows():
            for begin in range(0, len(files), chunk_size):
                chunk = files[begin : begin + chunk_size]
                batch = np.stack([preprocess(load_image(p), session.input_size) for p in chunk])
                for offset, prediction in enumerate(session.run(batch, chunk_size)):
                    yield BatchRow(begin + offset, chunk[offset], prediction=prediction)

        count = write_csv(sequential_rows(), session.labels, csv_path)
    seconds = time.perf_counter() - start
    return {
        "images": count,
        "seconds": round(seconds, 2),
        "images_per_s": round(count / seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_child(model: Path, folder: Path, mode: str, workers: int, chunk_size: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            sys.executable,
            "-m",
            "bench.throughput",
            "--child",
            mode,
            "--model",
            str(model),
            "--folder",
            str(folder),
            "--csv",
            str(Path(scratch) / "results.csv"),
            "--workers",
            str(workers),
            "--chunk-size",
            str(chunk_size),
        ]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="default: assets/model.onnx, else the stand-in"
    )
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=1, help="runs per mode (median reported)")
    parser.add_argument("--workers", type=int, default=None, help="decode threads (default: the app's)")
    parser.add_argument("--name", default="throughput", help="result file bench/out/<name>.json")
    parser.add_argument(
        "--chunk-size", type=int, default=None, help="images per inference (default: the app's)"
    )
    parser.add_argument("--child", choices=("overlapped", "sequential"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from desktop_app.core.batch import DEFAULT_DECODE_WORKERS
    from desktop_app.core.inference import DEFAULT_CHUNK_SIZE

    workers = args.workers or DEFAULT_DECODE_WORKERS
    chunk_size = args.chunk_size or DEFAULT_CHUNK_SIZE
    model = args.model or default_model()
    if args.child:
        print(json.dumps(child(model, args.folder, args.child, args.csv, workers, chunk_size)))
        return 0

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "images"
        write_images(folder, args.n)
        runs: dict[str, list[dict]] = {"overlapped": [], "sequential": []}
        for _ in range(args.repeats):
            for mode, results in runs.items():  # interleaved, so load changes hit both
                results.append(run_child(model, folder, mode, workers, chunk_size))
    summary = {}
    for mode, results in runs.items():
        summary[mode] = {
            "images_per_s_median": round(statistics.median(r["images_per_s"] for r in results), 2),
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in results),
            "runs": results,
        }
    summary["overlap_speedup"] = round(
        summary["overlapped"]["images_per_s_median"] / summary["sequential"]["images_per_s_median"], 2
    )
    result = {
        "model": str(model),
        "images": args.n,
        "decode_workers": workers,
        "chunk_size": chunk_size,
        "repeats": args.repeats,
        "cpu_count": os.cpu_count(),
        **summary,
    }
    print(write_result(args.name, result))
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
