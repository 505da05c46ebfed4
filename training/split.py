"""Leakage-safe train/val/test split: near-duplicate images are found and kept in one split.

BUSI holds the same acquired frame several times, re-cropped, shifted, rescaled or re-encoded, sometimes under
different class labels. A random image-level split would put copies of one frame in training and test. This module

1. finds near-duplicate pairs: cheap global signatures (a perceptual hash and two grey thumbnails) propose, for every
   image, its few most similar images; each proposed pair is then verified by registering the two images
   (scales 1, width ratio, height ratio; every shift) and measuring the normalised cross-correlation of band-pass
   filtered versions: copies of one frame share their speckle and correlate far above different frames;
2. groups images as connected components of verified pairs (plus any precomputed groups);
3. splits whole groups, stratified by class, deterministically by seed.

``python -m training.split --data DIR --check DUPLICATES.tsv`` measures the grouping against a reference.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from desktop_app.core.imageio import ImageLoadError, load_image
from training.data import Dataset, DatasetError, Sample, discover_dataset

#: Split names, in the order of the fractions passed to :func:`make_split`.
SPLITS = ("train", "val", "test")
#: Columns of split.csv.
SPLIT_CSV_COLUMNS = ("path", "label", "group", "split")
#: How :func:`make_split` visits a class's groups. "size": largest first (the split of record), so training takes
#: the largest groups and validation and test are filled with the smallest: in BUSI only images without a
#: near-duplicate, in BUS-BRA three times the single-image patients' share. "shuffled": in random order, so any
#: group can be held out.
SPLIT_ORDERS = ("size", "shuffled")
#: The split of record's order; models exported before the order was recorded used it.
DEFAULT_SPLIT_ORDER = SPLIT_ORDERS[0]

#: Side of the grey thumbnail the perceptual hash is computed on, and of the hash's low-frequency block.
_HASH_THUMBNAIL = 32
_HASH_SIZE = 8
#: Side of the grey thumbnails compared by correlation to propose candidate pairs.
_THUMBNAIL = 32
#: Fraction of each side kept by the central crop.
_CENTRAL_FRACTION = 0.7
#: Candidate neighbours proposed per image and per signature.
_NEIGHBOURS = 4
#: Below this many images every pair is a candidate.
_ALL_PAIRS_BELOW = 48
#: Working resolution of the verification: the smaller image side is reduced to about this many pixels.
_VERIFY_SIDE = 112
#: Fraction of the template image (per side) matched inside the other image.
_TEMPLATE_FRACTION = 0.6
#: Band-pass filter (difference of Gaussians) sigmas, in working-resolution pixels.
_BANDPASS_SIGMAS = (0.8, 3.0)
#: Band-pass values are softly clipped at this many robust standard deviations (see :func:`_bandpass`).
_CLIP_SPREADS = 2.5
#: Coarse check (half the working resolution) a pair must pass before the fine one.
_COARSE_THRESHOLD = 0.5
#: Coarse score at the plain scales from which the scale ladder is also tried (a re-cropped and rescaled copy
#: still scores 0.45+ at a 10% wrong scale; on BUSI, 75% of candidate pairs of different frames score below this).
_LADDER_GATE = 0.35
#: Coarse score above which the plain scale is taken as right (a 10% wrong scale scores about 0.45-0.65).
_ALIGNED = 0.8
#: Grid of tiles whose median NCC must also pass (see :func:`_tile_agreement`).
_AGREEMENT_TILES = 3
#: Band-pass NCC at working resolution above which two images are copies of one frame (values below the coarse
#: threshold act as it). On BUSI every reference copy pair passes at 0.64 while the only extra pairs found are
#: true copies; 0.55 starts joining neighbouring frames, 0.75 loses copies (training/SPLIT_CHECK.md).
DUPLICATE_THRESHOLD = 0.64


# --------------------------------------------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------------------------------------------


def _dct_matrix(size: int) -> np.ndarray:
    """Orthonormal DCT-II basis, rows = frequencies."""
    positions = np.arange(size)
    basis = np.cos(np.pi * (positions[None, :] + 0.5) * positions[:, None] / size)
    basis[0] *= 1.0 / math.sqrt(2.0)
    return basis * math.sqrt(2.0 / size)


_DCT = _dct_matrix(_HASH_THUMBNAIL)


def _grey(image: Image.Image) -> Image.Image:
    return image if image.mode == "L" else image.convert("L")


def _central_crop(image: Image.Image, fraction: float) -> Image.Image:
    width, height = image.size
    crop_width, crop_height = max(1, round(width * fraction)), max(1, round(height * fraction))
    left, top = (width - crop_width) // 2, (height - crop_height) // 2
    return image.crop((left, top, left + crop_width, top + crop_height))


def _phash_bits(grey: Image.Image) -> np.ndarray:
    thumbnail = np.asarray(grey.resize((_HASH_THUMBNAIL, _HASH_THUMBNAIL), Image.Resampling.BOX), np.float64)
    coefficients = (_DCT @ thumbnail @ _DCT.T)[:_HASH_SIZE, :_HASH_SIZE].ravel()
    # Skip the DC term when taking the median: it only says how bright the image is.
    return coefficients > np.median(coefficients[1:])


def perceptual_hash(image: Image.Image) -> np.ndarray:
    """128-bit perceptual hash (bool array): DCT hash of the whole image, then of its central crop.

    Each half is the sign, against the median, of the 8x8 lowest DCT frequencies of a 32x32 grey thumbnail, so it
    survives rescaling, re-encoding and small crops; the central-crop half also survives wider re-cropping. Compare
    hashes by Hamming distance (``np.count_nonzero(a != b)``).
    """
    grey = _grey(image)
    return np.concatenate([_phash_bits(grey), _phash_bits(_central_crop(grey, _CENTRAL_FRACTION))])


def _normalised(vectors: np.ndarray) -> np.ndarray:
    centred = vectors - vectors.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.maximum(norms, 1e-9)


def _gaussian_blur(array: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur with reflected borders (numpy only)."""
    radius = max(1, int(3.0 * sigma + 0.5))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-(offsets**2) / (2.0 * sigma * sigma))
    kernel /= kernel.sum()
    pad_mode = "reflect" if min(array.shape) > radius else "edge"
    padded = np.pad(array, radius, mode=pad_mode)
    rows = sum(weight * padded[:, index : index + array.shape[1]] for index, weight in enumerate(kernel))
    return sum(weight * rows[index : index + array.shape[0], :] for index, weight in enumerate(kernel))


def _bandpass(array: np.ndarray) -> np.ndarray:
    """Difference of Gaussians, softly clipped at a few robust standard deviations.

    The clipping bounds what any one pixel adds to a correlation, so a few strong edges (calipers, text, a pasted
    box) cannot outweigh the texture: copies of one frame still match everywhere, different scans do not.
    """
    low, high = _BANDPASS_SIGMAS
    band = _gaussian_blur(array, low) - _gaussian_blur(array, high)
    spread = 1.4826 * float(np.median(np.abs(band - np.median(band))))
    if spread > 1e-6:
        limit = _CLIP_SPREADS * spread
        band = limit * np.tanh(band / limit)
    return np.ascontiguousarray(band, dtype=np.float32)


def _resize_array(array: np.ndarray, scale: float) -> np.ndarray:
    height, width = array.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(np.ascontiguousarray(array, dtype=np.float32)).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


@dataclass(frozen=True)
class _Fingerprint:
    """What the detector keeps of one image."""

    size: tuple[int, int]  # original (width, height)
    digest: str  # sha256 of the decoded grey pixels (exact copies)
    hash_bits: np.ndarray  # perceptual_hash
    whole: np.ndarray  # whole-image grey thumbnail, flattened
    central: np.ndarray  # central-crop thumbnail minus its blur (structure, not brightness), flattened
    band: _SearchImage  # band-pass filtered grey image at the working resolution
    coarse_band: _SearchImage  # the same at half the working resolution


def _fingerprint(image: Image.Image, factor: int) -> _Fingerprint:
    grey = _grey(image)
    pixels = np.asarray(grey)
    digest = hashlib.sha256(pixels.tobytes() + repr(pixels.shape).encode()).hexdigest()
    working = grey.reduce(factor) if factor > 1 else grey
    whole = np.asarray(working.resize((_THUMBNAIL, _THUMBNAIL), Image.Resampling.BILINEAR), np.float32)
    central = np.asarray(
        _central_crop(working, _CENTRAL_FRACTION).resize((_THUMBNAIL, _THUMBNAIL), Image.Resampling.BILINEAR),
        np.float32,
    )
    working_array = np.asarray(working, dtype=np.float32)
    return _Fingerprint(
        size=grey.size,
        digest=digest,
        hash_bits=perceptual_hash(grey),
        whole=whole.ravel(),
        central=(central - _gaussian_blur(central, 4.0)).ravel(),
        band=_SearchImage(_bandpass(working_array)),
        coarse_band=_SearchImage(_bandpass(_halve(working_array))),
    )


# --------------------------------------------------------------------------------------------------------------
# Verification by registration
# --------------------------------------------------------------------------------------------------------------


def _fast_length(length: int) -> int:
    """Smallest 2^a 3^b 5^c >= ``length`` (a quick FFT size)."""
    candidate = max(1, length)
    while True:
        remainder = candidate
        for factor in (2, 3, 5):
            while remainder % factor == 0:
                remainder //= factor
        if remainder == 1:
            return candidate
        candidate += 1


class _SearchImage:
    """An image that templates are searched in, with its FFT and integral images computed once."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = np.ascontiguousarray(array, dtype=np.float32)
        self.fft_shape = (_fast_length(self.array.shape[0]), _fast_length(self.array.shape[1]))
        self._spectrum: np.ndarray | None = None
        self._integrals: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def spectrum(self) -> np.ndarray:
        if self._spectrum is None:
            self._spectrum = np.fft.rfft2(self.array, s=self.fft_shape)
        return self._spectrum

    def window_sums(self, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Sum and sum of squares of every height x width window ('valid' positions), via integral images."""
        if self._integrals is None:
            values = self.array.astype(np.float64)
            self._integrals = tuple(  # type: ignore[assignment]
                np.pad(np.cumsum(np.cumsum(item, axis=0), axis=1), ((1, 0), (1, 0))) for item in (values, values**2)
            )
        assert self._integrals is not None
        return tuple(  # type: ignore[return-value]
            integral[height:, width:] - integral[:-height, width:] - integral[height:, :-width] + integral[:-height, :-width]
            for integral in self._integrals
        )


def _best_ncc(search: _SearchImage, template: np.ndarray) -> tuple[float, tuple[int, int]]:
    """Highest normalised cross-correlation of ``template`` over every position fully inside ``search``, and the
    (row, column) of that position; (-1, (0, 0)) when there is none."""
    nothing = (-1.0, (0, 0))
    search_height, search_width = search.array.shape
    height, width = template.shape
    if height > search_height or width > search_width or height < 4 or width < 4:
        return nothing
    centred = template.astype(np.float32) - np.float32(template.mean())
    template_norm = float(np.linalg.norm(centred))
    if template_norm < 1e-6 * math.sqrt(centred.size):
        return nothing
    product = search.spectrum * np.conj(np.fft.rfft2(centred, s=search.fft_shape))
    numerator = np.fft.irfft2(product, s=search.fft_shape)[: search_height - height + 1, : search_width - width + 1]
    sums, squares = search.window_sums(height, width)
    variance = np.maximum(squares - sums * sums / (height * width), 0.0)
    # Windows much flatter than the template (black borders) cannot hold a copy of it.
    usable = variance > 0.01 * (template_norm**2)
    if not usable.any():
        return nothing
    ncc = np.where(usable, numerator / (np.sqrt(np.maximum(variance, 1e-12)) * template_norm), -1.0)
    row, column = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
    return float(ncc[row, column]), (int(row), int(column))


def _tile_agreement(template: np.ndarray, window: np.ndarray, tiles: int = _AGREEMENT_TILES) -> float:
    """Median NCC over a tiles x tiles grid of two aligned patches (tiles with little texture are left out).

    Copies of one frame agree everywhere; two different scans that share one strong feature (a pasted box, an
    overlay) correlate well as a whole but not tile by tile.
    """
    height, width = template.shape
    rows = np.linspace(0, height, tiles + 1).astype(int)
    columns = np.linspace(0, width, tiles + 1).astype(int)
    overall = float(np.std(template))
    scores = []
    for top, bottom in itertools.pairwise(rows):
        for left, right in itertools.pairwise(columns):
            first = template[top:bottom, left:right].astype(np.float64).ravel()
            second = window[top:bottom, left:right].astype(np.float64).ravel()
            first, second = first - first.mean(), second - second.mean()
            if first.size < 4 or first.std() < 0.2 * overall or second.std() < 1e-9:
                continue
            scores.append(float(first @ second / (np.linalg.norm(first) * np.linalg.norm(second))))
    return float(np.median(scores)) if len(scores) >= 3 else -1.0


def _central_array(array: np.ndarray, fraction: float) -> np.ndarray:
    height, width = array.shape
    crop_height, crop_width = max(1, int(height * fraction)), max(1, int(width * fraction))
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return array[top : top + crop_height, left : left + crop_width]


def _candidate_scales(
    first: _SearchImage, second: _SearchImage, first_size: tuple[int, int], second_size: tuple[int, int], ladder: bool
) -> list[float]:
    """Scales (working pixels of ``second`` per working pixel of ``first``) worth trying.

    Always: the same physical pixel size, the width ratio and the height ratio. With ``ladder``, also a geometric
    ladder (steps of about 8%) from 0.8x to 1.25x the larger of the two ratios, which covers a copy that was both
    re-cropped (keeping 80% or more of each side) and rescaled.
    """
    working_ratio = (second.array.shape[1] / second_size[0]) / (first.array.shape[1] / first_size[0])
    width_ratio, height_ratio = second_size[0] / first_size[0], second_size[1] / first_size[1]
    scales = [working_ratio * ratio for ratio in (1.0, width_ratio, height_ratio)]
    if ladder:
        larger = max(width_ratio, height_ratio) * working_ratio
        steps = 6
        scales += [larger * 0.8 * (1.25 / 0.8) ** (step / steps) for step in range(steps + 1)]
    distinct: list[float] = []
    for scale in scales:
        if all(abs(scale / existing - 1.0) > 0.025 for existing in distinct):
            distinct.append(scale)
    return distinct


@dataclass(frozen=True)
class _Match:
    """The best alignment found: its NCC, the scale, and the two aligned patches."""

    score: float
    scale: float
    template: np.ndarray
    window: np.ndarray

    def agreement(self) -> float:
        return _tile_agreement(self.template, self.window)


_NO_MATCH = _Match(-1.0, 1.0, np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32))


def _registration_score(first: _SearchImage, second: _SearchImage, scales: Sequence[float]) -> _Match:
    """The best alignment of two band-pass filtered images over ``scales`` and every shift.

    ``first`` is rescaled by each scale and its central part is searched in ``second`` (or, where that part does not
    fit, the central part of ``second`` is searched in the rescaled ``first``).
    """
    best = _NO_MATCH
    centre = _central_array(first.array, _TEMPLATE_FRACTION)
    for scale in scales:
        if min(first.array.shape) * scale < 8:
            continue
        template = centre if abs(scale - 1.0) < 1e-3 else _resize_array(centre, scale)
        search = second
        if template.shape[0] > second.array.shape[0] or template.shape[1] > second.array.shape[1]:
            search = _SearchImage(_resize_array(first.array, scale))
            template = _central_array(second.array, _TEMPLATE_FRACTION)
        score, (row, column) = _best_ncc(search, template)
        if score > best.score:
            window = search.array[row : row + template.shape[0], column : column + template.shape[1]]
            best = _Match(score, scale, template, window)
    return best


def _pair_score(first: _Fingerprint, second: _Fingerprint) -> float:
    """Band-pass NCC of two images after registration (capped by their tile-by-tile agreement).

    Coarse level first, at the three plain scales; a pair that is close but not clearly aligned also gets the scale
    ladder (a copy re-cropped *and* rescaled); only pairs that pass are checked at the working resolution near
    their best scale. The score is the lower of the whole-patch NCC and the median NCC of its 3x3 tiles, so one
    shared strong feature cannot make two different scans look like copies.
    """
    if first.band.array.size > second.band.array.size:
        first, second = second, first  # search the smaller image's centre inside the larger one
    plain = _candidate_scales(first.coarse_band, second.coarse_band, first.size, second.size, ladder=False)
    coarse = _registration_score(first.coarse_band, second.coarse_band, plain)
    if _LADDER_GATE <= coarse.score < _ALIGNED:
        ladder = _candidate_scales(first.coarse_band, second.coarse_band, first.size, second.size, ladder=True)
        extra = [scale for scale in ladder if all(abs(scale / done - 1.0) > 0.025 for done in plain)]
        laddered = _registration_score(first.coarse_band, second.coarse_band, extra)
        if laddered.score > coarse.score:
            coarse = laddered
    if coarse.score < _COARSE_THRESHOLD:
        return coarse.score
    # The same scale in working pixels (the coarse level halves both images, up to rounding).
    coarse_ratio = (second.coarse_band.array.shape[1] / first.coarse_band.array.shape[1]) / (
        second.band.array.shape[1] / first.band.array.shape[1]
    )
    centre = coarse.scale / coarse_ratio
    fine_scales = [centre * factor for factor in (1.0, 0.97, 1.03, 0.94, 1.06)]
    fine_scales += _candidate_scales(first.band, second.band, first.size, second.size, ladder=False)
    fine = _registration_score(first.band, second.band, fine_scales)
    if fine.score < _COARSE_THRESHOLD:
        return fine.score
    return min(fine.score, fine.agreement())


def _halve(array: np.ndarray) -> np.ndarray:
    height, width = (array.shape[0] // 2) * 2, (array.shape[1] // 2) * 2
    if height < 16 or width < 16:
        return array
    trimmed = array[:height, :width]
    return 0.25 * (trimmed[0::2, 0::2] + trimmed[1::2, 0::2] + trimmed[0::2, 1::2] + trimmed[1::2, 1::2])


# --------------------------------------------------------------------------------------------------------------
# Pairs and groups
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicatePair:
    """Two images found to be copies of one frame, with the evidence."""

    first: int  # index into the paths given
    second: int
    score: float  # band-pass NCC after registration (1.0 for identical pixels)
    kind: str  # "exact" or "near"


def _working_factor(sizes: Sequence[tuple[int, int]]) -> int:
    """One reduction factor for the whole set: the median smaller side becomes about ``_VERIFY_SIDE`` pixels."""
    if not sizes:
        return 1
    median_side = float(np.median([min(size) for size in sizes]))
    return max(1, int(median_side // _VERIFY_SIDE))


def _candidate_pairs(fingerprints: Sequence[_Fingerprint], neighbours: int) -> set[tuple[int, int]]:
    """Pairs worth verifying: each image with its nearest images under each cheap signature."""
    count = len(fingerprints)
    if count <= _ALL_PAIRS_BELOW:
        return {(i, j) for i in range(count) for j in range(i + 1, count)}
    bits = np.stack([fingerprint.hash_bits for fingerprint in fingerprints]).astype(np.float32)
    # Hamming distance as a similarity (negated) via dot products of +-1 codes.
    signed = 2.0 * bits - 1.0
    whole = np.stack([fingerprint.whole for fingerprint in fingerprints])
    # Removing the average image leaves what distinguishes one scan from another.
    whole = _normalised(whole - whole.mean(axis=0))
    central = _normalised(np.stack([fingerprint.central for fingerprint in fingerprints]))
    similarities = [signed @ signed.T, whole @ whole.T, central @ central.T]
    pairs: set[tuple[int, int]] = set()
    take = min(neighbours, count - 1)
    for similarity in similarities:
        np.fill_diagonal(similarity, -np.inf)
        nearest = np.argpartition(-similarity, take - 1, axis=1)[:, :take]
        for first, row in enumerate(nearest):
            for second in row:
                pairs.add((min(first, int(second)), max(first, int(second))))
    return pairs


def find_duplicate_pairs(
    paths: Sequence[Path],
    threshold: float = DUPLICATE_THRESHOLD,
    neighbours: int = _NEIGHBOURS,
    progress: bool = False,
) -> tuple[list[DuplicatePair], list[str]]:
    """Near-duplicate pairs among ``paths`` and the messages for files that could not be read (left unpaired)."""
    problems: list[str] = []
    sizes: list[tuple[int, int]] = []
    for path in paths:
        try:
            with Image.open(path) as opened:
                sizes.append(opened.size)
        except (OSError, ValueError, SyntaxError):
            pass  # reported when the image is loaded below
    factor = _working_factor(sizes)
    fingerprints: dict[int, _Fingerprint] = {}
    for index, path in enumerate(paths):
        try:
            fingerprints[index] = _fingerprint(load_image(path), factor)
        except ImageLoadError as error:
            problems.append(str(error))
            continue
        if progress and (index + 1) % 200 == 0:
            print(f"  fingerprinted {index + 1}/{len(paths)} images", file=sys.stderr)
    readable = sorted(fingerprints)
    found: list[DuplicatePair] = []
    by_digest: dict[str, list[int]] = defaultdict(list)
    for index in readable:
        by_digest[fingerprints[index].digest].append(index)
    exact = set()
    for members in by_digest.values():
        for other in members[1:]:
            found.append(DuplicatePair(members[0], other, 1.0, "exact"))
            exact.add((members[0], other))
    for first_local, second_local in sorted(_candidate_pairs([fingerprints[i] for i in readable], neighbours)):
        first, second = readable[first_local], readable[second_local]
        if (first, second) in exact:
            continue
        score = _pair_score(fingerprints[first], fingerprints[second])
        if score >= max(threshold, _COARSE_THRESHOLD):
            found.append(DuplicatePair(first, second, score, "near"))
    return found, problems


class _UnionFind:
    def __init__(self, count: int) -> None:
        self.parent = list(range(count))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, first: int, second: int) -> None:
        root_first, root_second = self.find(first), self.find(second)
        if root_first != root_second:
            self.parent[max(root_first, root_second)] = min(root_first, root_second)

    def components(self) -> list[int]:
        return [self.find(item) for item in range(len(self.parent))]


def _component_ids(roots: Sequence[int], prefix: str) -> list[str]:
    """Name components in order of first appearance: ``<prefix>-0001``..."""
    names: dict[int, str] = {}
    for root in roots:
        if root not in names:
            names[root] = f"{prefix}-{len(names) + 1:04d}"
    return [names[root] for root in roots]


def find_duplicate_groups(
    paths: Sequence[Path],
    threshold: float = DUPLICATE_THRESHOLD,
    neighbours: int = _NEIGHBOURS,
) -> list[str]:
    """Group id for each path: connected components of near-duplicate pairs (an unpaired image is its own group)."""
    pairs, _ = find_duplicate_pairs(paths, threshold=threshold, neighbours=neighbours)
    union_find = _UnionFind(len(paths))
    for pair in pairs:
        union_find.union(pair.first, pair.second)
    return _component_ids(union_find.components(), "dup")


# --------------------------------------------------------------------------------------------------------------
# Groups files
# --------------------------------------------------------------------------------------------------------------


def _sniff_delimiter(header: str) -> str:
    return "\t" if header.count("\t") >= header.count(",") else ","


def load_groups_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a precomputed grouping: relative image path -> group id.

    Accepts a CSV or TSV with columns ``path,group`` or the BUSI ``DUPLICATES.tsv`` format (``group_id`` and
    ``paths`` separated by ``;``). A path listed in several rows joins those rows into one group (named after the
    first). Raises :class:`DatasetError` for a missing file or unknown columns.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"Groups file not found: {path}")
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    if not lines:
        raise DatasetError(f"Groups file is empty: {path}")
    reader = csv.DictReader(lines, delimiter=_sniff_delimiter(lines[0]))
    columns = {name.strip().lower(): name for name in reader.fieldnames or ()}
    rows: list[tuple[str, list[str]]] = []
    if "group_id" in columns and "paths" in columns:
        for row in reader:
            members = [item.strip() for item in (row[columns["paths"]] or "").split(";") if item.strip()]
            rows.append((row[columns["group_id"]].strip(), members))
    elif "path" in columns and "group" in columns:
        for row in reader:
            member = (row[columns["path"]] or "").strip()
            if member:
                rows.append(((row[columns["group"]] or "").strip(), [member]))
    else:
        raise DatasetError(
            f"Groups file {path.name} needs columns path,group (CSV/TSV) or group_id,paths (DUPLICATES.tsv); "
            f"found: {', '.join(reader.fieldnames or ()) or 'none'}"
        )
    first_group: dict[str, str] = {}
    union_find_names: dict[str, str] = {}

    def find(name: str) -> str:
        while union_find_names.get(name, name) != name:
            name = union_find_names[name]
        return name

    for group, members in rows:
        union_find_names.setdefault(group, group)
        for member in members:
            key = Path(member).as_posix()
            if key in first_group:
                keep, drop = sorted((find(first_group[key]), find(group)), key=_group_order)
                if keep != drop:
                    union_find_names[drop] = keep
            else:
                first_group[key] = group
    return {member: find(group) for member, group in first_group.items()}


def _group_order(name: str) -> tuple[int, str]:
    return (len(name), name)


# --------------------------------------------------------------------------------------------------------------
# Assigning groups and splitting
# --------------------------------------------------------------------------------------------------------------


def assign_groups(
    dataset: Dataset,
    groups_file: str | os.PathLike[str] | None = None,
    detect_duplicates: bool = True,
    threshold: float = DUPLICATE_THRESHOLD,
) -> Dataset:
    """Fill every sample's ``group``; images that must not be split apart get the same group.

    Joined: images listed together in ``groups_file``, images already sharing a group (e.g. one BUS-BRA patient),
    and (unless ``detect_duplicates`` is False) near-duplicates found by :func:`find_duplicate_pairs`. A component
    is named after the groups-file group it contains, else the existing group, else ``dup-NNNN``
    (found duplicates) or ``img-<relative path>`` (an image alone).
    """
    samples = list(dataset.samples)
    union_find = _UnionFind(len(samples))
    file_groups = load_groups_file(groups_file) if groups_file is not None else {}
    by_name: dict[str, int] = {}
    component_names: dict[int, list[str]] = defaultdict(list)
    for index, sample in enumerate(samples):
        relative = dataset.relative_path(sample.path)
        for name in (file_groups.get(relative), sample.group or None):
            if name is None:
                continue
            if name in by_name:
                union_find.union(by_name[name], index)
            else:
                by_name[name] = index
    if detect_duplicates:
        pairs, _ = find_duplicate_pairs([sample.path for sample in samples], threshold=threshold)
        for pair in pairs:
            union_find.union(pair.first, pair.second)
    roots = union_find.components()
    for index, sample in enumerate(samples):
        relative = dataset.relative_path(sample.path)
        file_name = file_groups.get(relative)
        if file_name:
            component_names[roots[index]].append("0" + file_name)  # file groups name first
        if sample.group:
            component_names[roots[index]].append("1" + sample.group)
    size = Counter(roots)
    duplicate_ids = _component_ids([root for root in roots if size[root] > 1 and root not in component_names], "dup")
    duplicate_names = dict(zip([r for r in roots if size[r] > 1 and r not in component_names], duplicate_ids))
    named: list[Sample] = []
    for index, sample in enumerate(samples):
        root = roots[index]
        if component_names.get(root):
            name = min(component_names[root], key=lambda item: (item[0], len(item), item))[1:]
        elif size[root] > 1:
            name = duplicate_names[root]
        else:
            name = f"img-{dataset.relative_path(sample.path)}"
        named.append(replace(sample, group=name))
    return replace(dataset, samples=tuple(named))


def _group_label(labels: Iterable[str], class_order: Sequence[str]) -> str:
    """Majority label of a group; ties go to the rarer-by-order class (the later in ``class_order``)."""
    counts = Counter(labels)
    best = max(counts.values())
    tied = [label for label in counts if counts[label] == best]
    return max(tied, key=lambda label: class_order.index(label) if label in class_order else -1)


def make_split(
    dataset: Dataset, fractions: Sequence[float] = (0.7, 0.15, 0.15), seed: int = 0, order: str = DEFAULT_SPLIT_ORDER
) -> dict[Path, str]:
    """Assign every sample to 'train', 'val' or 'test', keeping each group whole.

    Stratified by class (a group counts for its majority label): within each class, groups are shuffled with
    ``seed``, one group is first given to each split (smallest fraction first) when the class has enough groups, then
    the rest go, one by one, to the split furthest below its target share of that class's images: largest first
    with ``order="size"``, in the shuffled order with ``order="shuffled"`` (see :data:`SPLIT_ORDERS`). Samples with
    an empty group are treated as groups of their own. Deterministic for a given dataset, seed and order.
    """
    if len(fractions) != len(SPLITS) or any(fraction < 0 for fraction in fractions) or sum(fractions) <= 0:
        raise ValueError(f"fractions must be {len(SPLITS)} non-negative numbers, got {tuple(fractions)}")
    if order not in SPLIT_ORDERS:
        raise ValueError(f"split order must be one of {', '.join(SPLIT_ORDERS)}, got {order!r}")
    total_fraction = float(sum(fractions))
    shares = [fraction / total_fraction for fraction in fractions]
    members: dict[str, list[int]] = defaultdict(list)
    for index, sample in enumerate(dataset.samples):
        members[sample.group or f"img-{dataset.relative_path(sample.path)}"].append(index)
    by_class: dict[str, list[str]] = defaultdict(list)
    for group in sorted(members):
        label = _group_label((dataset.samples[i].label for i in members[group]), dataset.classes)
        by_class[label].append(group)
    rng = np.random.default_rng(seed)
    assignment: dict[str, int] = {}
    active = [split for split, share in enumerate(shares) if share > 0]
    seeding_order = sorted(active, key=lambda split: (shares[split], -split))
    for label in sorted(by_class):
        groups = [by_class[label][i] for i in rng.permutation(len(by_class[label]))]
        class_total = sum(len(members[group]) for group in groups)
        filled = [0] * len(SPLITS)
        remaining = list(groups)
        if len(remaining) >= len(active):
            # Seed each split with one of the smallest groups so every class appears in every split.
            by_size = sorted(remaining, key=lambda group: len(members[group]))
            for split, group in zip(seeding_order, by_size):
                assignment[group] = split
                filled[split] += len(members[group])
                remaining.remove(group)
        if order == DEFAULT_SPLIT_ORDER:
            remaining.sort(key=lambda group: -len(members[group]))  # stable: shuffled order among equal sizes
        for group in remaining:
            deficits = [shares[split] * class_total - filled[split] for split in active]
            split = active[int(np.argmax(deficits))]
            assignment[group] = split
            filled[split] += len(members[group])
    split_of: dict[Path, str] = {}
    for group, indices in members.items():
        for index in indices:
            split_of[dataset.samples[index].path] = SPLITS[assignment[group]]
    return split_of


def split_summary(dataset: Dataset, split: Mapping[Path, str]) -> dict[str, dict[str, int]]:
    """Images per split and class: {split: {class: count}}."""
    summary = {name: {label: 0 for label in dataset.classes} for name in SPLITS}
    for sample in dataset.samples:
        summary[split[sample.path]][sample.label] += 1
    return summary


def write_split_csv(dataset: Dataset, split: Mapping[Path, str], path: str | os.PathLike[str]) -> None:
    """Write split.csv: path (relative to the dataset root), label, group, split."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SPLIT_CSV_COLUMNS)
        for sample in dataset.samples:
            writer.writerow((dataset.relative_path(sample.path), sample.label, sample.group, split[sample.path]))


def read_split_csv(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> dict[Path, str]:
    """Read split.csv back: {path: split}; paths are joined to ``root`` when given, else left relative."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"Split file not found: {path}")
    result: dict[Path, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"path", "split"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{path.name} lacks column(s): {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            if row["split"] not in SPLITS:
                raise DatasetError(f"{path.name} line {line}: unknown split {row['split']!r} (expected {SPLITS})")
            relative = Path(row["path"])
            result[Path(root) / relative if root is not None else relative] = row["split"]
    return result


# --------------------------------------------------------------------------------------------------------------
# Checking against a reference grouping
# --------------------------------------------------------------------------------------------------------------


def _path_key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def check_against_reference(
    dataset_groups: Mapping[Path, str], duplicates_tsv: str | os.PathLike[str], root: str | os.PathLike[str]
) -> dict[str, object]:
    """How many reference groups (DUPLICATES.tsv rows) lie entirely inside one of our groups.

    Only members present in ``dataset_groups`` count; a reference group with fewer than 2 present members is skipped.
    Returns {"reference_groups", "kept_together", "split_apart": [group ids], "by_kind": {kind: [n, kept]}}.
    """
    ours = {_path_key(Path(path)): group for path, group in dataset_groups.items()}
    duplicates_tsv = Path(duplicates_tsv)
    if not duplicates_tsv.is_file():
        raise DatasetError(f"Reference duplicates file not found: {duplicates_tsv}")
    reference_groups = kept = 0
    split_apart: list[str] = []
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with duplicates_tsv.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            members = [_path_key(Path(root) / item.strip()) for item in row["paths"].split(";") if item.strip()]
            present = [ours[member] for member in members if member in ours]
            if len(present) < 2:
                continue
            reference_groups += 1
            kind = row.get("kind") or "unknown"
            by_kind[kind][0] += 1
            if len(set(present)) == 1:
                kept += 1
                by_kind[kind][1] += 1
            else:
                split_apart.append(row["group_id"])
    return {
        "reference_groups": reference_groups,
        "kept_together": kept,
        "split_apart": split_apart,
        "by_kind": {kind: {"groups": counts[0], "kept_together": counts[1]} for kind, counts in by_kind.items()},
    }


def reference_merges(
    dataset_groups: Mapping[Path, str], duplicates_tsv: str | os.PathLike[str], root: str | os.PathLike[str]
) -> list[dict[str, object]]:
    """Our groups that join images the reference keeps apart (possible false merges), largest first."""
    reference = load_groups_file(duplicates_tsv)
    reference_of = {_path_key(Path(root) / member): group for member, group in reference.items()}
    ours: dict[str, list[Path]] = defaultdict(list)
    for path, group in dataset_groups.items():
        ours[group].append(Path(path))
    merges = []
    for group, paths in ours.items():
        references = {reference_of.get(_path_key(path), f"alone:{path.name}") for path in paths}
        if len(references) > 1:
            merges.append({"group": group, "size": len(paths), "reference_groups": sorted(references)})
    return sorted(merges, key=lambda merge: (-int(merge["size"]), str(merge["group"])))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m training.split``: group near-duplicates, split, and optionally check against a reference."""
    parser = argparse.ArgumentParser(prog="python -m training.split", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="dataset root (<root>/<class>/images)")
    parser.add_argument("--check", help="reference DUPLICATES.tsv to measure the grouping against")
    parser.add_argument("--groups", help="precomputed groups file (path,group CSV/TSV or DUPLICATES.tsv)")
    parser.add_argument("--out", help="write split.csv here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--order", choices=SPLIT_ORDERS, default=DEFAULT_SPLIT_ORDER,
                        help="how groups are placed: size = largest first (the split of record), shuffled = random")
    parser.add_argument("--threshold", type=float, default=DUPLICATE_THRESHOLD)
    parser.add_argument("--json", help="write the check result as JSON here")
    args = parser.parse_args(argv)
    try:
        dataset = discover_dataset(args.data)
        print(dataset.describe())
        started = time.perf_counter()
        grouped = assign_groups(dataset, groups_file=args.groups, threshold=args.threshold)
        elapsed = time.perf_counter() - started
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sizes = Counter(sample.group for sample in grouped.samples)
    multi = [size for size in sizes.values() if size > 1]
    print(
        f"grouping: {elapsed:.1f} s; {len(sizes)} groups, {len(multi)} with 2+ images "
        f"({sum(multi)} images); largest group sizes {sorted(sizes.values(), reverse=True)[:8]}"
    )
    split = make_split(grouped, seed=args.seed, order=args.order)
    for name, counts in split_summary(grouped, split).items():
        print(f"  {name:5s} {sum(counts.values()):4d}  " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    if args.out:
        write_split_csv(grouped, split, args.out)
        print(f"wrote {args.out}")
    result: dict[str, object] = {"seconds": round(elapsed, 2), "groups": len(sizes),
                                 "largest_groups": sorted(sizes.values(), reverse=True)[:8]}
    if args.check:
        groups = {sample.path: sample.group for sample in grouped.samples}
        check = check_against_reference(groups, args.check, dataset.root)
        merges = reference_merges(groups, args.check, dataset.root)
        share = check["kept_together"] / max(1, int(check["reference_groups"]))  # type: ignore[operator]
        print(f"reference groups kept together: {check['kept_together']}/{check['reference_groups']} ({share:.1%})")
        for kind, counts in check["by_kind"].items():  # type: ignore[union-attr]
            print(f"  {kind}: {counts['kept_together']}/{counts['groups']}")
        print(f"  split apart: {', '.join(check['split_apart']) or 'none'}")  # type: ignore[arg-type]
        print(f"our groups joining images the reference keeps apart: {len(merges)}")
        for merge in merges[:10]:
            print(f"  {merge['group']} ({merge['size']} images): {', '.join(merge['reference_groups'])}")
        result.update(check=check, merges=merges)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
