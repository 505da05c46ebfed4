"""App batch speed and UI responsiveness: how fast a folder is classified, and whether the window stays live.

    python bench/app_batch.py [--model bench/out/standin.onnx] [--n 500] [--core-n 32] [--chunks 1,4,16]

0. Speed and peak memory of one onnxruntime call per chunk size (how many images go to the model at once).
1. Core throughput (``desktop_app.core.batch.classify_files``) with decoding overlapped on 1 or 2 threads,
   against a sequential baseline (decode a chunk, then run it) and against onnxruntime's default of spinning
   idle threads (the app turns spinning off).
2. GUI: an offscreen main window classifies a folder of ``--n`` images while a 10 ms timer measures how late the
   UI event loop runs (the longest stall is what a user would feel as a frozen window).

Synthetic 560x440 grey PNGs are written to a temporary folder; results go to bench/out/app_batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

from desktop_app.__main__ import synthetic_image
from desktop_app.core.batch import classify_files
from desktop_app.core.imageio import load_image
from desktop_app.core.inference import DEFAULT_CHUNK_SIZE, ModelSession
from desktop_app.core.paths import bundled_model_path
from desktop_app.core.preprocessing import preprocess

OUT = ROOT / "bench" / "out" / "app_batch.json"


def sequential(session: ModelSession, files: list[Path]) -> None:
    """Baseline without overlap: decode a chunk on this thread, then run it."""
    for start in range(0, len(files), DEFAULT_CHUNK_SIZE):
        chunk = files[start : start + DEFAULT_CHUNK_SIZE]
        session.run(np.stack([preprocess(load_image(f), session.input_size) for f in chunk]))


def core_throughput(model: Path, files: list[Path], rounds: int = 3) -> dict[str, float]:
    """Median images/s of each variant over ``rounds`` interleaved rounds (fair on a machine with other load)."""
    session = ModelSession.open(model)
    spinning = ModelSession.open(model, allow_spinning=True)
    for warm in (session, spinning):
        warm.run(np.zeros((1, *session.input_size, 3), np.float32))
    variants = {
        "overlapped_2_decode_threads_ort_spinning": lambda: list(
            classify_files(spinning, files, decode_workers=2)
        ),
        "sequential": lambda: sequential(session, files),
        "overlapped_1_decode_thread": lambda: list(classify_files(session, files, decode_workers=1)),
        "overlapped_2_decode_threads": lambda: list(classify_files(session, files, decode_workers=2)),
    }
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            rates[name].append(len(files) / (time.perf_counter() - start))
    return {f"{name}_images_per_s": round(float(np.median(values)), 2) for name, values in rates.items()}


def chunk_memory(model: Path, chunk: int, repeats: int = 2) -> dict[str, float]:
    """Speed and peak RSS of ``session.run`` on ``chunk`` images at a time, in a fresh process."""
    code = (
        "import sys, time, resource, numpy as np\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from desktop_app.core.inference import ModelSession\n"
        f"s = ModelSession.open({str(model)!r})\n"
        f"x = np.random.default_rng(0).uniform(0, 255, ({chunk}, *s.input_size, 3)).astype(np.float32)\n"
        "s.run(x[:1])\n"
        "t = time.perf_counter()\n"
        f"for _ in range({repeats}): s.run(x, chunk_size={chunk})\n"
        f"print((time.perf_counter() - t) / {repeats * chunk}, "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, rss_mb = (float(v) for v in done.stdout.split())
    return {"chunk": chunk, "ms_per_image": round(1000 * seconds, 1), "peak_rss_mb": round(rss_mb, 1)}


def gui_responsiveness(model: Path, folder: Path, n: int) -> dict[str, float]:
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.app import create_application
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    app = create_application()
    settings = QSettings(str(folder / "bench_settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=AppSettings(settings))
    window.resize(1280, 860)
    window.show()
    assert window.load_model(model)
    gaps: list[float] = []
    beats_at: list[float] = []
    clock = QElapsedTimer()
    heartbeat = QTimer()
    heartbeat.setInterval(10)

    def beat() -> None:
        gaps.append(clock.restart())
        beats_at.append(time.perf_counter())

    heartbeat.timeout.connect(beat)
    finished: list[float] = []
    window.controller.batch_finished.connect(lambda _cancelled: finished.append(time.perf_counter()))
    clock.start()
    heartbeat.start()
    start = time.perf_counter()
    window.open_paths([folder])
    while not finished:
        app.processEvents()
        time.sleep(0.001)
    heartbeat.stop()
    QApplication.processEvents()
    rows = window.controller.rows()
    assert len(rows) == n and all(row.ok for row in rows), "every image should be classified"
    gaps_ms = np.asarray(gaps[1:], dtype=float)
    worst = int(np.argmax(gaps_ms)) + 1
    window.close()
    return {
        "images": n,
        "seconds": round(finished[0] - start, 2),
        "images_per_s": round(n / (finished[0] - start), 2),
        "ui_heartbeat_interval_ms": 10,
        "ui_max_gap_ms": float(gaps_ms.max()),
        "ui_p99_gap_ms": float(np.percentile(gaps_ms, 99)),
        "ui_median_gap_ms": float(np.median(gaps_ms)),
        "ui_gaps_over_100ms": int(np.sum(gaps_ms > 100)),
        "ui_worst_gap_ends_at_s": round(beats_at[worst] - start, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_model = ROOT / "bench" / "out" / "standin.onnx"
    parser.add_argument("--model", type=Path, default=default_model if default_model.exists() else None)
    parser.add_argument("--n", type=int, default=500, help="images for the GUI run")
    parser.add_argument(
        "--chunks", default="1,4,16", help="chunk sizes to measure speed and memory for ('': skip)"
    )
    parser.add_argument(
        "--core-n", type=int, default=96, help="images for each core throughput run (0: skip)"
    )
    args = parser.parse_args()
    model = args.model or bundled_model_path()
    session = ModelSession.open(model)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.n):
            synthetic_image((440, 560), seed=i).save(folder / f"img_{i:04d}.png")
        files = sorted(folder.glob("*.png"))
        report = {
            "model": str(model),
            "model_version": session.info.version,
            "input_size": list(session.input_size),
            "cpu_count": os.cpu_count(),
            "chunks": [chunk_memory(model, int(c)) for c in args.chunks.split(",") if c.strip()],
            "core": core_throughput(model, files[: args.core_n]) if args.core_n else None,
            "gui": gui_responsiveness(model, folder, args.n),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
