"""Joint training data: BUS-BRA-style extra data is split by patient, joined to training, its split written."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("tensorflow")

from tests.training.synthetic import write_dataset
from training.config import TrainConfig
from training.train import prepare_data


def _device(patient: int) -> str:
    return "Toshiba Aplio 300" if patient % 4 == 1 else "GE Logiq 5"


def _write_busbra(root: Path, patients: int = 10) -> Path:
    rng = np.random.default_rng(5)
    rows = ["relative_path\tclass\tpatient\tmask\tdevice"]
    for patient in range(1, patients + 1):
        label = "malignant" if patient % 3 == 0 else "benign"
        for side in ("l", "r"):
            image = rng.integers(0, 255, size=(30 + patient, 40), dtype=np.uint8)
            (root / label).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(root / label / f"bus_{patient:04d}-{side}.png")
            rows.append(f"{label}/bus_{patient:04d}-{side}.png\t{label}\t{patient}\t\t{_device(patient)}")
    (root / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")
    return root


def test_extra_data_split_by_patient_and_written(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "busi")
    extra = _write_busbra(tmp_path / "busbra")
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
    extra = _write_busbra(tmp_path / "busbra", patients=12)
    splits = {}
    for name, held in (("plain", []), ("loso", ["toshiba"])):
        run_dir = tmp_path / name
        run_dir.mkdir()
        config = TrainConfig(data=str(data), out=str(run_dir), extra_data=[str(extra)], image_size=16,
                             val_fraction=0.25, test_fraction=0.25, hold_out_device=held)
        prepared = prepare_data(config, run_dir)
        with open(run_dir / "split_busbra.csv", newline="") as handle:
            splits[name] = {row["path"]: row["split"] for row in csv.DictReader(handle)}
    toshiba = {path for path in splits["loso"] if _device(int(Path(path).stem[4:8])) == "Toshiba Aplio 300"}
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
    extra = tmp_path / "busbra" if (tmp_path / "busbra").exists() else _write_busbra(tmp_path / "busbra", patients=16)
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
