"""Run every benchmark and write bench/RESULTS.md (and the README's Performance table).

    python -m bench                      # everything (about 15-25 minutes on 2 busy cores)
    python -m bench --only latency,throughput
    python -m bench --render             # only rebuild RESULTS.md / README from bench/out/*.json
    python -m bench --compare-split runs/<run>/split.csv   # adds the fp32 vs int8 accuracy comparison

Each benchmark runs in its own process and writes bench/out/<name>.json (with date, CPU and load average); the
markdown is rendered from those files, so every figure in it can be traced to a JSON record.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import OUT, REAL_MODEL, STANDIN_MODEL, default_model, machine, read_result

RESULTS = ROOT / "bench" / "RESULTS.md"
README = ROOT / "README.md"
README_BEGIN = "<!-- bench:begin (written by python -m bench) -->"
README_END = "<!-- bench:end -->"
BENCHES = ("latency", "throughput", "memory_options", "package", "training_throughput", "compare_models")
TARGETS = {
    "latency_int8_ms": 15.0,
    "throughput_images_per_s": 28.0,
    "cold_start_s": 1.5,
    "peak_rss_mb": 250.0,
    "onefolder_mb": 180.0,
    "onefile_mb": 110.0,
}


def run(module: str, *args: str) -> None:
    print(f"\n=== python -m bench.{module} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", f"bench.{module}", *args], cwd=ROOT, check=True)


def _yes_no(flag: bool | None) -> str:
    """A recorded machine flag as words (results written before the flag existed say so)."""
    return "not recorded" if flag is None else ("yes" if flag else "no")


def verdict(value: float | None, target: float, lower_is_better: bool = True) -> str:
    if value is None:
        return "not measured"
    met = value <= target if lower_is_better else value >= target
    return f"{'met' if met else 'NOT met'} (target {'≤' if lower_is_better else '≥'} {target:g})"


def render() -> str:
    """Markdown tables from bench/out/*.json."""
    results = {name: read_result(name) for name in BENCHES}
    lines: list[str] = []
    first = next((r for r in results.values() if r), None)
    where = first["machine"] if first else machine()
    model_note = (
        "the trained model (assets/model.onnx)"
        if REAL_MODEL.is_file()
        else "a random-weight stand-in of the training recipe's architecture (bench/standin_model.py): "
        "speed, memory and size do not depend on the weights"
    )
    lines += [
        (
            f"Measured {where['date_utc']} on {where['cpu']}, {where['logical_cores']} logical cores, "
            f"{where['memory_gb']} GB RAM, AVX-512 VNNI: {'yes' if where['avx512_vnni'] else 'no'}, "
            f"native bfloat16: {_yes_no(where.get('native_bfloat16'))}; "
            f"{where['os']}, Python {where['python']}. Model: {model_note}."
        ),
        "",
        (
            "**Load:** this machine is shared with a model-training job and other engineers' tests; 1-minute load "
            "averages at the start of each benchmark are listed below (2 cores: anything above 2 means the "
            "benchmark got less than the whole CPU). Ratios are measured in the same interleaved rounds, so they "
            "are more trustworthy than absolute times."
        ),
        "",
        "| Benchmark | Load avg at start |",
        "|---|---|",
    ]
    for name, result in results.items():
        if result:
            lines.append(f"| {name} | {result['machine']['load_average_1m']} |")
    lines.append("")

    latency = results["latency"]
    if latency:
        size = "x".join(str(v) for v in latency["input_size"])
        recipe = latency.get("recipe", {})
        lines += [
            (
                f"### Single-image latency ({size}, lesion-mask head: {recipe.get('seg_head')}, "
                f"flip TTA: {recipe.get('flip_tta')}; median of {latency['repeats']} interleaved rounds)"
            ),
            "",
            "| Path | Median ms | p25–p75 ms | × onnxruntime (app) |",
            "|---|---|---|---|",
        ]
        for path, entry in latency["latency"].items():
            lines.append(
                f"| {path} | {entry['median_ms']:.1f} | {entry['p25_ms']:.1f}–{entry['p75_ms']:.1f} | "
                f"{entry['ratio_to_onnxruntime_app']:.2f} |"
            )
        int8 = latency["latency"].get("onnxruntime int8 (app path)")
        lines += [
            "",
            (
                f"Same weights in every path: max |Δp| Keras vs onnxruntime = "
                f"{latency['keras_vs_onnxruntime_max_abs_diff']:.1e}. "
                f"int8 latency {verdict(int8['median_ms'] if int8 else None, TARGETS['latency_int8_ms'])}. "
                f"onnxruntime {latency['onnxruntime_version']}, TensorFlow {latency['tensorflow_version']}."
            ),
            "",
        ]

    throughput = results["throughput"]
    if throughput:
        over, seq = throughput["overlapped"], throughput["sequential"]
        lines += [
            (
                f"### Folder throughput, end to end ({throughput['images']} synthetic PNGs: decode, resize, infer, CSV; "
                f"{throughput.get('chunk_size', '?')} images per inference, median of {throughput['repeats']} runs)"
            ),
            "",
            "| Mode | Images/s (median) | Peak RSS MB (whole process, after all images) |",
            "|---|---|---|",
            (
                f"| app batch API, {throughput['decode_workers']} decode threads overlapped with inference | "
                f"{over['images_per_s_median']:.1f} | {over['peak_rss_mb_max']:.0f} |"
            ),
            (
                f"| sequential (decode a chunk, then infer it) | {seq['images_per_s_median']:.1f} | "
                f"{seq['peak_rss_mb_max']:.0f} |"
            ),
            "",
            (
                f"Overlap speed-up {throughput['overlap_speedup']:.2f}×. Throughput "
                f"{verdict(over['images_per_s_median'], TARGETS['throughput_images_per_s'], lower_is_better=False)}; "
                f"peak memory {verdict(over['peak_rss_mb_max'], TARGETS['peak_rss_mb'])}."
            ),
            "",
        ]

    variants = sorted(OUT.glob("throughput_chunk*.json"))  # throughput_int8 etc. are other models
    if variants:
        lines += [
            "Other chunk sizes, same benchmark (`python -m bench.throughput --chunk-size K --name throughput_chunkK`):",
            "",
            "| Images per inference | Overlapped images/s | Peak RSS MB | Load avg | Measured |",
            "|---|---|---|---|---|",
        ]
        for path in variants:
            variant = json.loads(path.read_text())
            lines.append(
                f"| {variant.get('chunk_size')} | {variant['overlapped']['images_per_s_median']:.1f} | "
                f"{variant['overlapped']['peak_rss_mb_max']:.0f} | {variant['machine']['load_average_1m']} | "
                f"{variant['machine']['date_utc']} |"
            )
        lines.append("")

    memory = results["memory_options"]
    if memory:
        lines += [
            (
                f"### Inference memory vs chunk size and onnxruntime arena ({memory['images']} images per config, "
                "onnxruntime session alone, each config in a fresh process)"
            ),
            "",
            "| Images per run | CPU memory arena | Images/s | Peak RSS MB |",
            "|---|---|---|---|",
        ]
        for row in memory["configs"]:
            lines.append(
                f"| {row['chunk']} | {'on' if row['arena'] else 'off'} | {row['images_per_s']:.1f} | "
                f"{row['peak_rss_mb']:.0f} |"
            )
        lines.append("")

    package = results["package"]
    if package:
        lines += [
            f"### Packaged app (PyInstaller; model {package['model_size_mb']} MB included)",
            "",
            "| Build | Size MB | Build s | First run s | Start to first result s (median) |",
            "|---|---|---|---|---|",
        ]
        for kind, entry in package["builds"].items():
            lines.append(
                f"| {kind} | {entry['size_mb']:.1f} | {entry['build_seconds']:.0f} | {entry['first_run_s']:.2f} | "
                f"{entry['cold_start_median_s']:.2f} |"
            )
        builds = package["builds"]
        onefolder, onefile = builds.get("onefolder"), builds.get("onefile")
        lines += [
            "",
            (
                "Start to first result = `bus-classifier --selftest IMAGE` (offscreen) from process start to exit, "
                "files in the page cache. "
                f"One-folder size {verdict(onefolder and onefolder['size_mb'], TARGETS['onefolder_mb'])}; "
                f"one-file size {verdict(onefile and onefile['size_mb'], TARGETS['onefile_mb'])}; "
                f"one-folder start {verdict(onefolder and onefolder['cold_start_median_s'], TARGETS['cold_start_s'])}. "
                "No TensorFlow/Keras/tf2onnx/onnx/torch in either bundle (checked by packaging/build.py)."
            ),
            "",
        ]

    training = results["training_throughput"]
    if training:
        size = "x".join(str(v) for v in training["input_size"])
        lines += [
            (
                f"### Training throughput ({size}, lesion-mask head: {training.get('seg_head')}, "
                f"batch {training['batch_size']}, median of {training['steps']} "
                "steps after a warm-up step)"
            ),
            "",
            "| Stage | Images/s | ms per step |",
            "|---|---|---|",
        ]
        for stage, entry in training["throughput"].items():
            lines.append(f"| {stage} | {entry['images_per_s']:.2f} | {entry['median_ms']:.0f} |")
        timing = training.get("recipe_timing")
        wall = timing.get("train_wall_seconds") if timing else None
        lines += [
            "",
            f"Full recipe wall time: {f'{wall / 60:.0f} min (from the trained model metadata)' if wall else 'not measured here (the trained model is not in assets/ yet)'}.",
            "",
        ]

    compare = results["compare_models"]
    if compare:
        fp32, int8 = compare["fp32"], compare["int8"]
        lines += [
            f"### int8 vs fp32 on the held-out split ({compare['images']} images, {compare['subset']})",
            "",
            "| Model | Accuracy | Macro-F1 | Macro ROC-AUC |",
            "|---|---|---|---|",
            (
                f"| fp32 ({fp32['model_version']}) | {fp32['accuracy']:.3f} | {fp32['macro_f1']:.3f} | "
                f"{fp32['macro_roc_auc']:.3f} |"
            ),
            (
                f"| int8 ({int8['model_version']}) | {int8['accuracy']:.3f} | {int8['macro_f1']:.3f} | "
                f"{int8['macro_roc_auc']:.3f} |"
            ),
            "",
            (
                f"Drop: accuracy {compare['drop_points']['accuracy']:+.2f} points, macro-F1 "
                f"{compare['drop_points']['macro_f1']:+.2f} points (target ≤ 1); answers (each model's decision rule) "
                f"agree on "
                f"{100 * compare['prediction_agreement']:.1f}% of images."
            ),
            "",
        ]
    else:
        lines += [
            "### int8 vs fp32 accuracy",
            "",
            (
                "Not measured yet: needs the trained model. Run `python bench/quantize.py --model assets/model.onnx "
                "--calib-data /work/shared/data/busi --split SPLIT.csv --out assets/model_int8.onnx` then "
                "`python -m bench --only compare_models --compare-split SPLIT.csv`."
            ),
            "",
        ]
    lines += [
        (
            "Rerun: `python -m bench` (all), or one of `python -m bench.latency`, `python -m bench.throughput`, "
            "`python -m bench.package`, `python -m bench.training_throughput`, `python bench/compare_models.py`."
        ),
    ]
    return "\n".join(lines) + "\n"


def write_markdown() -> None:
    body = render()
    RESULTS.write_text(
        "# Benchmark results\n\nWritten by `python -m bench` from bench/out/*.json.\n\n" + body
    )
    print(f"wrote {RESULTS}")
    if README.is_file():
        text = README.read_text()
        if README_BEGIN in text and README_END in text:
            head, rest = text.split(README_BEGIN, 1)
            _, tail = rest.split(README_END, 1)
            README.write_text(head + README_BEGIN + "\n" + body + README_END + tail)
            print(f"updated the Performance section of {README}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHES)}")
    parser.add_argument(
        "--render", action="store_true", help="only render the markdown from bench/out/*.json"
    )
    parser.add_argument(
        "--compare-split", type=Path, help="split.csv for the fp32 vs int8 accuracy comparison"
    )
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/busi"))
    parser.add_argument("--repeats", type=int, default=30, help="latency rounds")
    args = parser.parse_args(argv)
    if not args.render:
        chosen = args.only.split(",") if args.only else list(BENCHES)
        unknown = set(chosen) - set(BENCHES)
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        if default_model() == STANDIN_MODEL and not STANDIN_MODEL.is_file():
            run("standin_model")
        if "latency" in chosen:
            run("latency", "--repeats", str(args.repeats), "--calib-data", str(args.data))
        if "throughput" in chosen:
            run("throughput", "--repeats", "3")
        if "memory_options" in chosen:
            run("memory_options")
        if "package" in chosen:
            run("package")
        if "training_throughput" in chosen:
            run("training_throughput")
        if "compare_models" in chosen:
            int8 = REAL_MODEL.with_name("model_int8.onnx")
            if not (REAL_MODEL.is_file() and args.compare_split):
                print("compare_models skipped: needs assets/model.onnx and --compare-split SPLIT.csv")
            else:
                if not int8.is_file():
                    run_script(
                        "quantize.py",
                        "--model",
                        str(REAL_MODEL),
                        "--calib-data",
                        str(args.data),
                        "--split",
                        str(args.compare_split),
                        "--out",
                        str(int8),
                    )
                run_script(
                    "compare_models.py",
                    "--fp32",
                    str(REAL_MODEL),
                    "--int8",
                    str(int8),
                    "--data",
                    str(args.data),
                    "--split",
                    str(args.compare_split),
                )
    OUT.mkdir(parents=True, exist_ok=True)
    write_markdown()
    print(json.dumps({"results": str(RESULTS)}))
    return 0


def run_script(script: str, *args: str) -> None:
    print(f"\n=== python bench/{script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, check=True)


if __name__ == "__main__":
    raise SystemExit(main())
