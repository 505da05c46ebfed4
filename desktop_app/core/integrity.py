"""Model-file integrity: the sha256 of the model file checked against its card, where one exists.

A card is either a sidecar ``<model file>.sha256`` in ``sha256sum`` format (``<hex>  model.onnx``) or a
``MODEL_CARD.md`` beside the model containing a line ``sha256: <hex>``. Every card present must agree with the
file; a mismatch raises :class:`IntegrityError` and the app refuses the model. With no card the model is allowed
and reported as "unverified".
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

SIDECAR_SUFFIX = ".sha256"
MODEL_CARD_NAME = "MODEL_CARD.md"

VERIFIED = "verified"
UNVERIFIED = "unverified"

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
#: A line of a model card starting with the key ``sha256`` then its value: ``sha256: <hex>``, ``- **sha256**: `<hex>` ``
#: or a table row ``| sha256 | <hex> |``. Hashes of other things (``data sha256: ...``) do not start a line this way.
_CARD_LINE = re.compile(
    r"^[ \t]*(?:[-*][ \t]+|\|[ \t]*)?[*_`]*sha-?256[*_`]*[ \t]*[:=|][ \t]*[*_`]*([0-9a-fA-F]{64})\b",
    re.IGNORECASE | re.MULTILINE,
)


class IntegrityError(Exception):
    """The model file does not match its card (or the card is unreadable); the message says which and how."""


@dataclass(frozen=True)
class IntegrityReport:
    """Outcome of :func:`verify_model` for a model that may be used."""

    status: str  # VERIFIED or UNVERIFIED
    sha256: str  # of the model file
    cards: tuple[Path, ...] = ()  # the cards that vouched for it

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED

    def describe(self) -> str:
        """One line for the UI/CLI, e.g. ``verified against model.onnx.sha256 (sha256 1a2b3c4d…)``."""
        if self.verified:
            names = ", ".join(card.name for card in self.cards)
            return f"verified against {names} (sha256 {self.sha256[:12]}…)"
        return f"unverified: no card with a sha256 beside the model (sha256 {self.sha256[:12]}…)"


def sha256_of_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_path(model_path: str | os.PathLike[str]) -> Path:
    """``model.onnx`` -> ``model.onnx.sha256``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + SIDECAR_SUFFIX)


def write_sidecar(model_path: str | os.PathLike[str]) -> Path:
    """Write the ``sha256sum``-format sidecar for ``model_path`` (used when publishing a model); returns its path."""
    model_path = Path(model_path)
    path = sidecar_path(model_path)
    path.write_text(f"{sha256_of_file(model_path)}  {model_path.name}\n", encoding="utf-8")
    return path


def _read_sidecar(path: Path, model_name: str) -> str:
    """The expected hex digest from a ``sha256sum``-format file; IntegrityError if none is readable."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise IntegrityError(f"cannot read the model's checksum file {path.name}: {error}") from error
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    candidates = []
    for line in lines:
        parts = line.split(maxsplit=1)
        if not _HEX64.match(parts[0]):
            continue
        file_name = parts[1].lstrip("*").strip() if len(parts) > 1 else ""
        candidates.append((parts[0].lower(), file_name))
    named = [digest for digest, file_name in candidates if Path(file_name).name == model_name]
    if named:
        return named[0]
    if len(candidates) == 1:
        return candidates[0][0]
    raise IntegrityError(
        f"the model's checksum file {path.name} holds no sha256 for {model_name} "
        "(expected a line '<64 hex digits>  <file name>')"
    )


def _read_card(path: Path) -> list[str]:
    """Every ``sha256: <hex>`` line of a model card (several when it lists several model files)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise IntegrityError(f"cannot read the model card {path.name}: {error}") from error
    return [match.lower() for match in _CARD_LINE.findall(text)]


def expected_digests(model_path: str | os.PathLike[str]) -> list[tuple[Path, list[str]]]:
    """(card path, accepted sha256 values) for every card beside ``model_path`` that states one."""
    model_path = Path(model_path)
    found: list[tuple[Path, list[str]]] = []
    sidecar = sidecar_path(model_path)
    if sidecar.is_file():
        found.append((sidecar, [_read_sidecar(sidecar, model_path.name)]))
    card = model_path.with_name(MODEL_CARD_NAME)
    if card.is_file():
        digests = _read_card(card)
        if digests:
            found.append((card, digests))
    return found


def verify_model(model_path: str | os.PathLike[str]) -> IntegrityReport:
    """Check ``model_path`` against its card(s).

    Returns a report ("verified" or "unverified" when no card exists); raises :class:`IntegrityError` when the
    file does not match a card, and ``FileNotFoundError`` when the model file is missing.
    """
    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"model file not found: {model_path}")
    actual = sha256_of_file(model_path)
    cards = expected_digests(model_path)
    for card, accepted in cards:
        if actual not in accepted:
            raise IntegrityError(
                f"model file does not match its card: expected {' or '.join(accepted)}, got {actual} "
                f"({model_path.name} checked against {card.name}); the file may be damaged or tampered with"
            )
    if cards:
        return IntegrityReport(VERIFIED, actual, tuple(card for card, _ in cards))
    return IntegrityReport(UNVERIFIED, actual)
