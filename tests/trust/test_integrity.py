"""Model integrity (sha256 against the card) and models that are missing, corrupt or break the contract."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from desktop_app.core import contract
from desktop_app.core.integrity import (
    MODEL_CARD_NAME,
    UNVERIFIED,
    VERIFIED,
    IntegrityError,
    sha256_of_file,
    sidecar_path,
    verify_model,
    write_sidecar,
)
from tests.tiny_model import make_tiny_model


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    return make_tiny_model(tmp_path / "model.onnx")


def _flip_one_byte(path: Path, offset: int = -10) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_sha256_matches_hashlib(model: Path) -> None:
    assert sha256_of_file(model, chunk_size=1000) == hashlib.sha256(model.read_bytes()).hexdigest()


def test_no_card_is_allowed_but_unverified(model: Path) -> None:
    report = verify_model(model)
    assert report.status == UNVERIFIED and not report.verified
    assert report.sha256 == sha256_of_file(model)
    assert report.describe().startswith("unverified")


def test_sidecar_in_sha256sum_format_verifies(model: Path) -> None:
    sidecar = write_sidecar(model)
    assert sidecar == sidecar_path(model) == model.with_name("model.onnx.sha256")
    assert sidecar.read_text() == f"{sha256_of_file(model)}  model.onnx\n"
    report = verify_model(model)
    assert report.status == VERIFIED and report.cards == (sidecar,)
    assert "model.onnx.sha256" in report.describe()


def test_tampered_model_is_refused_with_both_digests(model: Path) -> None:
    write_sidecar(model)
    expected = sha256_of_file(model)
    _flip_one_byte(model)
    with pytest.raises(IntegrityError) as caught:
        verify_model(model)
    message = str(caught.value)
    assert message.startswith("model file does not match its card: expected ")
    assert expected in message and sha256_of_file(model) in message


def test_sidecar_with_binary_marker_and_other_files(model: Path) -> None:
    digest = sha256_of_file(model)
    sidecar_path(model).write_text(f"{'0' * 64}  other.onnx\n{digest} *model.onnx\n")
    assert verify_model(model).verified


def test_sidecar_without_a_digest_is_refused(model: Path) -> None:
    sidecar_path(model).write_text("not a checksum\n")
    with pytest.raises(IntegrityError, match="holds no sha256 for model.onnx"):
        verify_model(model)


@pytest.mark.parametrize(
    "line",
    ["sha256: {d}", "- **sha256**: `{d}`", "| sha256 | {d} |", "SHA-256 = {d}"],
    ids=["plain", "markdown-bold", "table", "sha-256"],
)
def test_model_card_formats(model: Path, line: str) -> None:
    digest = sha256_of_file(model)
    card = model.with_name(MODEL_CARD_NAME)
    card.write_text(f"# Model card\n\nSome text.\n\n{line.format(d=digest)}\n")
    report = verify_model(model)
    assert report.verified and report.cards == (card,)


def test_model_card_mismatch_is_refused(model: Path) -> None:
    card = model.with_name(MODEL_CARD_NAME)
    card.write_text(f"# Card\nsha256: {'ab' * 32}\n")
    with pytest.raises(IntegrityError, match=f"expected {'ab' * 32}, got {sha256_of_file(model)}"):
        verify_model(model)


def test_other_hashes_in_a_card_are_not_taken_for_the_model(model: Path) -> None:
    card = model.with_name(MODEL_CARD_NAME)
    card.write_text(f"# Card\nTraining data manifest sha256: {'cd' * 32}\n")
    assert verify_model(model).status == UNVERIFIED


def test_sidecar_and_card_must_both_agree(model: Path) -> None:
    write_sidecar(model)
    model.with_name(MODEL_CARD_NAME).write_text(f"sha256: {'ef' * 32}\n")
    with pytest.raises(IntegrityError, match="checked against MODEL_CARD.md"):
        verify_model(model)


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        verify_model(tmp_path / "absent.onnx")


# ---- through the app's model loader and the CLI -----------------------------------------------------------------


def _open(path: Path):
    from desktop_app.core.inference import ModelSession

    return ModelSession.open(path)


def _model_error():
    from desktop_app.core.inference import ModelError

    return ModelError


def _truncated(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _written(name: str, data: bytes):
    def build(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return build


def _folder(folder: Path) -> Path:
    (folder / "dir.onnx").mkdir()
    return folder / "dir.onnx"


BAD_MODELS = {
    "missing": (lambda folder: folder / "absent.onnx", "not found"),
    "folder": (_folder, "is a folder"),
    "random_bytes": (_written("random.onnx", bytes(range(256)) * 8), "is not a valid ONNX model"),
    "text": (_written("notes.onnx", b"this is a text file"), "is not a valid ONNX model"),
    "zero_bytes": (_written("empty.onnx", b""), "is not a valid ONNX model"),
    "truncated": (
        lambda folder: _truncated(make_tiny_model(folder / "cut.onnx")),
        "is not a valid ONNX model",
    ),
    "no_embedding_output": (
        lambda folder: make_tiny_model(folder / "noemb.onnx", drop_output=contract.OUTPUT_EMBEDDING),
        "missing required output(s): embedding",
    ),
    "no_cam_output": (
        lambda folder: make_tiny_model(folder / "nocam.onnx", drop_output=contract.OUTPUT_CAM),
        "missing required output(s): cam",
    ),
    "bad_labels_metadata": (
        lambda folder: make_tiny_model(
            folder / "labels.onnx", extra_metadata={contract.META_LABELS: "benign"}
        ),
        "'labels' is not valid JSON",
    ),
}


@pytest.mark.parametrize("name", list(BAD_MODELS))
def test_bad_models_are_refused_with_a_clear_message(name: str, tmp_path: Path) -> None:
    build, message = BAD_MODELS[name]
    path = build(tmp_path)
    with pytest.raises(_model_error()) as caught:
        _open(path)
    assert message in str(caught.value)


@pytest.mark.parametrize("name", ["missing", "truncated", "no_embedding_output"])
def test_cli_reports_a_bad_model_and_exits_1(name: str, tmp_path: Path, capsys) -> None:
    from desktop_app import cli
    from tests.trust.corpus import CASES

    image = CASES["palette"].build(tmp_path)
    build, message = BAD_MODELS[name]
    code = cli.main([str(image), "--model", str(build(tmp_path))])
    assert code == cli.EXIT_MODEL
    error = capsys.readouterr().err
    assert "cannot load model" in error and message in error and "Traceback" not in error


def test_app_loader_refuses_a_tampered_model(model: Path) -> None:
    write_sidecar(model)
    assert _open(model).info.integrity.verified
    _flip_one_byte(model, offset=len(model.read_bytes()) // 2)
    with pytest.raises(_model_error(), match="model file does not match its card: expected"):
        _open(model)


def test_app_loader_reports_an_unverified_model(model: Path) -> None:
    session = _open(model)
    assert session.info.integrity.status == UNVERIFIED


def test_model_card_shows_the_integrity_status(model: Path) -> None:
    from desktop_app.core.model_card import ModelCard

    unverified = ModelCard.from_info(_open(model).info)
    assert unverified.integrity.startswith("unverified") and unverified.sha256 == sha256_of_file(model)
    write_sidecar(model)
    verified = ModelCard.from_info(_open(model).info)
    assert verified.integrity.startswith("verified against model.onnx.sha256")
    assert dict(dict(verified.sections())["Model"])["Integrity"] == verified.integrity
    assert verified.to_dict()["integrity"] == verified.integrity
