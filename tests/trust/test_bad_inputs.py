"""The bad-input corpus through the loader, the batch path and the CLI: specific messages, no crash, no writes."""

from __future__ import annotations

import builtins
import csv
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from desktop_app.core import imageio
from desktop_app.core.imageio import ImageLoadError, frame_count, load_image, quality_warnings
from desktop_app.core.preprocessing import preprocess
from tests.tiny_model import make_tiny_model
from tests.trust.corpus import CASES, build_corpus, corpus_cases


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25
    assert sum(not case.should_load for case in CASES.values()) >= 15


@pytest.mark.parametrize("case", corpus_cases(), ids=lambda case: case.name)
def test_loader_gives_the_expected_outcome(case, tmp_path: Path) -> None:
    path = case.build(tmp_path)
    if case.should_load:
        image = load_image(path, frame=case.frame)
        assert image.mode == "RGB"
        if case.check is not None:
            case.check(image)
        model_input = preprocess(image, (32, 32))
        assert model_input.shape == (32, 32, 3) and model_input.dtype == np.float32
    else:
        with pytest.raises(ImageLoadError) as caught:
            load_image(path, frame=case.frame)
        message = str(caught.value)
        assert case.message in message
        assert message.startswith(path.name + ":"), "every message names the file"


def test_decompression_bomb_is_refused_without_decoding(tmp_path: Path, monkeypatch) -> None:
    decoded: list[object] = []
    original_load = ImageFile.ImageFile.load

    def spy_load(self):
        decoded.append(self.size)
        return original_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)
    for name in ("decompression_bomb", "over_pixel_limit_9000x9000"):
        path = CASES[name].build(tmp_path)
        assert path.stat().st_size < 200_000  # cheap on disk, hundreds of megabytes if decoded
        with pytest.raises(ImageLoadError, match="image too large"):
            load_image(path)
    assert decoded == []


def test_tiny_and_elongated_images_carry_a_warning(tmp_path: Path) -> None:
    tiny = quality_warnings(load_image(CASES["one_pixel"].build(tmp_path)))
    elongated = quality_warnings(load_image(CASES["elongated_10000x2"].build(tmp_path)))
    normal = quality_warnings(load_image(CASES["spaces_in_path"].build(tmp_path)).resize((300, 200)))
    assert any("very small image (1x1" in warning for warning in tiny)
    assert any("extremely elongated image (10000x2" in warning for warning in elongated)
    assert normal == []


def test_frame_count_of_multi_frame_files(tmp_path: Path) -> None:
    assert frame_count(CASES["animated_gif_first_frame"].build(tmp_path)) == 3
    assert frame_count(CASES["dicom_frame_out_of_range"].build(tmp_path)) == 3
    assert frame_count(CASES["palette"].build(tmp_path)) == 1
    with pytest.raises(ImageLoadError, match="text file"):
        frame_count(CASES["text_named_png"].build(tmp_path))


def test_negative_frame_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="frame index must be 0 or more"):
        load_image(CASES["palette"].build(tmp_path), frame=-1)


def _deny_reading(monkeypatch, denied: Path) -> None:
    """Simulate an unreadable file: CI runs as root, where chmod 000 does not stop reading."""
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file) == denied:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(imageio, "open", guarded_open, raising=False)


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch) -> None:
    path = CASES["palette"].build(tmp_path)
    _deny_reading(monkeypatch, path)
    with pytest.raises(ImageLoadError, match=r"palette.png: permission denied"):
        load_image(path)


def test_unreadable_file_real_permissions(tmp_path: Path) -> None:
    path = CASES["palette"].build(tmp_path)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop reading (covered by the simulated test)")
        with pytest.raises(ImageLoadError, match="permission denied"):
            load_image(path)
    finally:
        path.chmod(0o644)


# ---- the corpus through the batch path and the CLI -------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Relative path -> (sha256, size, mtime_ns) for every file and folder under ``folder``."""
    state = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            state[str(path.relative_to(folder))] = ("link-dir-or-pipe", 0, 0)
            continue
        data = path.read_bytes()
        state[str(path.relative_to(folder))] = (
            hashlib.sha256(data).hexdigest(),
            len(data),
            path.stat().st_mtime_ns,
        )
    return state


@pytest.fixture()
def corpus(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    folder = tmp_path / "corpus"
    folder.mkdir()
    return folder, build_corpus(folder)


@pytest.fixture()
def tiny_model(tmp_path: Path) -> Path:
    return make_tiny_model(tmp_path / "models" / "tiny.onnx")


def _expected_outcome(name: str) -> str | None:
    """None when the case must be classified, else the expected message fragment."""
    return CASES[name].message


def test_batch_continues_past_every_bad_file_and_writes_nothing(
    corpus, tiny_model: Path, monkeypatch
) -> None:
    from desktop_app.core.batch import classify_files
    from desktop_app.core.inference import ModelSession

    folder, paths = corpus
    unreadable = CASES["spaces_in_path"].build(folder.parent)  # a good image made unreadable
    _deny_reading(monkeypatch, unreadable)
    before = _snapshot(folder)
    names = list(paths)
    ordered = [paths[name] for name in names] + [unreadable]
    session = ModelSession.open(tiny_model)
    rows = list(classify_files(session, ordered, chunk_size=4))

    assert [row.path for row in rows] == ordered
    for name, row in zip(names, rows):
        expected = _expected_outcome(name)
        if expected is None:
            assert row.ok, f"{name}: {row.error}"
            assert np.isclose(row.prediction.probabilities.sum(), 1.0, atol=1e-5)
        else:
            assert not row.ok and expected in row.error, f"{name}: {row.error}"
    assert not rows[-1].ok and "permission denied" in rows[-1].error
    assert _snapshot(folder) == before


def test_cli_survives_the_corpus(corpus, tiny_model: Path, tmp_path: Path, capsys) -> None:
    from desktop_app import cli

    folder, paths = corpus
    before = _snapshot(folder)
    out_csv = tmp_path / "out" / "results.csv"
    out_csv.parent.mkdir()
    explicit = [str(path) for path in paths.values()]
    code = cli.main([*explicit, "--model", str(tiny_model), "--csv", str(out_csv)])
    assert code == cli.EXIT_OK
    with open(out_csv, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    by_file = {Path(record["file"]).name: record for record in records}
    for name, path in paths.items():
        if path.is_dir():
            continue  # the CLI expands folders; an empty one contributes no row
        record = by_file[path.name]
        expected = _expected_outcome(name)
        if expected is None:
            assert record["status"] == "ok", f"{name}: {record['message']}"
        else:
            assert record["status"] == "error" and expected in record["message"], name
    assert "could not be classified" in capsys.readouterr().err
    assert _snapshot(folder) == before


def test_cli_process_survives_a_folder_of_bad_files(corpus, tiny_model: Path) -> None:
    """The real executable path: a separate process, exit code 0, one output line per file."""
    import subprocess
    import sys

    folder, _ = corpus
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app.cli", str(folder), "--model", str(tiny_model), "--csv", "-"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    found_files = [p for p in imageio.iter_image_files([folder])]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 + len(found_files)
    assert "Traceback" not in result.stderr


def test_unreliable_images_are_classified_with_a_note(tmp_path: Path, tiny_model: Path) -> None:
    from desktop_app import cli

    paths = [CASES[name].build(tmp_path) for name in ("one_pixel", "elongated_10000x2")]
    paths.append(tmp_path / "normal scan.png")
    Image.new("L", (300, 220), 100).save(paths[-1])
    out_csv = tmp_path / "notes.csv"
    assert cli.main([*map(str, paths), "--model", str(tiny_model), "--csv", str(out_csv)]) == cli.EXIT_OK
    with open(out_csv, newline="", encoding="utf-8") as handle:
        messages = {
            Path(record["file"]).name: (record["status"], record["message"])
            for record in csv.DictReader(handle)
        }
    assert messages["one_pixel.png"][0] == "ok" and "very small image (1x1" in messages["one_pixel.png"][1]
    assert (
        messages["elongated.png"][0] == "ok" and "extremely elongated image" in messages["elongated.png"][1]
    )
    assert messages["normal scan.png"] == ("ok", "")
