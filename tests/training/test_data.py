"""Dataset discovery: class folders, mask handling, clear errors, BUS-BRA manifest, mask loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.data import DatasetError, Sample, discover_busbra, discover_dataset, load_mask, merge_datasets


def _image(path: Path, size: tuple[int, int] = (24, 20), value: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, value).save(path)
    return path


def _mask(path: Path, size: tuple[int, int], box: tuple[int, int, int, int]) -> Path:
    array = np.zeros((size[1], size[0]), dtype=np.uint8)
    left, top, right, bottom = box
    array[top:bottom, left:right] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def test_counts_suffixes_and_masks_beside_images(tmp_path: Path) -> None:
    root = tmp_path / "Dataset_BUSI_with_GT"
    for name in ("benign (1).png", "benign (2).PNG", "benign (10).jpg", "benign (3).bmp"):
        _image(root / "benign" / name)
    _mask(root / "benign" / "benign (1)_mask.png", (24, 20), (0, 0, 4, 4))
    _mask(root / "benign" / "benign (1)_mask_1.png", (24, 20), (10, 10, 12, 12))
    _mask(root / "benign" / "benign (10)_mask.png", (24, 20), (0, 0, 2, 2))
    _image(root / "malignant" / "malignant (1).tif")
    _image(root / "malignant" / "malignant (2).jpeg")
    _mask(root / "malignant" / "malignant (2)_mask.png", (24, 20), (1, 1, 3, 3))
    (root / "malignant" / "notes.txt").write_text("not an image")
    _image(root / "normal" / "normal (1).png")
    _image(root / ".hidden" / "x.png")

    dataset = discover_dataset(root)

    assert dataset.classes == ("benign", "malignant", "normal")
    assert dataset.counts() == {"benign": 4, "malignant": 2, "normal": 1}
    assert not any("_mask" in sample.path.name for sample in dataset.samples)
    by_name = {sample.path.name: sample for sample in dataset.samples}
    assert [p.name for p in by_name["benign (1).png"].mask_paths] == ["benign (1)_mask.png", "benign (1)_mask_1.png"]
    # "benign (1)" must not pick up the masks of "benign (10)" and vice versa.
    assert [p.name for p in by_name["benign (10).jpg"].mask_paths] == ["benign (10)_mask.png"]
    assert by_name["benign (2).PNG"].mask_paths == ()
    assert [p.name for p in by_name["malignant (2).jpeg"].mask_paths] == ["malignant (2)_mask.png"]
    # Natural order: 2 before 10.
    names = [sample.path.name for sample in dataset.samples if sample.label == "benign"]
    assert names.index("benign (2).PNG") < names.index("benign (10).jpg")
    assert {sample.source for sample in dataset.samples} == {"busi"}
    assert all(sample.group == "" for sample in dataset.samples)


def test_masks_in_separate_root(tmp_path: Path) -> None:
    root, masks = tmp_path / "busi", tmp_path / "busi_masks"
    _image(root / "benign" / "benign (5).png")
    _image(root / "normal" / "normal (7).png")
    _mask(masks / "benign" / "benign (5)_mask.png", (24, 20), (0, 0, 3, 3))
    _mask(masks / "benign" / "benign (5)_mask_2.png", (24, 20), (5, 5, 8, 8))

    dataset = discover_dataset(root, masks_root=masks)

    by_name = {sample.path.name: sample for sample in dataset.samples}
    assert [p.name for p in by_name["benign (5).png"].mask_paths] == ["benign (5)_mask.png", "benign (5)_mask_2.png"]
    assert by_name["normal (7).png"].mask_paths == ()


def test_classes_filter(tmp_path: Path) -> None:
    for label in ("a", "b", "c"):
        _image(tmp_path / label / "x.png")
    assert discover_dataset(tmp_path, classes=["c", "a"]).classes == ("a", "c")
    with pytest.raises(DatasetError, match="zzz"):
        discover_dataset(tmp_path, classes=["a", "zzz"])


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("missing", "not found"),
        ("file", "not a folder"),
        ("no_classes", "No class folders"),
        ("loose_images", "loose image"),
        ("empty_class", "without images.*empty"),
        ("only_masks", "without images.*benign"),
        ("single_class", "Only one class"),
    ],
)
def test_bad_folders_fail_clearly(tmp_path: Path, layout: str, message: str) -> None:
    root = tmp_path / "data"
    if layout == "file":
        root.write_text("this is a file")
    elif layout == "no_classes":
        root.mkdir()
    elif layout == "loose_images":
        _image(root / "a.png")
    elif layout == "empty_class":
        _image(root / "benign" / "b.png")
        (root / "empty").mkdir()
    elif layout == "only_masks":
        _mask(root / "benign" / "benign (1)_mask.png", (8, 8), (0, 0, 2, 2))
        _image(root / "normal" / "n.png")
    elif layout == "single_class":
        _image(root / "benign" / "b.png")
    with pytest.raises(DatasetError, match=message):
        discover_dataset(root)


def test_load_mask_union_resized_and_binary(tmp_path: Path) -> None:
    first = _mask(tmp_path / "x_mask.png", (40, 20), (0, 0, 20, 10))  # top-left quarter
    second = _mask(tmp_path / "x_mask_1.png", (40, 20), (20, 10, 40, 20))  # bottom-right quarter
    sample = Sample(path=tmp_path / "x.png", label="benign", mask_paths=(first, second))

    mask = load_mask(sample, (10, 20))

    assert mask.shape == (10, 20) and mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert mask[:5, :10].all() and mask[5:, 10:].all()
    assert not mask[:5, 10:].any() and not mask[5:, :10].any()
    assert mask.sum() == pytest.approx(100)


def test_load_mask_without_masks_is_zero(tmp_path: Path) -> None:
    mask = load_mask(Sample(path=tmp_path / "n.png", label="normal"), (6, 7))
    assert mask.shape == (6, 7) and not mask.any()


def test_load_mask_unreadable_fails_clearly(tmp_path: Path) -> None:
    broken = tmp_path / "b_mask.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="b_mask.png"):
        load_mask(Sample(path=tmp_path / "b.png", label="benign", mask_paths=(broken,)), (4, 4))


def _busbra(tmp_path: Path) -> Path:
    root = tmp_path / "busbra"
    rows = ["relative_path\tclass\tpatient\tmask\tside"]
    for case, label, side in (("0001", "malignant", "l"), ("0001", "malignant", "r"), ("0002", "benign", "l")):
        _image(root / label / f"bus_{case}-{side}.png")
        _mask(tmp_path / "busbra_masks" / label / f"mask_{case}-{side}.png", (24, 20), (0, 0, 5, 5))
        rows.append(f"{label}/bus_{case}-{side}.png\t{label}\t{int(case)}\t{label}/mask_{case}-{side}.png\t{side}")
    (root / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")
    return root


def test_discover_busbra_groups_by_patient(tmp_path: Path) -> None:
    dataset = discover_busbra(_busbra(tmp_path))

    assert dataset.classes == ("benign", "malignant")
    assert dataset.counts() == {"benign": 1, "malignant": 2}
    assert {sample.source for sample in dataset.samples} == {"busbra"}
    groups = {sample.path.name: sample.group for sample in dataset.samples}
    assert groups["bus_0001-l.png"] == groups["bus_0001-r.png"] == "busbra-patient-1"
    assert groups["bus_0002-l.png"] == "busbra-patient-2"
    assert all(len(sample.mask_paths) == 1 and sample.mask_paths[0].is_file() for sample in dataset.samples)


def test_discover_busbra_errors(tmp_path: Path) -> None:
    root = _busbra(tmp_path)
    (root / "MANIFEST.tsv").unlink()
    with pytest.raises(DatasetError, match="manifest not found"):
        discover_busbra(root)
    (root / "MANIFEST.tsv").write_text("relative_path\tclass\tpatient\nbenign/missing.png\tbenign\t3\n")
    with pytest.raises(DatasetError, match="image not found"):
        discover_busbra(root)


def test_merge_datasets_unions_classes_and_samples(tmp_path: Path) -> None:
    busi_root = tmp_path / "busi"
    for label in ("benign", "malignant", "normal"):
        _image(busi_root / label / f"{label} (1).png")
    busi = discover_dataset(busi_root)
    busbra = discover_busbra(_busbra(tmp_path))

    merged = merge_datasets([busi, busbra])

    assert merged.root == tmp_path
    assert merged.classes == ("benign", "malignant", "normal")
    assert merged.counts() == {"benign": 2, "malignant": 3, "normal": 1}
    assert merged.relative_path(busbra.samples[0].path).startswith("busbra/")
    assert "6 images" in merged.describe()
    with pytest.raises(DatasetError):
        merge_datasets([])
