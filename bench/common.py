"""Shared helpers for the benchmarks: timing with medians, machine description, result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from training.precision import NATIVE_BF16_CPU_FLAGS, cpu_flags

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
#: Written by ``python -m bench.standin_model`` with the default recipe (see bench/standin_model.py).
STANDIN_MODEL = OUT / "standin_recipe.onnx"
REAL_MODEL = ROOT / "assets" / "model.onnx"


def default_model() -> Path:
    """The trained model when it exists, else the random-weight stand-in (same architecture and input size)."""
    return REAL_MODEL if REAL_MODEL.is_file() else STANDIN_MODEL


def summarise(samples: list[float]) -> dict[str, float]:
    """Median, quartiles, min and count of timing samples (seconds in, milliseconds out)."""
    ms = sorted(1000.0 * s for s in samples)
    quartiles = statistics.quantiles(ms, n=4) if len(ms) >= 2 else [ms[0], ms[0], ms[0]]
    return {
        "median_ms": round(statistics.median(ms), 2),
        "p25_ms": round(quartiles[0], 2),
        "p75_ms": round(quartiles[2], 2),
        "min_ms": round(ms[0], 2),
        "n": len(ms),
    }


def time_interleaved(
    candidates: dict[str, Callable[[], object]], repeats: int, warmup: int = 3
) -> dict[str, list[float]]:
    """Time each candidate ``repeats`` times, round-robin, so a change in machine load hits all of them alike."""
    for function in candidates.values():
        for _ in range(warmup):
            function()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, function in candidates.items():
            start = time.perf_counter()
            function()
            samples[name].append(time.perf_counter() - start)
    return samples


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, object]:
    """What the numbers were measured on, and how busy it was."""
    flags = cpu_flags()
    memory_gb = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "avx512_vnni": "avx512_vnni" in flags,
        # bfloat16 in hardware decides whether --mixed-precision trains faster or is refused (training/precision.py).
        "native_bfloat16": bool(NATIVE_BF16_CPU_FLAGS & flags),
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def synthetic_batch(size: tuple[int, int], n: int = 1, seed: int = 0) -> np.ndarray:
    """Model input [n, H, W, 3] from ultrasound-like synthetic images (through the shared preprocessing)."""
    from desktop_app.__main__ import synthetic_image
    from desktop_app.core.preprocessing import preprocess_batch

    return preprocess_batch([synthetic_image(seed=seed + i) for i in range(n)], size)


def random_training_batch(size: tuple[int, int], batch: int, seg_head: bool,
                          num_classes: int = 3) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Random 0..255 images and one-hot targets (plus 1/8-scale lesion masks with the seg head) for timing steps."""
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (batch, *size, 3)).astype(np.float32)
    targets = {"logits": np.eye(num_classes, dtype=np.float32)[rng.integers(0, num_classes, batch)]}
    if seg_head:
        height, width = size
        targets["mask"] = (rng.random((batch, height // 8, width // 8, 1)) > 0.8).astype(np.float32)
    return images, targets


def write_result(name: str, result: dict) -> Path:
    """Write ``bench/out/<name>.json`` (with the machine description) and return its path."""
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"machine": machine(), **result}
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def model_metadata(model: Path) -> dict[str, str]:
    """An ONNX model's metadata (key -> value), read without its weights' external data."""
    import onnx

    return {p.key: p.value for p in onnx.load(str(model), load_external_data=False).metadata_props}


def model_labels_and_size(model: Path) -> tuple[list[str], tuple[int, int]]:
    """A contract model's class labels and (height, width) input size, from its metadata."""
    from desktop_app.core import contract

    metadata = model_metadata(model)
    return json.loads(metadata[contract.META_LABELS]), tuple(json.loads(metadata[contract.META_INPUT_SIZE]))


def read_result(name: str) -> dict | None:
    path = OUT / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux: ru_maxrss is in KiB)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
