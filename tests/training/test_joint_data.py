"""Joint training data: BUS-BRA-style extra data is split by patient, joined to training, its split written."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tests.training.synthetic import device_of_patient, write_busbra, write_dataset
from training.config import TrainConfig
from training.train import prepare_data


def test_extra_data_split_by_patient_and_written(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "busi")
    extra = write_busbra(tmp_path / "busbra")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = TrainConfig(data=str(data), out=str(run_dir), extra_data=[str(extra)], image_size=16,
                         val_fraction=0.25, test_fraction=0.25)
    prepared = prepare_data(config, run_dir)
    with open(run_dir / "split_busbra.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 20
    by_patient: dict[str, set[str]] = {}
    for row in rows:
        by_patient.setdefault(row["group"], set()).add(row["split"])
    assert all(len(splits) == 1 for splits in by_patient.values())  # a patient never straddles train and test
    n_extra_train = sum(row["split"] == "train" for row in rows)
    assert prepared.extra_test is not None and len(prepared.extra_test) == 20 - n_extra_train > 0
    assert sum(source == "busbra" for source in prepared.train.sources) == n_extra_train
    # --primary-weight tells the two apart by this flag, whatever the data sets' names
    assert prepared.train.extra is not None
    assert [bool(flag) for flag in prepared.train.extra] == [source == "busbra" for source in prepared.train.sources]
    assert set(prepared.extra_test.sources) == {"busbra"}


def test_held_out_scanner_goes_to_test_whole_and_other_patients_keep_their_split(tmp_path: Path) -> None:
    """Leave-one-scanner-out: every patient of the held-out device is tested, none trained; the rest split as before."""
    from training.data import DatasetError

    data = write_dataset(tmp_path / "busi")
    extra = write_busbra(tmp_path / "busbra", patients=12)
    splits = {}
    for name, held in (("plain", []), ("loso", ["toshiba"])):
        run_dir = tmp_path / name
        run_dir.mkdir()
        config = TrainConfig(data=str(data), out=str(run_dir), extra_data=[str(extra)], image_size=16,
                             val_fraction=0.25, test_fraction=0.25, hold_out_device=held)
        prepared = prepare_data(config, run_dir)
        with open(run_dir / "split_busbra.csv", newline="") as handle:
            splits[name] = {row["path"]: row["split"] for row in csv.DictReader(handle)}
    toshiba = {path for path in splits["loso"] if device_of_patient(int(Path(path).stem[4:8])) == "Toshiba Aplio 300"}
    assert len(toshiba) == 6 and {splits["loso"][path] for path in toshiba} == {"test"}
    assert any(splits["plain"][path] == "train" for path in toshiba)  # held out only when asked
    assert all(splits["loso"][path] == splits["plain"][path] for path in splits["plain"] if path not in toshiba)
    assert prepared.extra_test is not None
    assert len(prepared.extra_test) == sum(split == "test" for split in splits["loso"].values())
    assert prepared.counts["extra"][str(extra)]["held_out_devices"] == ["Toshiba Aplio 300"]

    for held, extra_data, message in ((["Siemens"], [str(extra)], "no image's device matches 'Siemens'"),
                                      (["toshiba"], [], "needs --extra-data")):
        config = TrainConfig(data=str(data), out=str(tmp_path / "bad"), extra_data=extra_data, image_size=16,
                             hold_out_device=held)
        (tmp_path / "bad").mkdir(exist_ok=True)
        with pytest.raises(DatasetError, match=message):
            prepare_data(config, tmp_path / "bad")


def _split_files(tmp_path: Path, name: str, **seeds: int | str) -> tuple[str, str]:
    data = tmp_path / "busi" if (tmp_path / "busi").exists() else write_dataset(tmp_path / "busi")
    extra = tmp_path / "busbra" if (tmp_path / "busbra").exists() else write_busbra(tmp_path / "busbra", patients=16)
    run_dir = tmp_path / name
    run_dir.mkdir()
    config = TrainConfig(data=str(data), out=str(run_dir), extra_data=[str(extra)], image_size=16,
                         val_fraction=0.25, test_fraction=0.25, **seeds)  # type: ignore[arg-type]
    prepare_data(config, run_dir)
    return (run_dir / "split.csv").read_text(), (run_dir / "split_busbra.csv").read_text()


def test_split_seed_keeps_the_split_while_the_seed_changes(tmp_path: Path) -> None:
    """Seed-to-seed variance needs the same held-out images: --split-seed pins both splits, --seed the rest."""
    reference = _split_files(tmp_path, "seed0", seed=0)
    assert _split_files(tmp_path, "seed1_split0", seed=1, split_seed=0) == reference
    assert _split_files(tmp_path, "seed0_split_default", seed=0, split_seed=-1) == reference
    other = _split_files(tmp_path, "seed1", seed=1)
    assert other[0] != reference[0] and other[1] != reference[1]  # without it, the seed moves both splits


def test_split_order_reaches_both_splits_and_a_wrong_one_is_refused(tmp_path: Path, monkeypatch) -> None:
    """--split-order is how the BUSI split and the extra data's patient split both place their groups."""
    from training import split as split_module
    from training.config import ConfigError
    from training.train import check_config

    orders: list[str] = []
    real_make_split = split_module.make_split

    def recording_make_split(*args, **kwargs):
        orders.append(kwargs["order"])
        return real_make_split(*args, **kwargs)

    monkeypatch.setattr(split_module, "make_split", recording_make_split)
    _split_files(tmp_path, "shuffled", split_order="shuffled")
    _split_files(tmp_path, "size", seed=0)
    assert orders == ["shuffled", "shuffled", "size", "size"]
    with pytest.raises(ConfigError, match="--split-order must be one of size, shuffled, got 'random'"):
        check_config(TrainConfig(data="d", out="o", image_size=32, split_order="random"))


def _split_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)}


def test_extra_validation_patients_come_from_training_rows_only(tmp_path: Path) -> None:
    """--extra-val-fraction keeps whole training patients for calibration; the test patients do not change."""
    data = write_dataset(tmp_path / "busi")
    extra = write_busbra(tmp_path / "busbra", patients=20)
    splits, prepared = {}, {}
    for name, fraction in (("plain", 0.0), ("calibrated", 0.3)):
        run_dir = tmp_path / name
        run_dir.mkdir()
        config = TrainConfig(data=str(data), out=str(run_dir), extra_data=[str(extra)], image_size=16,
                             val_fraction=0.25, test_fraction=0.25, extra_val_fraction=fraction)
        prepared[name] = prepare_data(config, run_dir)
        splits[name] = _split_rows(run_dir / "split_busbra.csv")
    plain, calibrated = splits["plain"], splits["calibrated"]
    assert "val" not in {row["split"] for row in plain.values()} and prepared["plain"].extra_val is None
    kept = {path for path, row in calibrated.items() if row["split"] == "val"}
    assert kept and {plain[path]["split"] for path in kept} == {"train"}  # drawn from training rows only
    assert all(calibrated[path]["split"] == plain[path]["split"] for path in plain if path not in kept)
    by_patient: dict[str, set[str]] = {}
    for row in calibrated.values():
        by_patient.setdefault(row["group"], set()).add(row["split"])
    assert all(len(names) == 1 for names in by_patient.values())  # a patient is never split
    assert {calibrated[path]["label"] for path in kept} == {"benign", "malignant"}  # stratified by class

    extra_val = prepared["calibrated"].extra_val
    assert extra_val is not None and len(extra_val) == len(kept)
    assert sum(source == "busbra" for source in prepared["calibrated"].train.sources) == (
        sum(source == "busbra" for source in prepared["plain"].train.sources) - len(kept))
    images, labels = prepared["calibrated"].calibration_set()
    val = prepared["calibrated"].val
    assert len(images) == len(labels) == len(val) + len(kept)
    np.testing.assert_array_equal(labels, np.concatenate([val.labels, extra_val.labels]))
    plain_images, _ = prepared["plain"].calibration_set()
    assert plain_images is prepared["plain"].val.images


@pytest.mark.parametrize(("fraction", "extra", "message"), [
    (0.2, False, "needs --extra-data"), (1.0, True, "below 1"), (-0.1, True, "at least 0")])
def test_extra_validation_fraction_is_checked_before_loading(tmp_path: Path, fraction: float, extra: bool,
                                                             message: str) -> None:
    from training.train import ConfigError, check_config

    config = TrainConfig(data=str(tmp_path), out=str(tmp_path / "run"), image_size=32, extra_val_fraction=fraction,
                         extra_data=[str(tmp_path)] if extra else [])
    with pytest.raises(ConfigError, match=message):
        check_config(config)
