"""Measure the out-of-distribution warning: in-distribution pass rate and detection rate on foreign images.

    python bench/ood_eval.py --model assets/model.onnx --data /work/shared/data/busi --split runs/x/split.csv

In-distribution: the ``test`` rows of split.csv (paths relative to --data), i.e. images the model and its OOD
threshold never saw; without --split every image under --data is used (then it is not a held-out figure, and the
report says so). Foreign: images generated here, --per-category of each kind: colour photograph-like scenes,
documents/text, noise, CT-like slices, X-ray-like radiographs, plain colours, natural-image-like grey textures.
Prints a JSON report (also to --out).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.core.imageio import ImageLoadError, iter_image_files, load_image
from desktop_app.core.inference import ModelSession
from desktop_app.core.ood import fit_ood_statistics

WORDS = [
    "patient",
    "report",
    "findings",
    "impression",
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "invoice",
    "total",
    "date",
    "signature",
    "page",
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "the",
    "lazy",
    "dog",
    "meeting",
    "agenda",
    "minutes",
    "budget",
    "quarterly",
    "results",
]


# ---- foreign image generators (rng -> RGB image) ------------------------------------------------------------------


def _size(rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(300, 700)), int(rng.integers(300, 600))  # width, height like the BUSI frames


def photo_scene(rng: np.random.Generator) -> Image.Image:
    """Sky gradient over a coloured ground, a sun, houses/trees as coloured shapes, slightly blurred."""
    width, height = _size(rng)
    horizon = int(height * rng.uniform(0.4, 0.7))
    sky_top, sky_bottom = rng.integers(60, 256, 3), rng.integers(120, 256, 3)
    t = np.linspace(0, 1, horizon)[:, None, None]
    sky = (sky_top * (1 - t) + sky_bottom * t) * np.ones((1, width, 1))
    ground = np.ones((height - horizon, width, 3)) * rng.integers(20, 200, 3)
    pixels = np.concatenate([sky, ground]).astype(np.uint8)
    image = Image.fromarray(pixels, mode="RGB")
    draw = ImageDraw.Draw(image)
    sun = int(rng.integers(20, 60))
    cx, cy = int(rng.integers(sun, width - sun)), int(rng.integers(sun, max(sun + 1, horizon - sun)))
    draw.ellipse(
        (cx - sun, cy - sun, cx + sun, cy + sun), fill=tuple(int(v) for v in rng.integers(180, 256, 3))
    )
    for _ in range(int(rng.integers(3, 12))):
        x, w, h = int(rng.integers(0, width)), int(rng.integers(20, 120)), int(rng.integers(20, 150))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle((x, horizon - h, x + w, horizon + 10), fill=colour)
        else:
            draw.ellipse((x, horizon - h, x + w, horizon), fill=colour)
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2))


def document(rng: np.random.Generator) -> Image.Image:
    """A page of text (a scanned letter or report): dark text on a light background."""
    width, height = _size(rng)
    paper = tuple(int(v) for v in rng.integers(225, 256, 3))
    image = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(image)
    font_size = int(rng.integers(11, 26))
    font = ImageFont.load_default(size=font_size)
    y = int(rng.integers(10, 40))
    if rng.random() < 0.5:
        draw.text(
            (20, y),
            " ".join(rng.choice(WORDS, 3)).upper(),
            fill=(0, 0, 0),
            font=ImageFont.load_default(size=30),
        )
        y += 45
    while y < height - font_size:
        line = " ".join(rng.choice(WORDS, int(rng.integers(3, 14))))
        draw.text(
            (int(rng.integers(10, 40)), y),
            line,
            fill=tuple(int(v) for v in rng.integers(0, 60, 3)),
            font=font,
        )
        y += int(font_size * rng.uniform(1.3, 2.0))
    return image


def noise(rng: np.random.Generator) -> Image.Image:
    """Uniform colour noise, Gaussian grey noise or salt-and-pepper."""
    width, height = _size(rng)
    kind = rng.integers(3)
    if kind == 0:
        return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), mode="RGB")
    if kind == 1:
        grey = np.clip(rng.normal(rng.uniform(60, 190), rng.uniform(20, 70), (height, width)), 0, 255)
        return Image.fromarray(grey.astype(np.uint8), mode="L").convert("RGB")
    salt = (rng.random((height, width)) < rng.uniform(0.05, 0.5)).astype(np.uint8) * 255
    return Image.fromarray(salt, mode="L").convert("RGB")


def ct_slice(rng: np.random.Generator) -> Image.Image:
    """CT-like axial slice: black field, grey body disc, bright bone ring and spine, darker organs and lungs."""
    side = int(rng.integers(400, 600))
    rows, cols = np.mgrid[0:side, 0:side].astype(np.float32)
    cy, cx = side / 2 + rng.normal(0, 10), side / 2 + rng.normal(0, 10)
    ry, rx = side * rng.uniform(0.3, 0.4), side * rng.uniform(0.38, 0.47)
    body = ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2
    pixels = np.zeros((side, side), np.float32)
    pixels[body < 1] = rng.uniform(90, 130)
    pixels[(body < 1) & (body > 0.85)] = rng.uniform(200, 245)  # ribs / skull ring
    for side_sign in (-1, 1):  # lungs or organs
        oy, ox = cy + rng.normal(0, 10), cx + side_sign * rx * 0.45
        organ = ((rows - oy) / (ry * 0.55)) ** 2 + ((cols - ox) / (rx * 0.3)) ** 2 < 1
        pixels[organ] = rng.uniform(10, 60)
    spine = ((rows - (cy + ry * 0.7)) / (ry * 0.12)) ** 2 + ((cols - cx) / (rx * 0.1)) ** 2 < 1
    pixels[spine] = 240
    pixels += rng.normal(0, 5, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L").convert("RGB")


def xray(rng: np.random.Generator) -> Image.Image:
    """Radiograph-like: smooth bright gradients (soft tissue), dark lung fields, bright rib arcs and a spine."""
    width, height = _size(rng)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    centre = width / 2
    pixels = 170 - 90 * np.abs(cols - centre) / centre + 40 * rows / height
    for side_sign in (-1, 1):
        lung = ((rows - height * 0.45) / (height * 0.33)) ** 2 + (
            (cols - centre - side_sign * width * 0.2) / (width * 0.15)
        ) ** 2
        pixels[lung < 1] -= rng.uniform(60, 100)
    for k in range(8):  # rib arcs
        y0 = height * (0.2 + 0.08 * k)
        arc = np.abs(rows - (y0 + 0.0015 * (cols - centre) ** 2 / (width / 600))) < height * 0.008
        pixels[arc] += 45
    pixels[np.abs(cols - centre) < width * 0.04] += 60  # spine
    pixels = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L").filter(
        ImageFilter.GaussianBlur(3)
    )
    return pixels.convert("RGB")


def plain_colour(rng: np.random.Generator) -> Image.Image:
    """One flat colour (black, white and saturated colours included)."""
    choices = [(0, 0, 0), (255, 255, 255), (128, 128, 128)]
    colour = (
        choices[int(rng.integers(3))]
        if rng.random() < 0.3
        else tuple(int(v) for v in rng.integers(0, 256, 3))
    )
    return Image.new("RGB", _size(rng), colour)


def grey_texture(rng: np.random.Generator) -> Image.Image:
    """Natural-image-like grey texture (smoothed noise at several scales): the hardest foreign kind here."""
    width, height = _size(rng)
    pixels = np.zeros((height, width), np.float32)
    for scale in (4, 16, 64):
        small = rng.normal(0, 1, (max(2, height // scale), max(2, width // scale))).astype(np.float32)
        pixels += np.asarray(
            Image.fromarray(small, mode="F").resize((width, height), Image.Resampling.BICUBIC)
        )
    pixels = (pixels - pixels.min()) / max(float(np.ptp(pixels)), 1e-6) * 255
    return Image.fromarray(pixels.astype(np.uint8), mode="L").convert("RGB")


FOREIGN_KINDS: dict[str, Callable[[np.random.Generator], Image.Image]] = {
    "photo_scene": photo_scene,
    "document_text": document,
    "noise": noise,
    "ct_like": ct_slice,
    "xray_like": xray,
    "plain_colour": plain_colour,
    "grey_texture": grey_texture,
}


# ---- evaluation ----------------------------------------------------------------------------------------------------


def in_distribution_paths(data: Path, split: Path | None, subset: str) -> list[Path]:
    if split is None:
        return list(iter_image_files([data]))
    with open(split, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [data / row["path"] for row in rows if row.get("split") == subset]


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def embed_images(session: ModelSession, images: list[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
    """The model's ``embedding`` output for each image [N, D], and the app's OOD flag (score, colour or noise)."""
    rows: list[np.ndarray] = []
    flags: list[bool] = []
    for chunk in _chunks(images, 16):
        predictions = session.classify(list(chunk))
        rows.extend(p.embedding for p in predictions)
        flags.extend(bool(p.is_ood) for p in predictions)
    return (np.stack(rows) if rows else np.zeros((0, 1))), np.asarray(flags, dtype=bool)


def _pass_rate(flags: np.ndarray) -> float | None:
    """Share of images not flagged (None without images)."""
    return round(float(np.mean(~flags)), 4) if len(flags) else None


def embed_files(session: ModelSession, paths: list[Path]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Embeddings of the readable files among ``paths``, the app's OOD flag for each, and the messages of the
    unreadable ones."""
    rows: list[np.ndarray] = []
    flags: list[bool] = []
    failures: list[str] = []
    for chunk in _chunks(paths, 16):
        images = []
        for path in chunk:
            try:
                images.append(load_image(path))
            except ImageLoadError as error:
                failures.append(str(error))
        predictions = session.classify(images)
        rows.extend(p.embedding for p in predictions)
        flags.extend(bool(p.is_ood) for p in predictions)
    return (np.stack(rows) if rows else np.zeros((0, 1))), np.asarray(flags, dtype=bool), failures


def summary(scores: np.ndarray, threshold: float, flagged_is_good: bool) -> dict[str, object]:
    if not len(scores):
        return {"n": 0}
    flagged = scores > threshold
    rate = float(np.mean(flagged if flagged_is_good else ~flagged))
    return {
        "n": len(scores),
        ("detection_rate" if flagged_is_good else "pass_rate"): round(rate, 4),
        "score_median": round(float(np.median(scores)), 3),
        "score_p5_p95": [round(float(v), 3) for v in np.percentile(scores, [5, 95])],
    }


# ---- alternative scores, for --compare-methods (fitted on train, thresholded on val) ---------------------------


def _mahalanobis_only(train: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    statistics = fit_ood_statistics(train)
    mean, components = np.asarray(statistics.mean), np.asarray(statistics.components)
    variances = np.asarray(statistics.variances)
    return lambda x: np.sqrt(np.sum(((x - mean) @ components.T) ** 2 / variances, axis=1))


def _residual_only(train: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    statistics = fit_ood_statistics(train)
    mean, components = np.asarray(statistics.mean), np.asarray(statistics.components)

    def score(x: np.ndarray) -> np.ndarray:
        centred = x - mean
        return np.sum(centred**2, axis=1) - np.sum((centred @ components.T) ** 2, axis=1)

    return score


def _standardised_sum(train: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Mahalanobis and residual each z-scored on the training set, then added (both count equally)."""
    mahalanobis, residual = _mahalanobis_only(train), _residual_only(train)
    m, r = mahalanobis(train), residual(train)

    def score(x: np.ndarray) -> np.ndarray:
        return (mahalanobis(x) - m.mean()) / m.std() + (residual(x) - r.mean()) / r.std()

    return score


def _knn_cosine(train: np.ndarray, k: int = 5) -> Callable[[np.ndarray], np.ndarray]:
    """Cosine distance to the k-th nearest training embedding."""
    unit = train / np.linalg.norm(train, axis=1, keepdims=True).clip(1e-9)

    def score(x: np.ndarray) -> np.ndarray:
        similarities = (x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-9)) @ unit.T
        return 1.0 - np.sort(similarities, axis=1)[:, -k]

    return score


ALTERNATIVES: dict[str, Callable[[np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "stored_method_refitted": lambda train: fit_ood_statistics(train).score,
    "mahalanobis_only": _mahalanobis_only,
    "residual_only": _residual_only,
    "mahalanobis_plus_residual_standardised": _standardised_sum,
    "knn5_cosine": _knn_cosine,
}


def compare_methods(
    train: np.ndarray, val: np.ndarray, test: np.ndarray, foreign: dict[str, np.ndarray], pass_rate: float
) -> dict[str, object]:
    results: dict[str, object] = {}
    for name, fit in ALTERNATIVES.items():
        score = fit(train)
        threshold = float(np.quantile(score(val), pass_rate))
        per_kind = {kind: round(float(np.mean(score(x) > threshold)), 4) for kind, x in foreign.items()}
        results[name] = {
            "test_pass_rate": round(float(np.mean(score(test) <= threshold)), 4),
            "foreign_detection_overall": round(
                float(np.mean([score(x) > threshold for x in foreign.values()])), 4
            ),
            "foreign_detection": per_kind,
        }
    return results


def evaluate(
    model: Path, data: Path, split: Path | None, per_category: int, seed: int, compare: bool = False
) -> dict[str, object]:
    started = time.perf_counter()
    session = ModelSession.open(model)
    statistics = session.info.ood
    if statistics is None:
        raise SystemExit(f"{model.name} carries no OOD statistics (metadata key 'ood'): nothing to evaluate")
    threshold = statistics.threshold
    report: dict[str, object] = {
        "model": str(model),
        "model_version": session.info.version,
        "threshold": threshold,
        "validation_pass_rate_stored_in_model": statistics.pass_rate,
        "in_distribution_source": f"split.csv 'test' rows ({split})"
        if split
        else f"ALL images under {data} (not a held-out figure: training images included)",
    }
    # pass_rate: the embedding score alone; app_pass_rate: what the app lets through (no score, colour or noise flag).
    test, test_flags, failures = embed_files(session, in_distribution_paths(data, split, "test"))
    report["in_distribution_test"] = summary(statistics.score(test), threshold, flagged_is_good=False) | {
        "app_pass_rate": _pass_rate(test_flags)
    }
    if failures:
        report["in_distribution_unreadable"] = failures
    val = None
    if split is not None:
        val, val_flags, _ = embed_files(session, in_distribution_paths(data, split, "val"))
        report["in_distribution_val"] = summary(statistics.score(val), threshold, flagged_is_good=False) | {
            "app_pass_rate": _pass_rate(val_flags)
        }

    rng = np.random.default_rng(seed)
    foreign_and_flags = {
        kind: embed_images(session, [generate(rng) for _ in range(per_category)])
        for kind, generate in FOREIGN_KINDS.items()
    }
    foreign = {kind: embeddings for kind, (embeddings, _) in foreign_and_flags.items()}
    # detection_rate: the embedding score alone; app_detection_rate: what the app flags (score, colour or noise).
    report["foreign"] = {
        kind: summary(statistics.score(x), threshold, flagged_is_good=True)
        | {"app_detection_rate": round(float(np.mean(foreign_and_flags[kind][1])), 4)}
        for kind, x in foreign.items()
    }
    report["foreign_overall"] = summary(
        statistics.score(np.concatenate(list(foreign.values()))), threshold, flagged_is_good=True
    ) | {"app_detection_rate": round(float(np.mean(np.concatenate([f for _, f in foreign_and_flags.values()]))), 4)}
    if compare:
        if split is None or val is None:
            raise SystemExit(
                "--compare-methods needs --split (train rows to fit, val rows to set thresholds)"
            )
        train, _, _ = embed_files(session, in_distribution_paths(data, split, "train"))
        report["method_comparison"] = compare_methods(train, val, test, foreign, statistics.pass_rate or 0.95)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="dataset root (class folders)")
    parser.add_argument("--split", type=Path, help="split.csv from training (path,label,group,split)")
    parser.add_argument("--per-category", type=int, default=40, help="foreign images per kind (default 40)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    parser.add_argument(
        "--compare-methods",
        action="store_true",
        help="also refit alternative OOD scores on the split's train rows and compare them (needs --split)",
    )
    parser.add_argument(
        "--save-examples", type=Path, help="write one example of each foreign kind here (PNG)"
    )
    args = parser.parse_args(argv)
    if args.save_examples:
        args.save_examples.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(args.seed)
        for kind, generate in FOREIGN_KINDS.items():
            generate(rng).save(args.save_examples / f"{kind}.png")
    report = evaluate(args.model, args.data, args.split, args.per_category, args.seed, args.compare_methods)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
