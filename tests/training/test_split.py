"""Near-duplicate grouping, groups files, the stratified group split, split.csv and the reference check."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from training.data import Dataset, DatasetError, Sample, discover_dataset
from training.split import (
    SPLITS,
    assign_groups,
    check_against_reference,
    find_duplicate_groups,
    find_duplicate_pairs,
    load_groups_file,
    main,
    make_split,
    perceptual_hash,
    read_split_csv,
    write_split_csv,
)


def _scan(seed: int, size: tuple[int, int] = (200, 150)) -> Image.Image:
    """A grey image with ultrasound-like structure (smooth blobs), speckle and depth attenuation."""
    rng = np.random.default_rng(seed)
    width, height = size
    blobs = Image.fromarray((rng.random((height // 20 + 2, width // 20 + 2)) * 255).astype(np.uint8))
    structure = np.asarray(blobs.resize((width, height), Image.Resampling.BICUBIC), dtype=np.float64)
    noise = Image.fromarray(np.clip(rng.rayleigh(60.0, (height, width)), 0, 255).astype(np.uint8))
    speckle = np.asarray(noise.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float64)
    depth = np.linspace(1.0, 0.55, height)[:, None]
    return Image.fromarray(np.clip((0.55 * structure + 0.6 * speckle) * depth, 0, 255).astype(np.uint8))


def _jpeg(image: Image.Image, quality: int = 85) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def _recropped(image: Image.Image, keep: float = 0.9, scale: float = 0.8) -> Image.Image:
    """Keep ``keep`` of each side (off-centre), rescale by ``scale``, re-encode as JPEG."""
    width, height = image.size
    left, top = int(width * 0.06), int(height * 0.03)
    crop = image.crop((left, top, left + int(width * keep), top + int(height * keep)))
    return _jpeg(crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.Resampling.BILINEAR))


def _save(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def test_perceptual_hash_survives_rescale_and_reencode() -> None:
    original = _scan(1)
    copy = _jpeg(original.resize((150, 112), Image.Resampling.BILINEAR), quality=70)
    other = _scan(2)
    bits = perceptual_hash(original)
    assert bits.dtype == bool and bits.shape == (128,)
    assert np.count_nonzero(bits != perceptual_hash(copy)) <= 12
    assert np.count_nonzero(bits != perceptual_hash(other)) >= 30


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A 3-class folder of distinct scans plus planted copies; returns root and {copy: original} (relative)."""
    root = tmp_path_factory.mktemp("planted") / "data"
    originals: dict[str, Image.Image] = {}
    seed = 100
    for label in ("benign", "malignant", "normal"):
        for number in range(1, 6):
            seed += 1
            name = f"{label}/{label} ({number}).png"
            originals[name] = _scan(seed, size=(200 + 8 * number, 150 + 4 * number))
            _save(originals[name], root / name)
    copies = {
        # Re-cropped to 90% and rescaled, saved as JPEG: the case the split must catch.
        "benign/benign (11).jpg": ("benign/benign (1).png", _recropped(originals["benign/benign (1).png"])),
        # The same frame filed under another class, cropped (no rescale).
        "malignant/malignant (12).png": (
            "benign/benign (2).png",
            originals["benign/benign (2).png"].crop((10, 0, 190, 150)),
        ),
        # An identical copy.
        "normal/normal (13).png": ("normal/normal (3).png", originals["normal/normal (3).png"]),
        # Re-cropped and blown back up to the original size.
        "malignant/malignant (14).png": (
            "malignant/malignant (4).png",
            _recropped(originals["malignant/malignant (4).png"], keep=0.9, scale=1 / 0.9),
        ),
    }
    for name, (_, image) in copies.items():
        _save(image, root / name)
    return root, {name: original for name, (original, _) in copies.items()}


def test_planted_near_duplicates_are_grouped_and_nothing_else(planted: tuple[Path, dict[str, str]]) -> None:
    root, copies = planted
    dataset = discover_dataset(root)
    relative = [dataset.relative_path(sample.path) for sample in dataset.samples]

    groups = dict(zip(relative, find_duplicate_groups([sample.path for sample in dataset.samples])))

    for copy, original in copies.items():
        assert groups[copy] == groups[original], copy
    sizes = Counter(groups.values())
    assert sorted(size for size in sizes.values() if size > 1) == [2, 2, 2, 2]
    assert len(sizes) == len(relative) - len(copies)


def test_unreadable_image_is_reported_not_fatal(tmp_path: Path) -> None:
    good = [_save(_scan(seed), tmp_path / f"{seed}.png") for seed in (1, 2)]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    copy = _save(_scan(1), tmp_path / "copy.png")

    pairs, problems = find_duplicate_pairs([good[0], broken, good[1], copy])

    assert [(pair.first, pair.second, pair.kind) for pair in pairs] == [(0, 3, "exact")]
    assert len(problems) == 1 and "broken.png" in problems[0]
    groups = find_duplicate_groups([good[0], broken, good[1], copy])
    assert groups[0] == groups[3] and len(set(groups)) == 3


def _fake_dataset(root: Path, layout: dict[str, list[int]], seed: int = 0) -> Dataset:
    """Samples without files: layout = {class: [group sizes]}; group ids are '<class>-g<k>'."""
    samples = []
    for label, sizes in layout.items():
        for group_number, size in enumerate(sizes):
            for member in range(size):
                path = root / label / f"{label}_{group_number}_{member}.png"
                samples.append(Sample(path=path, label=label, group=f"{label}-g{group_number}"))
    return Dataset(root=root, classes=tuple(sorted(layout)), samples=tuple(samples))


def _random_layout(seed: int) -> dict[str, list[int]]:
    rng = np.random.default_rng(seed)
    return {label: list(rng.integers(1, 4, size=count)) for label, count in (("a", 60), ("b", 30), ("c", 14))}


def _assert_groups_whole_and_stratified(dataset: Dataset, split: dict[Path, str]) -> None:
    by_group = defaultdict(set)
    for sample in dataset.samples:
        by_group[sample.group].add(split[sample.path])
    assert all(len(splits) == 1 for splits in by_group.values())
    counts = Counter((sample.label, split[sample.path]) for sample in dataset.samples)
    for label, total in dataset.counts().items():
        for name, fraction in zip(SPLITS, (0.7, 0.15, 0.15)):
            assert counts[(label, name)] > 0
            assert abs(counts[(label, name)] / total - fraction) < 0.1, (label, name, counts)


def test_split_keeps_groups_whole_and_stratifies(tmp_path: Path) -> None:
    dataset = _fake_dataset(tmp_path, _random_layout(0))

    split = make_split(dataset, seed=3)

    assert set(split) == {sample.path for sample in dataset.samples}
    _assert_groups_whole_and_stratified(dataset, split)


def test_split_is_deterministic_by_seed(tmp_path: Path) -> None:
    dataset = _fake_dataset(tmp_path, _random_layout(1))
    assert make_split(dataset, seed=5) == make_split(dataset, seed=5)
    assert make_split(dataset, seed=5) != make_split(dataset, seed=6)
    shuffled = Dataset(dataset.root, dataset.classes, tuple(reversed(dataset.samples)))
    assert make_split(shuffled, seed=5) == make_split(dataset, seed=5)


def _held_out_sizes(dataset: Dataset, split: dict[Path, str]) -> Counter:
    """Group size -> images of groups that size in validation or test."""
    size = Counter(sample.group for sample in dataset.samples)
    return Counter(size[sample.group] for sample in dataset.samples if split[sample.path] != "train")


def test_size_order_holds_out_only_the_smallest_groups(tmp_path: Path) -> None:
    # The split of record's order: largest groups first, while training is furthest below its share, so the
    # 3-image groups (half the images here) all train; with enough single images (BUSI) only those are held out.
    dataset = _fake_dataset(tmp_path, _random_layout(4))
    singles = _fake_dataset(tmp_path / "singles", {"a": [1] * 40 + [2] * 10, "b": [1] * 20 + [3] * 4})
    for seed in range(4):
        assert 3 not in _held_out_sizes(dataset, make_split(dataset, seed=seed))
        assert set(_held_out_sizes(singles, make_split(singles, seed=seed))) == {1}


def test_shuffled_order_holds_out_groups_of_every_size_and_still_stratifies(tmp_path: Path) -> None:
    dataset = _fake_dataset(tmp_path, _random_layout(4))
    held_out: Counter = Counter()
    for seed in range(4):
        split = make_split(dataset, seed=seed, order="shuffled")
        assert split == make_split(dataset, seed=seed, order="shuffled")
        held_out += _held_out_sizes(dataset, split)
        _assert_groups_whole_and_stratified(dataset, split)
    assert 3 in held_out, held_out
    with pytest.raises(ValueError, match="split order"):
        make_split(dataset, order="alphabetical")


def test_split_without_validation_and_cross_class_groups(tmp_path: Path) -> None:
    dataset = _fake_dataset(tmp_path, {"a": [1] * 20, "b": [1] * 10})
    # One group spanning both classes (the same frame filed twice): 2 'b' + 1 'a' -> counts as 'b'.
    mixed = [
        Sample(path=tmp_path / "a" / "m1.png", label="a", group="mixed"),
        Sample(path=tmp_path / "b" / "m2.png", label="b", group="mixed"),
        Sample(path=tmp_path / "b" / "m3.png", label="b", group="mixed"),
    ]
    dataset = Dataset(dataset.root, dataset.classes, dataset.samples + tuple(mixed))

    split = make_split(dataset, fractions=(0.8, 0.0, 0.2), seed=0)

    assert set(split.values()) == {"train", "test"}
    assert len({split[sample.path] for sample in mixed}) == 1
    with pytest.raises(ValueError):
        make_split(dataset, fractions=(0.5, 0.5))


def test_split_csv_round_trip(tmp_path: Path) -> None:
    dataset = _fake_dataset(tmp_path / "data", _random_layout(2))
    split = make_split(dataset, seed=0)
    csv_path = tmp_path / "run" / "split.csv"

    write_split_csv(dataset, split, csv_path)

    assert csv_path.read_text().splitlines()[0] == "path,label,group,split"
    assert read_split_csv(csv_path, dataset.root) == split
    relative = read_split_csv(csv_path)
    assert all(not path.is_absolute() for path in relative)
    with pytest.raises(DatasetError, match="not found"):
        read_split_csv(tmp_path / "missing.csv")


def test_load_groups_file_formats(tmp_path: Path) -> None:
    simple = tmp_path / "groups.csv"
    simple.write_text("path,group\nbenign/b (1).png,P1\nnormal/n (1).png,P1\nbenign/b (2).png,P2\n")
    assert load_groups_file(simple) == {"benign/b (1).png": "P1", "normal/n (1).png": "P1", "benign/b (2).png": "P2"}

    tsv = tmp_path / "groups.tsv"
    tsv.write_text("path\tgroup\nx.png\tG\n")
    assert load_groups_file(tsv) == {"x.png": "G"}

    duplicates = tmp_path / "DUPLICATES.tsv"
    duplicates.write_text(
        "group_id\tkind\tn_images\tpaths\n"
        "G001\tnear\t2\ta/1.png;b/2.png\n"
        "G002\tnear\t2\ta/3.png;a/4.png\n"
        "G150\tsimilar\t3\ta/4.png;a/5.png;a/6.png\n"  # overlaps G002: one group
    )
    groups = load_groups_file(duplicates)
    assert groups["a/1.png"] == groups["b/2.png"] == "G001"
    assert groups["a/3.png"] == groups["a/4.png"] == groups["a/5.png"] == groups["a/6.png"] == "G002"

    bad = tmp_path / "bad.csv"
    bad.write_text("file,cluster\nx,1\n")
    with pytest.raises(DatasetError, match="path,group"):
        load_groups_file(bad)
    with pytest.raises(DatasetError, match="not found"):
        load_groups_file(tmp_path / "nope.csv")


def test_assign_groups_from_file_and_existing_groups(tmp_path: Path) -> None:
    samples = (
        Sample(tmp_path / "a" / "1.png", "a"),
        Sample(tmp_path / "b" / "2.png", "b"),
        Sample(tmp_path / "a" / "3.png", "a", group="patient-7"),
        Sample(tmp_path / "b" / "4.png", "b", group="patient-7"),
        Sample(tmp_path / "a" / "5.png", "a"),
    )
    dataset = Dataset(tmp_path, ("a", "b"), samples)
    groups_file = tmp_path / "groups.csv"
    groups_file.write_text("path,group\na/1.png,G9\nb/2.png,G9\nb/4.png,G3\n")

    grouped = assign_groups(dataset, groups_file=groups_file, detect_duplicates=False)

    names = [sample.group for sample in grouped.samples]
    assert names[0] == names[1] == "G9"
    # The file's G3 joins patient-7's two images; the file's name wins.
    assert names[2] == names[3] == "G3"
    assert names[4] == "img-a/5.png"
    assert [sample.path for sample in grouped.samples] == [sample.path for sample in samples]


def test_assign_groups_detects_planted_copies(planted: tuple[Path, dict[str, str]]) -> None:
    root, copies = planted
    grouped = assign_groups(discover_dataset(root))
    group_of = {grouped.relative_path(sample.path): sample.group for sample in grouped.samples}
    for copy, original in copies.items():
        assert group_of[copy] == group_of[original]
        assert group_of[copy].startswith("dup-")
    split = make_split(grouped, seed=0)
    for copy, original in copies.items():
        assert split[root / copy] == split[root / original]


def test_check_against_reference(tmp_path: Path) -> None:
    reference = tmp_path / "DUPLICATES.tsv"
    reference.write_text(
        "group_id\tkind\tpaths\n"
        "G1\tnear\ta/1.png;a/2.png\n"
        "G2\tnear\ta/3.png;b/4.png\n"
        "G3\tsimilar\ta/5.png;a/6.png;a/missing.png\n"
        "G4\tnear\ta/7.png;a/gone.png\n"  # one member present: not counted
    )
    ours = {tmp_path / name: group for name, group in (
        ("a/1.png", "x"), ("a/2.png", "x"), ("a/3.png", "y"), ("b/4.png", "z"),
        ("a/5.png", "w"), ("a/6.png", "w"), ("a/7.png", "v"),
    )}

    result = check_against_reference(ours, reference, tmp_path)

    assert result["reference_groups"] == 3
    assert result["kept_together"] == 2
    assert result["split_apart"] == ["G2"]
    assert result["by_kind"] == {"near": {"groups": 2, "kept_together": 1}, "similar": {"groups": 1, "kept_together": 1}}


def test_command_line_check(planted: tuple[Path, dict[str, str]], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    root, copies = planted
    reference = tmp_path / "DUPLICATES.tsv"
    lines = ["group_id\tkind\tpaths"] + [f"R{k}\tnear\t{c};{o}" for k, (c, o) in enumerate(copies.items())]
    reference.write_text("\n".join(lines) + "\n")

    code = main(["--data", str(root), "--check", str(reference), "--out", str(tmp_path / "split.csv")])

    assert code == 0
    output = capsys.readouterr().out
    assert f"kept together: {len(copies)}/{len(copies)}" in output
    assert len(read_split_csv(tmp_path / "split.csv")) == 19
    assert main(["--data", str(tmp_path / "nothing")]) == 2
