"""bench/onednn_ab.py: the two oneDNN settings, each in its own process, read back from the throughput bench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import common, onednn_ab, training_throughput


def test_reads_the_fine_tune_step_time_the_throughput_bench_prints() -> None:
    printed = "\n".join([
        training_throughput.result_line(
            training_throughput.arm_name("frozen backbone (stage 1)", "float32", True), 301.0, 16),
        training_throughput.result_line(
            training_throughput.arm_name(training_throughput.FINE_TUNE_MODE, "float32", False), 2542.0, 16),
        training_throughput.result_line(
            training_throughput.arm_name(training_throughput.FINE_TUNE_MODE, "float32", True), 1897.0, 16),
    ])
    assert onednn_ab.parse_fine_tune_ms(printed) == 1897.0
    assert onednn_ab.parse_fine_tune_ms(printed.rsplit("\n", 1)[0]) is None  # Keras-kernel and frozen lines only


def test_each_round_times_both_settings_and_reports_their_ratio(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    step_ms = {"1": 1000.0, "0": 1250.0}

    def fake_step_ms(onednn: str, steps: int, size: int | None) -> float:
        calls.append(onednn)
        return step_ms[onednn]

    monkeypatch.setattr(onednn_ab, "fine_tune_step_ms", fake_step_ms)
    monkeypatch.setattr(common, "OUT", tmp_path)
    assert onednn_ab.main(["--rounds", "2", "--steps", "1"]) == 0
    assert calls == ["1", "0", "1", "0"]  # in turn, so a change in the host's speed hits both
    result = json.loads((tmp_path / "onednn_ab.json").read_text())
    assert [row["off / on"] for row in result["rounds"]] == [1.25, 1.25]
    assert result["median_ratio_off_over_on"] == 1.25


def test_a_missing_timing_line_is_an_error_naming_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    class Finished:
        stdout = "something else entirely\n"

    monkeypatch.setattr(onednn_ab.subprocess, "run", lambda *args, **kwargs: Finished())
    with pytest.raises(RuntimeError, match="bench.training_throughput"):
        onednn_ab.fine_tune_step_ms("0", steps=1, size=None)
