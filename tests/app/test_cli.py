"""bus-classify: exit codes, table/CSV/JSON output, error rows, same numbers as the core."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from desktop_app import cli
from desktop_app.core.imageio import load_image
from desktop_app.core.inference import ModelSession


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(args), out=out)
    return code, out.getvalue()


def test_json_matches_core_and_reports_error_rows(tiny_model: Path, image_folder: Path) -> None:
    code, text = run_cli(str(image_folder), "--model", str(tiny_model), "--json")
    assert code == cli.EXIT_OK
    document = json.loads(text)
    results = {Path(r["file"]).name: r for r in document["results"]}
    assert set(results) == {"case_000.png", "case_001.png", "case_002.png", "corrupt.png", "notes.jpg"}
    assert results["corrupt.png"]["status"] == "error" and "corrupt.png" in results["corrupt.png"]["message"]
    session = ModelSession.open(tiny_model)
    expected = session.classify([load_image(image_folder / "case_001.png")])[0]
    row = results["case_001.png"]
    assert row["predicted"] == expected.predicted_label
    got = [row[f"p_{label}"] for label in session.labels]
    np.testing.assert_allclose(got, expected.probabilities, rtol=1e-6)
    assert document["model"]["labels"] == list(session.labels)
    assert len(document["model"]["sha256"]) == 64


def test_csv_to_file_and_stdout(tiny_model: Path, image_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    code, _ = run_cli(
        str(image_folder / "case_000.png"),
        str(image_folder / "notes.jpg"),
        "--model",
        str(tiny_model),
        "--csv",
        str(out),
    )
    assert code == 0
    records = list(csv.DictReader(out.open(newline="")))
    assert [r["status"] for r in records] == ["ok", "error"]
    code, text = run_cli(str(image_folder / "case_000.png"), "--model", str(tiny_model), "--csv", "-")
    assert code == 0
    assert next(iter(csv.DictReader(io.StringIO(text))))["p_benign"] == records[0]["p_benign"]


def test_table_output_lists_each_file(tiny_model: Path, image_folder: Path) -> None:
    code, text = run_cli(str(image_folder), "--model", str(tiny_model))
    assert code == 0
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["file", "predicted"]
    assert any(line.startswith("corrupt.png") and "ERROR" in line for line in lines)
    assert sum("%" in line for line in lines) == 3


def test_exit_codes(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run_cli(str(tmp_path), "--model", str(tmp_path / "missing.onnx"))
    assert code == cli.EXIT_MODEL
    assert "cannot load model" in capsys.readouterr().err
    code, _ = run_cli(str(tmp_path), "--model", str(tiny_model))  # an empty folder
    assert code == cli.EXIT_USAGE
    with pytest.raises(SystemExit) as exit_info:
        run_cli(str(tmp_path), "--csv", "a.csv", "--json")
    assert exit_info.value.code == 2


def test_selftest_prints_json(tiny_model: Path, image_folder: Path) -> None:
    command = [sys.executable, "-m", "desktop_app", "--selftest", "--model", str(tiny_model)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["image"] == "synthetic"
    assert set(report["probabilities"]) == {"benign", "malignant", "normal"}
    assert abs(sum(report["probabilities"].values()) - 1.0) < 1e-5

    with_image = subprocess.run(
        [*command[:4], str(image_folder / "case_002.png"), *command[4:]],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert with_image.returncode == 0 and json.loads(with_image.stdout)["image"].endswith("case_002.png")

    missing = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--selftest", "--model", str(image_folder / "none.onnx")],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1 and "not found" in json.loads(missing.stdout)["error"]
