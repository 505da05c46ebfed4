"""Headless command line on the same core as the GUI.

    bus-classify PATH... [--model M] [--csv out.csv | --json]

Exit codes: 0 every input was processed (unreadable files are reported as error rows), 1 the model cannot be
loaded, 2 bad usage or no image files found, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from desktop_app.core.batch import BatchRow, classify_files, row_record, write_csv
from desktop_app.core.imageio import iter_image_files
from desktop_app.core.inference import ModelError, ModelSession
from desktop_app.core.model_card import ModelCard
from desktop_app.core.paths import bundled_model_path

EXIT_OK = 0
EXIT_MODEL = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bus-classify",
        description="Classify breast-ultrasound images with the ONNX model. Research tool, not a medical device.",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="image files and/or folders (searched recursively)"
    )
    parser.add_argument("--model", type=Path, help="ONNX model (default: the bundled assets/model.onnx)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--csv", metavar="OUT", help="write results as CSV to OUT ('-' for standard output)")
    output.add_argument("--json", action="store_true", help="print results and the model card as JSON")
    return parser


def _finite(value: object) -> object:
    """JSON has no NaN/Infinity: such floats become null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _print_table(rows: Sequence[BatchRow], labels: Sequence[str], out: TextIO) -> None:
    name_width = min(max([len(row.path.name) for row in rows] + [4]), 48)
    label_width = max(len(label) for label in labels)
    header = f"{'file':<{name_width}}  {'predicted':<{label_width}}  " + "  ".join(
        f"{label:>{max(len(label), 7)}}" for label in labels
    )
    print(header + "  ood", file=out)
    for row in rows:
        name = row.path.name if len(row.path.name) <= name_width else row.path.name[: name_width - 1] + "…"
        if row.prediction is None:
            print(f"{name:<{name_width}}  ERROR: {row.error}", file=out)
            continue
        probabilities = "  ".join(
            f"{100 * p:>{max(len(label), 7) - 1}.1f}%"
            for label, p in zip(labels, row.prediction.probabilities)
        )
        score = row.prediction.ood_score
        flag = "" if score is None else f"{score:.2f}"
        flag += f"  OUT OF DISTRIBUTION: {row.prediction.ood_reason}" if row.prediction.is_ood else ""
        print(
            f"{name:<{name_width}}  {row.prediction.predicted_label:<{label_width}}  {probabilities}  {flag}",
            file=out,
        )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    model_path = args.model or bundled_model_path()
    try:
        session = ModelSession.open(model_path)
    except ModelError as error:
        print(f"bus-classify: cannot load model: {error}", file=sys.stderr)
        return EXIT_MODEL
    files = list(iter_image_files(args.paths))
    if not files:
        print("bus-classify: no image files found in the given paths", file=sys.stderr)
        return EXIT_USAGE
    cancel = threading.Event()
    rows: list[BatchRow] = []
    try:
        rows.extend(classify_files(session, files, cancel=cancel))
    except KeyboardInterrupt:
        cancel.set()
        print("bus-classify: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    labels = session.labels
    if args.json:
        document = {
            "model": {k: _finite(v) for k, v in ModelCard.from_info(session.info).to_dict().items()},
            "results": [{k: _finite(v) for k, v in row_record(row, labels).items()} for row in rows],
        }
        json.dump(document, out, indent=2)
        out.write("\n")
    elif args.csv == "-":
        write_csv(rows, labels, out)
    elif args.csv:
        write_csv(rows, labels, args.csv)
        print(f"wrote {len(rows)} rows to {args.csv}", file=sys.stderr)
    else:
        _print_table(rows, labels, out)
    failed = sum(not row.ok for row in rows)
    if failed:
        print(
            f"bus-classify: {failed} of {len(rows)} files could not be classified (see rows)", file=sys.stderr
        )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
