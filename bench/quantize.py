"""Static int8 quantization of a contract model with onnxruntime's tooling, calibrated on training images.

    python bench/quantize.py --model assets/model.onnx --calib-data /work/shared/data/busi \
        [--split runs/<run>/split.csv] [--calib-count 64] --out assets/model_int8.onnx

QDQ format, weights int8 per output channel, activations uint8 (the U8S8 path that AVX-512 VNNI / AVX2 run
fastest), the stem convolution kept in float (``--float-first-convs``), MinMax calibration on ``--calib-count``
images fed through the app's own loading and preprocessing (``desktop_app.core``). With ``--split`` only rows whose split is ``train`` are used, so the held-out images never
inform the quantization ranges. The output keeps every metadata entry of the fp32 model and every output
(``probabilities``, ``cam``, ``embedding``...), changes ``model_version`` to ``<version>-int8`` and adds a
``quantization`` entry (JSON) that names the source model (sha256), the method and the calibration images.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from desktop_app.core import contract
from desktop_app.core.imageio import ImageLoadError, iter_image_files, load_image
from desktop_app.core.preprocessing import preprocess

#: Metadata key (JSON) the quantized model carries: which fp32 model it came from and how.
META_QUANTIZATION = "quantization"
INT8_VERSION_SUFFIX = "-int8"
#: onnxruntime calibration settings per method (MinMax needs none).
CALIBRATION_OPTIONS: dict[str, dict] = {"Percentile": {"CalibPercentile": 99.99}}
#: Convolutions kept in float at the start of the backbone. The 7x7 stem sees the normalised image itself; quantizing
#: it moved the bundled r78 model's probabilities by 0.022 on average (max 0.33) over 396 validation and training
#: images, against 0.009 (max 0.13) with it in float (bench/int8_fidelity.py; assets/MODEL_CARD.md, int8 variant).
FLOAT_FIRST_CONVS = 1


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def training_images(data: Path, split_csv: Path | None, count: int, seed: int = 0) -> list[Path]:
    """Up to ``count`` calibration images, balanced over class folders, from the training split when given."""
    if split_csv is not None:
        with open(split_csv, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.DictReader(handle) if row.get("split") == "train"]
        if not rows:
            raise SystemExit(f"{split_csv}: no rows with split == train")
        by_class: dict[str, list[Path]] = {}
        for row in rows:
            path = Path(row["path"])
            by_class.setdefault(row.get("label", ""), []).append(path if path.is_absolute() else data / path)
    else:
        by_class = {}
        for path in iter_image_files([data]):
            by_class.setdefault(path.parent.name, []).append(path)
    if not by_class:
        raise SystemExit(f"no images found under {data}")
    rng = np.random.default_rng(seed)
    pools = {
        label: list(rng.permutation(np.array(paths, dtype=object)))
        for label, paths in sorted(by_class.items())
    }
    chosen: list[Path] = []
    while len(chosen) < count and any(pools.values()):
        for pool in pools.values():
            if pool and len(chosen) < count:
                chosen.append(Path(pool.pop()))
    return chosen


class ImageCalibrationReader:
    """onnxruntime CalibrationDataReader over image files, through the app's loader and preprocessing."""

    def __init__(self, paths: Sequence[Path], input_size: tuple[int, int], batch_size: int = 8) -> None:
        self.used: list[str] = []
        self._batches = self._iter_batches(paths, input_size, batch_size)

    def _iter_batches(
        self, paths: Sequence[Path], size: tuple[int, int], batch_size: int
    ) -> Iterator[np.ndarray]:
        batch: list[np.ndarray] = []
        for path in paths:
            try:
                batch.append(preprocess(load_image(path), size))
            except ImageLoadError as error:
                print(f"calibration: skipped {error}", file=sys.stderr)
                continue
            self.used.append(path.name)
            if len(batch) == batch_size:
                yield np.stack(batch)
                batch = []
        if batch:
            yield np.stack(batch)

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        return None if batch is None else {contract.INPUT_NAME: batch}

    def rewind(self) -> None:  # part of the reader protocol; one pass is all MinMax needs
        raise NotImplementedError


def quantize_model(
    model: Path,
    calibration_images: Sequence[Path],
    out: Path,
    per_channel: bool = True,
    exclude_head: bool = True,
    fold_scales: bool = True,
    calibration_method: str = "MinMax",
    float_first_convs: int = FLOAT_FIRST_CONVS,
) -> dict:
    """Write the int8 model to ``out``; return the ``quantization`` metadata it records.

    ``calibration_method`` names onnxruntime's ``CalibrationMethod`` (MinMax or Percentile); the first
    ``float_first_convs`` convolutions in graph order (the stem) stay in float.
    """
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source = onnx.load(str(model))
    metadata = {entry.key: entry.value for entry in source.metadata_props}
    input_size = tuple(json.loads(metadata[contract.META_INPUT_SIZE]))
    output_names = [output.name for output in source.graph.output]

    with tempfile.TemporaryDirectory() as scratch:
        folded_path = Path(scratch) / "folded.onnx"
        folded_scales = fold_scales_into_convs(source) if fold_scales else 0  # only metadata is read from it later
        onnx.save(source, str(folded_path))
        prepared = Path(scratch) / "prepared.onnx"
        # Shape inference and graph optimisation (folds BatchNorm into Conv where possible) before quantizing.
        quant_pre_process(str(folded_path), str(prepared), skip_symbolic_shape=True)
        prepared_proto = onnx.load(str(prepared))
        for index, node in enumerate(prepared_proto.graph.node):
            node.name = node.name or f"{node.op_type}_{index}"  # exclusion works by node name
        onnx.save(prepared_proto, str(prepared))
        excluded = head_nodes(prepared_proto, output_names) if exclude_head else []
        excluded += first_convs(prepared_proto, float_first_convs)
        reader = ImageCalibrationReader(calibration_images, input_size)
        quantize_static(
            str(prepared),
            str(out),
            calibration_data_reader=reader,
            quant_format=QuantFormat.QDQ,
            per_channel=per_channel,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod[calibration_method],
            nodes_to_exclude=excluded,
            extra_options=CALIBRATION_OPTIONS.get(calibration_method, {}),
        )

    quantized = onnx.load(str(out))
    missing = [name for name in output_names if name not in {o.name for o in quantized.graph.output}]
    if missing:
        raise SystemExit(f"quantized model lost outputs {missing}")
    record = {
        "source_model": model.name,
        "source_sha256": sha256_of(model),
        "source_model_version": metadata.get(contract.META_MODEL_VERSION, ""),
        "method": "onnxruntime static quantization, QDQ, weights int8 per-channel, activations uint8, "
        + calibration_method,
        "per_channel": per_channel,
        "calibration_options": CALIBRATION_OPTIONS.get(calibration_method, {}),
        "float_first_convs": float_first_convs,
        "excluded_nodes": excluded,
        "folded_scales": folded_scales,
        "calibration_images": len(reader.used),
        "calibration_files": reader.used,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    metadata[META_QUANTIZATION] = json.dumps(record)
    metadata[contract.META_MODEL_VERSION] = (
        metadata.get(contract.META_MODEL_VERSION, "model") + INT8_VERSION_SUFFIX
    )
    del quantized.metadata_props[:]
    onnx.helper.set_model_props(quantized, metadata)
    onnx.save(quantized, str(out))
    return record


def fold_scales_into_convs(proto) -> int:
    """Fold DenseNet's pre-activation BatchNorm scale into the next convolution; return how many were folded.

    Rewrites ``Mul(x, a) -> Add(b) -> Relu -> Conv(W)`` into ``Add(x, b / a) -> Relu -> Conv(W * a)`` (``a`` per
    input channel of W). Exact whenever every ``a > 0``, because ``relu(a * x + b) = a * relu(x + b / a)`` and the
    zero padding of the convolution scales too. A BatchNorm after a concatenation cannot be folded into the
    convolution before it, so tf2onnx leaves these as Mul + Add; after quantization each is one QLinearMul pass over
    the feature map (15 % of the int8 model's time), which this removes. Only applied where the Mul, Add and Relu
    outputs feed nothing else and are no graph output; a weight shared by several folded convolutions is scaled once.
    """
    from onnx import numpy_helper

    graph = proto.graph
    initializers = {init.name: init for init in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_outputs = {output.name for output in graph.output}

    def sole_consumer(tensor: str, op_type: str):
        users = consumers.get(tensor, [])
        if tensor in graph_outputs or len(users) != 1 or users[0].op_type != op_type:
            return None
        return users[0]

    def constant_and_other(node) -> tuple[np.ndarray, str] | None:
        names = list(node.input)
        constant = [name for name in names if name in initializers]
        if len(names) != 2 or len(constant) != 1:
            return None
        other = names[1 - names.index(constant[0])]
        return numpy_helper.to_array(initializers[constant[0]]).astype(np.float32), other

    scaled_weights: dict[tuple[str, bytes], str] = {}
    removed = []
    for mul in list(graph.node):
        if mul.op_type != "Mul" or (found := constant_and_other(mul)) is None:
            continue
        scale, source = found
        add = sole_consumer(mul.output[0], "Add")
        relu = add is not None and sole_consumer(add.output[0], "Relu")
        if not relu or (found_add := constant_and_other(add)) is None:
            continue
        bias, _ = found_add
        channels = scale.size
        convs = consumers.get(relu.output[0], [])
        if (
            scale.ndim != 4
            or scale.shape != (1, channels, 1, 1)
            or channels < 2
            or not np.all(scale > 0)
            or bias.size not in (1, channels)
            or relu.output[0] in graph_outputs
            or not convs
            or any(conv.op_type != "Conv" or conv.input[0] != relu.output[0] for conv in convs)
            or any(
                attribute.name == "group" and attribute.i != 1 for conv in convs for attribute in conv.attribute
            )
            or any(conv.input[1] not in initializers for conv in convs)
            or any(numpy_helper.to_array(initializers[conv.input[1]]).shape[1] != channels for conv in convs)
        ):
            continue
        for conv in convs:
            key = (conv.input[1], scale.tobytes())
            if key not in scaled_weights:
                weight = numpy_helper.to_array(initializers[conv.input[1]])
                name = f"{conv.input[1]}__times_{mul.name or mul.output[0]}"
                folded = (weight * scale.reshape(1, channels, 1, 1)).astype(weight.dtype)
                graph.initializer.append(numpy_helper.from_array(folded, name))
                initializers[name] = graph.initializer[-1]
                scaled_weights[key] = name
            conv.input[1] = scaled_weights[key]
        shifted = (np.broadcast_to(bias.reshape(-1), (channels,)) / scale.reshape(-1)).reshape(1, channels, 1, 1)
        shift_name = f"{add.output[0]}__shift"
        graph.initializer.append(numpy_helper.from_array(shifted.astype(np.float32), shift_name))
        initializers[shift_name] = graph.initializer[-1]
        add.input[0], add.input[1] = source, shift_name
        removed.append(mul)
    for mul in removed:
        graph.node.remove(mul)
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used or init.name in graph_outputs]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return len(removed)


def first_convs(proto, count: int) -> list[str]:
    """Names of the first ``count`` Conv nodes in graph order (kept in float)."""
    return [node.name for node in proto.graph.node if node.op_type == "Conv"][:count]


def head_nodes(proto, output_names: Sequence[str]) -> list[str]:
    """Nodes after the last Conv on the way to the probabilities (classifier and softmax stay in float).

    The classifier is tiny (1024 x C) and its rounding moves probabilities directly; quantizing it saves nothing.
    """
    producers = {output: node for node in proto.graph.node for output in node.output}
    excluded: list[str] = []
    frontier = [name for name in output_names if name == contract.OUTPUT_PROBABILITIES]
    seen: set[int] = set()
    while frontier:
        tensor = frontier.pop()
        node = producers.get(tensor)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.op_type in ("Conv", "Concat", "Relu", "AveragePool", "MaxPool", "BatchNormalization"):
            continue  # the backbone starts here
        excluded.append(node.name)
        frontier.extend(node.input)
    return excluded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="fp32 contract model (.onnx)")
    parser.add_argument("--calib-data", type=Path, required=True, help="image root (<class>/<image>)")
    parser.add_argument(
        "--split", type=Path, help="split.csv (path,label,group,split): calibrate on train rows only"
    )
    parser.add_argument("--calib-count", type=int, default=64, help="calibration images (default 64)")
    parser.add_argument("--out", type=Path, required=True, help="output .onnx")
    parser.add_argument("--per-tensor", action="store_true", help="per-tensor weights instead of per-channel")
    parser.add_argument("--quantize-head", action="store_true", help="also quantize the classifier head")
    parser.add_argument(
        "--no-fold-scales",
        action="store_true",
        help="keep the pre-activation BatchNorm scales as separate Mul nodes (see fold_scales_into_convs)",
    )
    parser.add_argument(
        "--calibration", choices=("MinMax", "Percentile"), default="MinMax",
        help="how activation ranges are chosen from the calibration images (default MinMax)",
    )
    parser.add_argument(
        "--float-first-convs", type=int, default=FLOAT_FIRST_CONVS,
        help=f"keep the first N convolutions (the stem) in float (default {FLOAT_FIRST_CONVS})",
    )
    args = parser.parse_args(argv)
    images = training_images(args.calib_data, args.split, args.calib_count)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = quantize_model(
        args.model,
        images,
        args.out,
        per_channel=not args.per_tensor,
        exclude_head=not args.quantize_head,
        fold_scales=not args.no_fold_scales,
        calibration_method=args.calibration,
        float_first_convs=args.float_first_convs,
    )
    summary = {k: v for k, v in record.items() if k != "calibration_files"}
    print(
        json.dumps(
            {"out": str(args.out), "size_mb": round(args.out.stat().st_size / 1e6, 1), **summary}, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
