"""Build the desktop app with PyInstaller and check the result.

    python packaging/build.py                 # one-folder build in dist/bus-classifier/ (default)
    python packaging/build.py --onefile       # one self-extracting file dist/onefile/bus-classifier(.exe)
    python packaging/build.py --model M.onnx  # bundle another model (default: assets/model.onnx)

PyInstaller runs in the interpreter named by the PACKAGE_PYTHON environment variable (``make`` points it at the
packaging environment, .venv-package, whose numpy has no OpenBLAS), else in the running one.

After building it verifies that no TensorFlow, Keras, tf2onnx, onnx or torch went in, and prints a JSON summary
(build seconds, size in MB, path, the interpreter used). Exit status 1 if the check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PACKAGING_DIR = Path(__file__).resolve().parent
ROOT = PACKAGING_DIR.parent
SPEC = PACKAGING_DIR / "bus_classifier.spec"
APP_NAME = "bus-classifier"

sys.path.insert(0, str(PACKAGING_DIR))
from bundle_rules import bundle_contents, folder_size, forbidden_entries


def executable_path(dist: Path, onefile: bool, name: str = APP_NAME) -> Path:
    """Where the built executable lies in ``dist`` (one-file builds go to ``dist/onefile/``)."""
    suffix = ".exe" if sys.platform == "win32" else ""
    if onefile:
        return dist / "onefile" / f"{name}{suffix}"
    return dist / name / f"{name}{suffix}"


def packaging_python() -> str:
    """The interpreter PyInstaller runs in: $PACKAGE_PYTHON if set (the packaging environment), else this one."""
    return os.environ.get("PACKAGE_PYTHON") or sys.executable


def build(
    onefile: bool = False,
    model: Path | None = None,
    dist: Path = ROOT / "dist",
    work: Path = ROOT / "build" / "pyinstaller",
    name: str = APP_NAME,
    python: str | None = None,
) -> dict:
    """Run PyInstaller on the spec in ``python`` (default :func:`packaging_python`); return a summary dict
    (raises CalledProcessError if PyInstaller fails)."""
    python = python or packaging_python()
    spec_args = ["--name", name]
    if onefile:
        spec_args.append("--onefile")
    if model is not None:
        spec_args += ["--model", str(Path(model).resolve())]
    command = [
        python,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist / "onefile" if onefile else dist),
        "--workpath",
        str(work / ("onefile" if onefile else "onedir")),
        str(SPEC),
        "--",
        *spec_args,
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    executable = executable_path(dist, onefile, name)
    bundle = executable if onefile else executable.parent
    forbidden = forbidden_entries(bundle_contents(bundle, executable))
    return {
        "kind": "onefile" if onefile else "onefolder",
        "path": str(bundle),
        "executable": str(executable),
        "build_seconds": round(seconds, 1),
        "size_mb": round(folder_size(bundle) / 1e6, 1),
        "python": python,
        "forbidden": forbidden[:20],
        "forbidden_count": len(forbidden),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onefile", action="store_true", help="build one self-extracting executable")
    parser.add_argument("--model", type=Path, help="ONNX model to bundle (default assets/model.onnx)")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    parser.add_argument(
        "--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller work folder"
    )
    args = parser.parse_args(argv)
    summary = build(args.onefile, args.model, args.dist, args.work)
    print(json.dumps(summary, indent=2))
    if summary["forbidden_count"]:
        print(
            f"FAIL: {summary['forbidden_count']} forbidden entries in the bundle (training stack)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
