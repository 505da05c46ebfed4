"""Joint training data: BUS-BRA-style extra data is split by patient, joined to training, its split written."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("tensorflow")

from tests.training.test_end_to_end import _write_dataset
from training.config import TrainConfig
from training.train import prepare_data


def _write_busbra(root: Path, patients: int = 10) -> Path:
    rng = np.random.default_rng(5)
    rows = ["relative_path\tclass\tpatient\tmask"]
    for patient in range(1, patients + 1):
        label = "malignant" if patient % 3 == 0 else "benign"
        for side in ("l", "r"):
            image = rng.integers(0, 255, size=(30 + patient, 40), dtype=np.uint8)
            (root / label).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(root / label / f"bus_{patient:04d}-{side}.png")
            rows.append(f"{label}/bus_{patient:04d}-{side}.png\t{label}\t{patient}\t")
    (root / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")
    return root


def test_extra_data_split_by_patient_and_written(tmp_path: Path) -> None:
    data = _write_dataset(tmp_path / "busi")
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
    assert set(prepared.extra_test.sources) == {"busbra"}
