"""Rewrite a flip-TTA model exported with two backbone copies into one backbone that runs both views as a batch.

    python -m training.merge_tta_views --model OLD.onnx --out NEW.onnx

Models exported before 2026-11-30 evening ran the image and its mirror through two identical copies of the network
(same weights, two passes of batch N). `ClassifierModels.export_model` now batches the views (one pass of batch 2N,
which onnxruntime runs faster); this tool gives an already exported model the same graph without its checkpoint:
the weights, metadata and outputs stay the same (checked here to 1e-5 on random images).

How: the two copies start at the two 7x7 stem convolutions. Walking forward from them, each node of the mirrored
copy is matched with its twin in the original copy (same operator, attributes, weights and matched inputs). The
original copy then gets ``Concat(original, mirrored)`` as input; where a matched tensor leaves the copies (into the
un-flip, the average or a graph output), the original copy's batch is split in two halves that stand in for the
original and the mirrored tensor; the mirrored copy is removed. Where tf2onnx converted the two copies differently
(it can simplify layers of one copy whose shapes it knows), matching stops and the rest of the mirrored copy stays:
still the same outputs, a smaller gain. The shipped r5 model merged completely (250 -> 125 convolutions).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
from onnx import helper

#: Metadata entry recording the rewrite (JSON): what was merged and the largest output difference measured.
META_GRAPH_REWRITE = "graph_rewrite"


class MergeError(ValueError):
    """The model does not have the two-copy flip-TTA structure this tool rewrites."""


def _stem_convolutions(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    return [
        node
        for node in graph.node
        if node.op_type == "Conv"
        and any(
            attribute.name == "kernel_shape" and list(attribute.ints) == [7, 7]
            for attribute in node.attribute
        )
    ]


def _upstream_nodes(graph: onnx.GraphProto, tensors: Iterable[str]) -> list[onnx.NodeProto]:
    """Every node that ``tensors`` depend on (the nodes producing them included)."""
    producers = {output: node for node in graph.node for output in node.output}
    found: dict[int, onnx.NodeProto] = {}
    frontier = list(tensors)
    while frontier:
        node = producers.get(frontier.pop())
        if node is None or id(node) in found:
            continue
        found[id(node)] = node
        frontier.extend(node.input)
    return list(found.values())


def _signature(node: onnx.NodeProto) -> tuple[str, str, bytes]:
    attributes = b"".join(
        attribute.SerializeToString() for attribute in sorted(node.attribute, key=lambda a: a.name)
    )
    return node.op_type, node.domain, attributes


def merge_flip_views(model: onnx.ModelProto) -> dict:
    """Rewrite ``model`` in place; return a summary (nodes removed, boundary tensors split)."""
    graph = model.graph
    stems = _stem_convolutions(graph)
    if len(stems) != 2:
        raise MergeError(f"expected two backbone copies (two 7x7 stem convolutions), found {len(stems)}")
    mirrored_first = [
        any(node.op_type == "ReverseSequence" for node in _upstream_nodes(graph, [stem.input[0]]))
        for stem in stems
    ]
    if sorted(mirrored_first) != [False, True]:
        raise MergeError("could not tell the original view's backbone from the mirrored one")
    original_stem, mirrored_stem = (stems[1], stems[0]) if mirrored_first[0] else (stems[0], stems[1])

    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    # mirrored tensor -> original tensor, grown forward from the stems' inputs
    twin_of: dict[str, str] = {mirrored_stem.input[0]: original_stem.input[0]}
    mirrored_nodes: set[int] = set()
    original_nodes: set[int] = set()
    order = {id(node): index for index, node in enumerate(graph.node)}
    pending = sorted(consumers.get(mirrored_stem.input[0], []), key=lambda n: order[id(n)])
    queued = {id(node) for node in pending}
    while pending:
        node = pending.pop(0)
        wanted = [twin_of.get(name, name) for name in node.input]
        anchor = next((twin_of[name] for name in node.input if name in twin_of), None)
        candidates = consumers.get(anchor, []) if anchor is not None else []
        twin = next(
            (
                candidate
                for candidate in candidates
                if id(candidate) not in original_nodes
                and candidate is not node
                and _signature(candidate) == _signature(node)
                and list(candidate.input) == wanted
            ),
            None,
        )
        if twin is None:
            continue  # leaves the copies: an un-flip, an average, a graph output
        mirrored_nodes.add(id(node))
        original_nodes.add(id(twin))
        for mirrored_output, original_output in zip(node.output, twin.output, strict=True):
            twin_of[mirrored_output] = original_output
            for consumer in consumers.get(mirrored_output, []):
                if id(consumer) not in queued:
                    queued.add(id(consumer))
                    pending.append(consumer)
        pending.sort(key=lambda n: order[id(n)])
    if not mirrored_nodes:
        raise MergeError("the two backbone copies do not match")

    inside = mirrored_nodes | original_nodes
    graph_outputs = {output.name for output in graph.output}
    new_nodes: list[onnx.NodeProto] = []
    halves: dict[str, tuple[str, str]] = {}

    def split(original_tensor: str) -> tuple[str, str]:
        if original_tensor not in halves:
            first, second = f"{original_tensor}__view0", f"{original_tensor}__view1"
            new_nodes.append(
                helper.make_node(
                    "Split", [original_tensor], [first, second], name=f"{original_tensor}__split", axis=0
                )
            )
            halves[original_tensor] = (first, second)
        return halves[original_tensor]

    # A graph output computed inside the copies (the original view's embedding): the batched tensor gets a new name
    # and an Identity of the right half carries the output's name.
    for name in sorted(graph_outputs & (set(twin_of) | set(twin_of.values()))):
        original = twin_of.get(name, name)
        renamed = f"{original}__both_views"
        for node in graph.node:
            if id(node) in original_nodes:
                node.output[:] = [renamed if out == original else out for out in node.output]
                node.input[:] = [renamed if inp == original else inp for inp in node.input]
        for mirrored, target in list(twin_of.items()):
            if target == original:
                twin_of[mirrored] = renamed
        view = 0 if name == original else 1
        new_nodes.append(helper.make_node("Identity", [split(renamed)[view]], [name], name=f"{name}__view"))

    original_to_mirrored = {original: mirrored for mirrored, original in twin_of.items()}
    for node in graph.node:
        if id(node) in inside:
            continue
        for index, name in enumerate(node.input):
            if name in twin_of and name != mirrored_stem.input[0]:
                node.input[index] = split(twin_of[name])[1]
            elif name in original_to_mirrored and name != original_stem.input[0]:
                node.input[index] = split(name)[0]

    batched = f"{original_stem.input[0]}__both_views"
    new_nodes.append(
        helper.make_node(
            "Concat",
            [original_stem.input[0], mirrored_stem.input[0]],
            [batched],
            name=f"{batched}__concat",
            axis=0,
        )
    )
    original_stem.input[0] = batched
    kept = [node for node in graph.node if id(node) not in mirrored_nodes] + new_nodes
    del graph.node[:]
    graph.node.extend(_topological(kept, [i.name for i in graph.input] + [i.name for i in graph.initializer]))
    _drop_dead_nodes(graph)
    return {"removed_nodes": len(mirrored_nodes), "split_tensors": len(halves)}


def _topological(nodes: list[onnx.NodeProto], available: Iterable[str]) -> list[onnx.NodeProto]:
    ready = set(available) | {""}
    remaining = list(nodes)
    ordered: list[onnx.NodeProto] = []
    while remaining:
        progressed = [node for node in remaining if all(name in ready for name in node.input)]
        if not progressed:
            raise MergeError("the rewritten graph has a cycle or a missing input")
        chosen = {id(node) for node in progressed}
        for node in progressed:
            ordered.append(node)
            ready.update(node.output)
        remaining = [node for node in remaining if id(node) not in chosen]
    return ordered


def _drop_dead_nodes(graph: onnx.GraphProto) -> None:
    # keep the node objects referenced while comparing ids: protobuf makes new wrappers for freed ones
    upstream = _upstream_nodes(graph, [output.name for output in graph.output])
    live = {id(node) for node in upstream}
    kept = [node for node in graph.node if id(node) in live]
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in kept for name in node.input}
    initializers = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(initializers)


def max_output_difference(
    before: onnx.ModelProto, after: onnx.ModelProto, batch_sizes: Iterable[int] = (1, 3)
) -> float:
    """Largest absolute difference between the two models' outputs on random images (onnxruntime)."""
    import onnxruntime as ort

    sessions = [
        ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        for model in (before, after)
    ]
    model_input = sessions[0].get_inputs()[0]
    height, width = (int(d) if isinstance(d, int) else 64 for d in model_input.shape[1:3])
    rng = np.random.default_rng(0)
    worst = 0.0
    for batch in batch_sizes:
        images = rng.uniform(0, 255, (batch, height, width, 3)).astype(np.float32)
        names = [output.name for output in sessions[0].get_outputs()]
        reference = sessions[0].run(names, {model_input.name: images})
        rewritten = sessions[1].run(names, {model_input.name: images})
        for a, b in zip(reference, rewritten, strict=True):
            if a.shape != b.shape:
                raise MergeError(f"output shape changed: {a.shape} -> {b.shape}")
            worst = max(worst, float(np.max(np.abs(a - b))))
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tolerance", type=float, default=1e-5, help="largest output difference accepted")
    args = parser.parse_args(argv)
    before = onnx.load(str(args.model))
    after = onnx.ModelProto()
    after.CopyFrom(before)
    summary = merge_flip_views(after)
    onnx.checker.check_model(after)
    difference = max_output_difference(before, after)
    if difference > args.tolerance:
        raise SystemExit(f"rewritten model differs by {difference:.2e} > {args.tolerance:.0e}; not written")
    record = {
        "rewrite": "flip-TTA views batched through one backbone (training/merge_tta_views.py)",
        "source_model": args.model.name,
        "max_output_difference": float(f"{difference:.3g}"),
        **summary,
    }
    metadata = {entry.key: entry.value for entry in after.metadata_props}
    metadata[META_GRAPH_REWRITE] = json.dumps(record)
    del after.metadata_props[:]
    helper.set_model_props(after, metadata)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(after, str(args.out))
    print(json.dumps({"out": str(args.out), **record}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
