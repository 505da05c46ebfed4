"""Out-of-distribution score: is this image like the breast ultrasounds the model was trained on?

The model's ``embedding`` output (pooled backbone features) is projected on the top principal components of the
training embeddings; the score is the Mahalanobis distance in that space plus the (scaled) reconstruction
residual, so images far from the training distribution in either sense score high. Statistics are fitted by
training and stored as JSON in the model's metadata (key ``ood``); the threshold is set on validation images so
that a chosen fraction of in-distribution images pass.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

METHOD = "pca-mahalanobis+residual"


@dataclass(frozen=True)
class OodStatistics:
    """Everything needed to score embeddings; JSON round-trips through :meth:`to_json`/:meth:`from_json`."""

    mean: list[float]
    components: list[list[float]]  # k x D, rows orthonormal
    variances: list[float]  # k, variance along each component
    residual_scale: float  # typical squared residual outside the k components
    threshold: float = float("inf")
    pass_rate: float | None = None  # fraction of validation images under the threshold
    method: str = field(default=METHOD)

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """mean, components and variances as arrays, converted once: from the JSON lists it takes ~0.7 ms a call."""
        return (
            np.asarray(self.mean, dtype=np.float64),
            np.asarray(self.components, dtype=np.float64),
            np.asarray(self.variances, dtype=np.float64),
        )

    def score(self, embeddings: np.ndarray) -> np.ndarray:
        """Score for each row of ``embeddings`` [N, D]; higher means less like the training data."""
        mean, components, variances = self._arrays
        embeddings = np.atleast_2d(np.asarray(embeddings, dtype=np.float64))
        centred = embeddings - mean
        projected = centred @ components.T
        mahalanobis = np.sum(projected**2 / variances, axis=1)
        residual = np.sum(centred**2, axis=1) - np.sum(projected**2, axis=1)
        dimension = components.shape[0]
        return np.sqrt((mahalanobis + np.maximum(residual, 0.0) / self.residual_scale) / (dimension + 1))

    def is_outlier(self, embeddings: np.ndarray) -> np.ndarray:
        """Boolean [N]: True where the score exceeds the threshold."""
        return self.score(embeddings) > self.threshold

    def with_threshold(self, embeddings: np.ndarray, pass_rate: float = 0.95) -> OodStatistics:
        """Copy whose threshold lets ``pass_rate`` of the given in-distribution embeddings pass."""
        scores = self.score(embeddings)
        threshold = float(np.quantile(scores, pass_rate))
        achieved = float(np.mean(scores <= threshold))
        return OodStatistics(
            self.mean, self.components, self.variances, self.residual_scale, threshold, achieved, self.method
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> OodStatistics:
        data = json.loads(text)
        if data.get("method") != METHOD:
            raise ValueError(f"unknown OOD method {data.get('method')!r}")
        return cls(**data)


def fit_ood_statistics(embeddings: np.ndarray, n_components: int = 32) -> OodStatistics:
    """Fit the statistics on training embeddings [N, D] (N may be smaller than D)."""
    embeddings = np.asarray(embeddings, dtype=np.float64)
    if embeddings.ndim != 2 or len(embeddings) < 3:
        raise ValueError("need at least 3 embeddings of shape [N, D] to fit OOD statistics")
    mean = embeddings.mean(axis=0)
    centred = embeddings - mean
    _, singular_values, vt = np.linalg.svd(centred, full_matrices=False)
    k = int(min(n_components, len(embeddings) - 1, vt.shape[0]))
    variances = singular_values[:k] ** 2 / (len(embeddings) - 1)
    variances = np.maximum(variances, 1e-6 * max(float(variances.max()), 1e-12))
    projected = centred @ vt[:k].T
    residual = np.sum(centred**2, axis=1) - np.sum(projected**2, axis=1)
    residual_scale = float(max(np.mean(np.maximum(residual, 0.0)), 1e-9))
    return OodStatistics(
        mean=[round(float(v), 6) for v in mean],
        components=[[round(float(v), 6) for v in row] for row in vt[:k]],
        variances=[float(v) for v in variances],
        residual_scale=residual_scale,
    )


#: A pixel is colourful when its R, G and B values spread by more than this (0..255). B-mode ultrasound is grey;
#: overlays (Doppler boxes, calipers, text) colour only a small part of an image.
COLOURFUL_PIXEL_SPREAD = 40.0
#: An image whose share of colourful pixels exceeds this is a colour picture, not a breast ultrasound. Measured at
#: 128 px: at most 1 % in BUSI's 637 images (the ones with colour overlays), 0 % in BUS-BRA's 1,875; at least 57 %
#: in 95 % of bench/ood_eval.py's photograph-like scenes.
COLOURFUL_SHARE_LIMIT = 0.10


def colourful_share(images: np.ndarray) -> np.ndarray:
    """Share of colourful pixels in each RGB image of ``images`` [N, H, W, 3] (values 0..255)."""
    images = np.asarray(images, dtype=np.float32)
    red, green, blue = images[..., 0], images[..., 1], images[..., 2]
    # element-wise over the three planes: ~10x faster than max/min over a last axis of length 3
    spread = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
    return np.mean(spread > COLOURFUL_PIXEL_SPREAD, axis=(1, 2))


#: Neighbouring pixels of a scan are strongly correlated (tissue, and speckle grains wider than a pixel); in noise
#: they are not. Lag-1 correlation at the 128 px model input (the smaller of rows and columns): at least 0.74 in
#: BUSI's 637 images and 0.67 in BUS-BRA's 1,875; at most 0.26 in bench/ood_eval.py's noise images (grey Gaussian,
#: salt-and-pepper, colour), at least 0.31 in its documents and 0.80 in every other kind
#: (measured 2026-12-07 with ``neighbour_correlation`` over ``preprocess``ed images).
NOISE_CORRELATION_LIMIT = 0.4


def neighbour_correlation(images: np.ndarray) -> np.ndarray:
    """Lag-1 autocorrelation of each image's grey values [N, H, W, 3] -> [N]: the smaller of the horizontal and
    vertical ones. 1.0 for a flat image (nothing to correlate, and nothing noise-like)."""
    grey = np.asarray(images, dtype=np.float32).mean(axis=-1)
    grey = grey - grey.mean(axis=(1, 2), keepdims=True)
    energy = np.sum(grey * grey, axis=(1, 2))
    horizontal = np.sum(grey[:, :, 1:] * grey[:, :, :-1], axis=(1, 2))
    vertical = np.sum(grey[:, 1:, :] * grey[:, :-1, :], axis=(1, 2))
    flat = energy <= 1e-6 * grey.shape[1] * grey.shape[2]
    correlation = np.minimum(horizontal, vertical) / np.where(flat, 1.0, energy)
    return np.where(flat, 1.0, correlation)
