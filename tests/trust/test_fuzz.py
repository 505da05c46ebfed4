"""Property: whatever bytes a file holds, the loader returns an RGB image or raises ImageLoadError, nothing else."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.core.imageio import IMAGE_SUFFIXES, ImageLoadError, frame_count, load_image
from desktop_app.core.preprocessing import preprocess
from tests.trust.fuzz_seeds import SEED_SUFFIXES, mutate, seed_files

SEEDS = seed_files()
FUZZ_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)


def _load_and_preprocess(data: bytes, suffix: str, frame: int = 0) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            if frame:
                frame_count(path)
            image = load_image(path, frame=frame)
        except ImageLoadError as error:
            assert str(error).startswith(path.name + ": ")
            return
        assert image.mode == "RGB" and image.width >= 1 and image.height >= 1
        array = preprocess(image, (16, 16))
        assert array.shape == (16, 16, 3) and np.isfinite(array).all()


@FUZZ_SETTINGS
@given(
    origin=st.sampled_from(sorted(SEEDS)),
    mutation_seed=st.integers(0, 2**32 - 1),
    n_mutations=st.integers(1, 6),
    frame=st.sampled_from([0, 0, 0, 1]),
)
def test_mutated_valid_files(origin: str, mutation_seed: int, n_mutations: int, frame: int) -> None:
    data = mutate(SEEDS[origin], random.Random(mutation_seed), n_mutations)
    _load_and_preprocess(data, SEED_SUFFIXES[origin], frame)


@FUZZ_SETTINGS
@given(
    origin=st.sampled_from(sorted(SEEDS)),
    position=st.integers(0, 4000),
    patch=st.binary(min_size=1, max_size=12),
)
def test_patched_headers(origin: str, position: int, patch: bytes) -> None:
    """Hypothesis-chosen bytes written at hypothesis-chosen offsets (shrinks to a minimal failing patch)."""
    data = bytearray(SEEDS[origin])
    position %= len(data)
    data[position : position + len(patch)] = patch
    _load_and_preprocess(bytes(data), SEED_SUFFIXES[origin])


@FUZZ_SETTINGS
@given(data=st.binary(max_size=2048), suffix=st.sampled_from(sorted(IMAGE_SUFFIXES)))
def test_random_bytes(data: bytes, suffix: str) -> None:
    _load_and_preprocess(data, suffix)


@settings(max_examples=50, deadline=None)
@given(
    prefix=st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*"]),
    tail=st.binary(max_size=512),
)
def test_valid_signature_followed_by_garbage(prefix: bytes, tail: bytes) -> None:
    _load_and_preprocess(prefix + tail, ".png")
