"""Shared real-DenseNet121 runs on the tiny synthetic data set.

Building and tracing a DenseNet121 training step costs about a minute and a half on a 2-core CPU whatever the input
size, so the suite trains as few models as the behaviour under test allows: one masked-image pretraining, and one
two-stage supervised run that starts from it (every end-to-end check of train -> export -> evaluate reads that run).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.synthetic import COMMON, write_dataset


@pytest.fixture(scope="session")
def synthetic_busi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six images per class in the raw BUSI layout (masks beside the images)."""
    return write_dataset(tmp_path_factory.mktemp("synthetic") / "Dataset_BUSI_with_GT")


@pytest.fixture(scope="session")
def pretrained(synthetic_busi: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pretrain` for 2 epochs from random init: the folder with backbone.weights.h5, pretrain.json, split.csv."""
    pytest.importorskip("tensorflow")
    from training.__main__ import main as training_main

    out = tmp_path_factory.mktemp("pretrain") / "run"
    assert training_main(["pretrain", "--data", str(synthetic_busi), *COMMON, "--weights", "none", "--epochs", "2",
                          "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def trained_run(synthetic_busi: Path, pretrained: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[Path, Path]:
    """(data, run folder) of a two-stage run (1 frozen + 1 fine-tune epoch, lesion-mask head) from the pretraining."""
    pytest.importorskip("tensorflow")
    from training.__main__ import main as training_main

    run_dir = tmp_path_factory.mktemp("e2e") / "runs" / "tiny"
    assert training_main([
        "train", "--data", str(synthetic_busi), *COMMON, "--out", str(run_dir),
        "--weights", str(pretrained / "backbone.weights.h5"), "--train-batchnorm",
        "--frozen-epochs", "1", "--epochs", "1", "--seg-head", "--ood-components", "4",
    ]) == 0
    return synthetic_busi, run_dir
