"""GUI entry point (``bus-classifier`` / ``python -m desktop_app``), plus ``--selftest`` for packaging checks.

``--selftest [IMAGE]`` loads the model, classifies IMAGE (or a built-in synthetic image), prints one JSON
object and exits 0; it exits 1 if the model or the image cannot be used. It never opens a window.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from desktop_app import __version__
from desktop_app.core.paths import bundled_model_path


def _uniform_noise(count: int, seed: int) -> np.ndarray:
    """``count`` deterministic uniforms in (0, 1) from a splitmix64 counter hash.

    Not ``numpy.random``: the packaged app leaves that subpackage out (2.6 MB) and only this self-test image needs noise.
    """
    with np.errstate(over="ignore"):
        counter = np.arange(1, count + 1, dtype=np.uint64) + (np.uint64(seed) << np.uint64(32))
        state = counter * np.uint64(0x9E3779B97F4A7C15)
        state = (state ^ (state >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        state = (state ^ (state >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        state ^= state >> np.uint64(31)
    return ((state >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def synthetic_image(size: tuple[int, int] = (256, 320), seed: int = 0) -> Image.Image:
    """A deterministic ultrasound-like grey image (speckle, a dark oval), for self-tests without data."""
    height, width = size
    rows, cols = np.mgrid[0:height, 0:width]
    depth_fade = 1.0 - 0.6 * rows / height
    # Gamma(2, 40) speckle as the sum of two exponentials, in grains of 3 x 3 pixels as in a scan (a mean over each
    # pixel's neighbourhood, its spread partly restored): i.i.d. pixels read as noise (core.ood.neighbour_correlation).
    uniforms = _uniform_noise(2 * height * width, seed).reshape(2, height, width)
    grains = -40.0 * np.log(uniforms).sum(axis=0)
    padded = np.pad(grains, 1, mode="edge")
    smoothed = sum(padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)) / 9.0
    speckle = np.maximum(80.0 + 2.0 * (smoothed - 80.0), 0.0)
    oval = ((rows - height * 0.45) / (height * 0.18)) ** 2 + ((cols - width * 0.5) / (width * 0.2)) ** 2 < 1
    pixels = speckle * depth_fade * np.where(oval, 0.25, 1.0)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")


def selftest(image_path: str | None, model_path: str | None) -> int:
    """Load the model, classify one image, print JSON; 0 on success, 1 on failure (also as JSON)."""
    from desktop_app.core.batch import row_record
    from desktop_app.core.imageio import ImageLoadError, load_image
    from desktop_app.core.inference import ModelError, ModelSession

    report: dict[str, object] = {"app_version": __version__, "ok": False}
    model = Path(model_path) if model_path else bundled_model_path()
    report["model"] = str(model)
    try:
        import onnxruntime
        import PySide6

        import desktop_app.ui.main_window  # noqa: F401  (proves the GUI and its Qt modules are importable)

        report["onnxruntime"] = onnxruntime.__version__
        report["qt"] = PySide6.__version__
        session = ModelSession.open(model)
        image = load_image(image_path) if image_path else synthetic_image()
        report["image"] = image_path or "synthetic"
        prediction = session.classify([image])[0]
    except (ModelError, ImageLoadError, ImportError) as error:
        report["error"] = str(error)
        print(json.dumps(report, indent=2))
        return 1
    from desktop_app.core.batch import BatchRow

    record = row_record(BatchRow(0, Path(report["image"]), prediction=prediction), session.labels)
    report.update(
        ok=True,
        model_version=session.info.version,
        labels=list(session.labels),
        input_size=list(session.input_size),
        predicted=prediction.predicted_label,
        probabilities=prediction.probability_by_label(),
        ood_score=record["ood_score"],
        ood_flag=record["ood_flag"],
    )
    print(json.dumps(report, indent=2))
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bus-classifier",
        description="Breast-ultrasound classifier (research tool, not a medical device).",
    )
    parser.add_argument("--model", help="ONNX model to use (default: the bundled assets/model.onnx)")
    parser.add_argument(
        "--selftest",
        nargs="?",
        const="",
        metavar="IMAGE",
        help="load the model, classify IMAGE (or a synthetic image), print JSON and exit",
    )
    parser.add_argument("paths", nargs="*", help="images or folders to open at start")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the GUI, or run the self-test."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.selftest is not None:
        return selftest(args.selftest or None, args.model)
    from desktop_app.ui.app import run_gui

    return run_gui(model_path=args.model, paths=args.paths)


if __name__ == "__main__":
    sys.exit(main())
