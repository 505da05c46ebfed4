"""The committed run scripts in ``training/recipes/`` stay runnable as the command line changes.

Each script is run with ``PY`` pointing at a stand-in interpreter that only records its arguments; every recorded
``-m training train`` or ``pretrain`` command must then parse with the real command line and pass the checks
``train`` makes before loading data, and every other command must name a module or script that exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from training.__main__ import build_parser
from training.config import ConfigError, TrainConfig
from training.train import check_config

ROOT = Path(__file__).resolve().parents[2]
RECIPE_DIR = ROOT / "training" / "recipes"
#: Scripts that score or re-export existing runs rather than train new ones (each checked on its own below).
NON_TRAINING = ("common.sh", "eval.sh", "pair.sh", "repro.sh", "bn_refresh.sh")
RUN_SCRIPTS = sorted(s for s in RECIPE_DIR.glob("*.sh") if s.name not in NON_TRAINING)


def recorded_commands(script: Path, tmp_path: Path, *args: str) -> list[list[str]]:
    """Run ``script`` with a recording stand-in for ``$PY``; return the argument lists it was called with."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "calls.jsonl"
    shim = tmp_path / "python"
    shim.write_text(f"#!{sys.executable}\nimport json, sys\n"
                    f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    shim.chmod(0o755)
    result = subprocess.run(["bash", str(script), *args], check=False, env={**os.environ, "PY": str(shim)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def config_of(argv: list[str]) -> TrainConfig:
    args = build_parser().parse_args(argv)
    return TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})


def test_there_are_recipes_with_training_commands(tmp_path: Path) -> None:
    calls = [call for script in RUN_SCRIPTS for call in recorded_commands(script, tmp_path / script.stem)]
    assert any(call[:3] == ["-m", "training", "train"] for call in calls)
    assert all(call[:3] in (["-m", "training", "train"], ["-m", "training", "pretrain"]) for call in calls)


def test_a_pretraining_recipe_fine_tunes_from_the_backbone_it_wrote(tmp_path: Path) -> None:
    """r52 pretrains, then trains from that run's backbone file on the same split."""
    calls = recorded_commands(RECIPE_DIR / "r52.sh", tmp_path)
    assert [call[2] for call in calls] == ["pretrain", "train"]
    pretrain, train = (config_of(call[2:]) for call in calls)
    assert train.weights == f"{pretrain.out}/backbone.weights.h5" and train.train_batchnorm
    assert pretrain.data_split_seed == train.data_split_seed
    assert pretrain.extra_data == train.extra_data and pretrain.groups == train.groups


@pytest.mark.parametrize("script", RUN_SCRIPTS, ids=lambda s: s.name)
def test_recipe_train_commands_parse_and_pass_the_up_front_checks(script: Path, tmp_path: Path) -> None:
    calls = recorded_commands(script, tmp_path)
    assert calls, f"{script.name} ran no command"
    for call in calls:
        assert call[:2] == ["-m", "training"], call
        config = config_of(call[2:])
        check_config(config)  # raises on a plan train would refuse
        assert config.out.startswith("runs/"), "recipes write under the ignored runs/ folder"


def test_eval_script_calls_existing_tools(tmp_path: Path) -> None:
    calls = recorded_commands(RECIPE_DIR / "eval.sh", tmp_path, "some_run")
    assert len(calls) >= 4
    for call in calls:
        if call[0] == "-m":
            assert call[1] == "training"
            build_parser().parse_args(call[2:])
        else:
            assert (ROOT / call[0]).is_file(), call[0]
            assert any("runs/some_run/model.onnx" == arg for arg in call)


def test_repro_script_trains_the_shipped_flags_twice_through_the_bench(tmp_path: Path) -> None:
    """repro.sh hands a train plan to bench/reproducibility.py, which runs it twice; the plan must pass train's checks."""
    calls = recorded_commands(RECIPE_DIR / "repro.sh", tmp_path)
    assert len(calls) == 1
    call = calls[0]
    assert call[:2] == ["-m", "bench.reproducibility"] and (ROOT / "bench" / "reproducibility.py").is_file()
    assert call[call.index("--out") + 1].startswith("runs/")
    flags = call[call.index("--") + 1:]
    shipped = recorded_commands(RECIPE_DIR / "r40.sh", tmp_path / "r40")[0]
    config = config_of(["train", *flags, "--out", "runs/x"])
    check_config(config)
    assert config.epochs < config_of(shipped[2:]).epochs  # a cut-down run, not the full recipe
    for flag in ("--extra-data", "--seg-head", "--flip-tta", "--mixed-precision", "--progressive-size"):
        assert flag in flags and flag in shipped, flag


def _fake_run(runs: Path, name: str, busi_split: str, busbra_split: str) -> None:
    (runs / name).mkdir(parents=True)
    (runs / name / "split.csv").write_text(busi_split)
    (runs / name / "split_busbra.csv").write_text(busbra_split)


def test_pair_script_pairs_two_runs_on_their_shared_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    _fake_run(runs, "a", "busi split\n", "busbra split\n")
    _fake_run(runs, "b", "busi split\n", "busbra split\n")
    monkeypatch.setenv("RUNS", str(runs))
    monkeypatch.delenv("DEVICE", raising=False)
    calls = recorded_commands(RECIPE_DIR / "pair.sh", tmp_path / "rec", "a", "b")
    assert [call[0] for call in calls] == ["bench/paired_models.py"] * 2
    assert (ROOT / "bench" / "paired_models.py").is_file()
    for call, data, split in zip(calls, ("busi", "busbra"), ("split.csv", "split_busbra.csv")):
        assert call[call.index("--old") + 1] == str(runs / "a" / "model.onnx")
        assert call[call.index("--new") + 1] == str(runs / "b" / "model.onnx")
        assert call[call.index("--data") + 1] == f"../shared/data/{data}"
        assert call[call.index("--split") + 1] == str(runs / "b" / split)


def test_pair_script_refuses_runs_on_different_splits(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _fake_run(runs, "a", "busi split\n", "busbra split\n")
    _fake_run(runs, "b", "busi split\n", "another busbra split\n")
    result = subprocess.run(["bash", str(RECIPE_DIR / "pair.sh"), "a", "b"], check=False, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "RUNS": str(runs), "PY": "false"})
    assert result.returncode != 0
    assert f"{runs}/a and {runs}/b differ in split_busbra.csv" in result.stderr


def test_pair_script_adds_a_one_scanner_pair_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    _fake_run(runs, "a", "busi split\n", "busbra split\n")
    _fake_run(runs, "b", "busi split\n", "busbra split\n")
    monkeypatch.setenv("RUNS", str(runs))
    monkeypatch.setenv("DEVICE", "Toshiba")
    calls = recorded_commands(RECIPE_DIR / "pair.sh", tmp_path / "rec", "a", "b")
    assert len(calls) == 3
    scanner = calls[2]
    assert scanner[scanner.index("--device") + 1] == "Toshiba"
    assert scanner[scanner.index("--data") + 1] == "../shared/data/busbra"
    assert scanner[scanner.index("--split") + 1] == str(runs / "b" / "split_busbra.csv")
    assert "--device" not in calls[0] + calls[1]


def test_the_check_refuses_a_bad_plan() -> None:
    """The stand-in check is the real one: a plan train refuses fails here too."""
    argv = ["train", "--data", "d", "--out", "runs/x", "--epochs", "5", "--progressive-size", "96",
            "--progressive-epochs", "5"]
    with pytest.raises(ConfigError):
        check_config(config_of(argv))


def test_batchnorm_refresh_script_re_exports_checkpoints_into_new_folders(tmp_path: Path) -> None:
    calls = recorded_commands(RECIPE_DIR / "bn_refresh.sh", tmp_path)
    assert len(calls) == 6
    for call in calls:
        args = build_parser().parse_args(call[2:])
        assert args.command == "export" and args.recompute_batchnorm
        assert args.checkpoint.name == "checkpoint.weights.h5" and args.checkpoint.parts[0] == "runs"
        assert args.out.parent != args.checkpoint.parent, "the run's own report must stay as it was"
