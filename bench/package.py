"""Package sizes, build times and cold start of the packaged binary to its first result.

    python -m bench.package [--model M] [--repeats 5] [--no-onefile]

Builds the one-folder (and one-file) bundle with ``packaging/build.py`` into ``bench/out/dist`` with the given
model (default: assets/model.onnx, else the stand-in), then times ``bus-classifier --selftest IMAGE`` from process
start to exit (the JSON with the probabilities is the first result), offscreen, ``--repeats`` times each.
The first run after the build is reported separately; the files are then in the page cache (not a cold disk).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import OUT, default_model, write_result


def time_selftest(executable: Path, image: Path) -> tuple[float, dict]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    start = time.perf_counter()
    done = subprocess.run(
        [str(executable), "--selftest", str(image)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"selftest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    text = done.stdout
    return seconds, json.loads(text[text.index("{") : text.rindex("}") + 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-onefile", action="store_true", help="skip the one-file build")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "packaging"))
    import build as packaging_build

    from desktop_app.__main__ import synthetic_image

    model = (args.model or default_model()).resolve()
    image = OUT / "selftest_image.png"
    OUT.mkdir(parents=True, exist_ok=True)
    synthetic_image(size=(440, 560)).save(image)

    results: dict[str, dict] = {}
    kinds = [False] if args.no_onefile else [False, True]
    for onefile in kinds:
        summary = packaging_build.build(
            onefile=onefile, model=model, dist=OUT / "dist", work=ROOT / "build" / "bench-pyinstaller"
        )
        executable = Path(summary["executable"])
        first, report = time_selftest(executable, image)
        samples = [time_selftest(executable, image)[0] for _ in range(args.repeats)]
        results[summary["kind"]] = {
            **summary,
            "first_run_s": round(first, 2),
            "cold_start_median_s": round(statistics.median(samples), 2),
            "cold_start_runs_s": [round(s, 2) for s in samples],
            "selftest_model_version": report.get("model_version"),
        }
        print(json.dumps(results[summary["kind"]], indent=2))
    result = {"model": str(model), "model_size_mb": round(model.stat().st_size / 1e6, 1), "builds": results}
    print(write_result("package", result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
