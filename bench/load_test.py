"""Load test: 1,000 synthetic images through the batch path, headless core and the Qt app, memory and UI stalls.

    python bench/load_test.py [--model M] [--n 1000] [--bad-every 50] [--phases core gui]

A temporary folder gets ``--n`` ultrasound-like 560x440 grey PNGs plus one damaged file every ``--bad-every``
images (truncated PNG, text named .png, zero bytes), so the batch must also carry on past errors. Each phase runs in
its own process so its peak memory is its own:

- core: ``desktop_app.core.batch.classify_files`` (what the CLI runs);
- gui: the offscreen main window classifies the folder while a 10 ms QTimer heartbeat measures how late the UI event
  loop runs; the worst stall is the longest gap between beats minus the 10 ms interval.

Memory: peak RSS (``ru_maxrss``) and RSS sampled every 20 ms, reported at 10 %, 50 % and 100 % of the batch, so
growth with the number of images would show. Results: JSON on stdout and in bench/out/load_test.json.
Model: --model, else assets/model.onnx, else the random DenseNet121 stand-in bench/out/standin.onnx.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

OUT = ROOT / "bench" / "out" / "load_test.json"
HEARTBEAT_MS = 10


def default_model() -> Path:
    from desktop_app.core.paths import bundled_model_path

    bundled = bundled_model_path()
    return bundled if bundled.exists() else ROOT / "bench" / "out" / "standin.onnx"


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler(threading.Thread):
    """Samples RSS every 20 ms; :meth:`mark` records the latest sample under a label."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.marks: dict[str, float] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.02):
            self.samples.append(rss_mb())

    def mark(self, label: str) -> None:
        self.marks[label] = round(rss_mb(), 1)

    def stop(self) -> dict[str, object]:
        self._halt.set()
        self.join()
        return {
            "rss_start_mb": round(self.samples[0], 1) if self.samples else None,
            "rss_sampled_max_mb": round(max(self.samples), 1) if self.samples else None,
            "rss_at_progress_mb": self.marks,
        }


def disable_ort_spinning() -> None:
    """Make every onnxruntime session of this process idle-wait instead of spin (an experiment, not app code)."""
    import onnxruntime

    original = onnxruntime.SessionOptions

    class NoSpinOptions(original):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.add_session_config_entry("session.inter_op.allow_spinning", "0")

    onnxruntime.SessionOptions = NoSpinOptions


def write_folder(folder: Path, n: int, bad_every: int) -> dict[str, int]:
    """``n`` synthetic scans plus damaged files; returns the counts."""
    from desktop_app.__main__ import synthetic_image

    bad = 0
    for i in range(n):
        synthetic_image((440, 560), seed=i).save(folder / f"scan_{i:04d}.png")
        if bad_every and i % bad_every == bad_every - 1:
            kind = bad % 3
            target = folder / f"damaged_{bad:03d}.png"
            if kind == 0:
                data = (folder / f"scan_{i:04d}.png").read_bytes()
                target.write_bytes(data[: len(data) // 3])
            elif kind == 1:
                target.write_text("not an image\n")
            else:
                target.write_bytes(b"")
            bad += 1
    return {"images": n, "damaged": bad}


def _progress_marker(sampler: RssSampler, total: int):
    marks = {max(1, total // 10): "10%", max(1, total // 2): "50%", total: "100%"}

    def on_progress(done: int, _total: int) -> None:
        for threshold, label in marks.items():
            if done >= threshold and label not in sampler.marks:
                sampler.mark(label)

    return on_progress


def run_core(model: Path, folder: Path) -> dict[str, object]:
    from desktop_app.core.batch import classify_files
    from desktop_app.core.imageio import iter_image_files
    from desktop_app.core.inference import ModelSession

    sampler = RssSampler()
    sampler.start()
    session = ModelSession.open(model)
    files = list(iter_image_files([folder]))
    sampler.mark("model_loaded")
    started = time.perf_counter()
    ok = errors = 0
    for row in classify_files(session, files, on_progress=_progress_marker(sampler, len(files))):
        ok += row.ok
        errors += not row.ok
    seconds = time.perf_counter() - started
    return {
        "files": len(files),
        "classified": ok,
        "error_rows": errors,
        "seconds": round(seconds, 1),
        "images_per_s": round(len(files) / seconds, 1),
        **sampler.stop(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def run_gui(model: Path, folder: Path) -> dict[str, object]:
    import numpy as np
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

    from desktop_app.core.imageio import iter_image_files
    from desktop_app.ui.app import create_application
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    sampler = RssSampler()
    sampler.start()
    app = create_application()
    with tempfile.TemporaryDirectory() as settings_folder:
        settings = QSettings(str(Path(settings_folder) / "load_test.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=AppSettings(settings))
        window.show()
        if not window.load_model(model):
            raise SystemExit(f"cannot load {model}")
        sampler.mark("model_loaded")
        total = len(list(iter_image_files([folder])))
        window.controller.progress.connect(_progress_marker(sampler, total))
        gaps: list[float] = []
        clock = QElapsedTimer()
        heartbeat = QTimer()
        heartbeat.setInterval(HEARTBEAT_MS)
        beat_times: list[float] = []

        def beat() -> None:
            gaps.append(clock.restart())
            beat_times.append(time.perf_counter())

        heartbeat.timeout.connect(beat)
        row_times: list[float] = []
        window.controller.row_added.connect(lambda _position: row_times.append(time.perf_counter()))
        finished: list[float] = []
        window.controller.batch_finished.connect(lambda _cancelled: finished.append(time.perf_counter()))
        clock.start()
        heartbeat.start()
        started = time.perf_counter()
        window.open_paths([folder])
        while not finished:  # the event loop, as app.exec() would run it
            app.processEvents()
            time.sleep(0.001)
        heartbeat.stop()
        rows = window.controller.rows()
        window.close()
    gap_array = np.asarray(gaps[1:], dtype=float)
    worst = int(np.argmax(gap_array))
    done_at_worst = sum(1 for moment in row_times if moment <= beat_times[1:][worst])
    return {
        "files": total,
        "rows": len(rows),
        "classified": sum(row.ok for row in rows),
        "error_rows": sum(not row.ok for row in rows),
        "seconds": round(finished[0] - started, 1),
        "images_per_s": round(total / (finished[0] - started), 1),
        "heartbeat_ms": HEARTBEAT_MS,
        "heartbeats": len(gap_array),
        "worst_stall_ms": round(float(gap_array.max()) - HEARTBEAT_MS, 1),
        "worst_stall_at_s": round(beat_times[1:][worst] - started, 2),
        "rows_done_at_worst_stall": done_at_worst,
        "stalls_over_100ms": int(np.sum(gap_array - HEARTBEAT_MS > 100)),
        "p99_gap_ms": round(float(np.percentile(gap_array, 99)), 1),
        "median_gap_ms": round(float(np.median(gap_array)), 1),
        **sampler.stop(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument(
        "--bad-every", type=int, default=50, help="one damaged file per this many images (0: none)"
    )
    parser.add_argument("--phases", nargs="+", choices=("core", "gui"), default=["core", "gui"])
    parser.add_argument(
        "--ort-no-spin",
        action="store_true",
        help="experiment: turn off onnxruntime's intra-op thread spinning (session.intra_op.allow_spinning=0)",
    )
    parser.add_argument("--run-phase", choices=("core", "gui"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    model = (args.model or default_model()).resolve()

    if args.run_phase:  # child process: one phase, JSON on the last line of stdout
        if args.ort_no_spin:
            disable_ort_spinning()
        runner = run_core if args.run_phase == "core" else run_gui
        print(json.dumps(runner(model, args.folder)))
        return 0

    if not model.exists():
        raise SystemExit(f"model not found: {model} (pass --model, or run bench/standin_model.py)")
    report: dict[str, object] = {
        "model": str(model),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "ort_intra_op_spinning": not args.ort_no_spin,
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        report["folder"] = write_folder(folder, args.n, args.bad_every)
        report["folder"]["write_seconds"] = round(time.perf_counter() - started, 1)
        for phase in args.phases:
            result = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--model",
                    str(model),
                    "--run-phase",
                    phase,
                    "--folder",
                    str(folder),
                    *(["--ort-no-spin"] if args.ort_no_spin else []),
                ],
                check=False,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                report[phase] = {"failed": result.returncode, "stderr": result.stderr[-3000:]}
                continue
            report[phase] = json.loads(result.stdout.strip().splitlines()[-1])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
