"""bench/train_step_profile.py: op time by op type from TensorFlow's profiler trace."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("tensorflow")

import tensorflow as tf

from bench.train_step_profile import op_times_ms, op_type_of


def test_op_times_sum_the_traced_ops_by_type(tmp_path: Path) -> None:
    @tf.function
    def work(x: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(tf.matmul(x, x))

    x = tf.random.normal([256, 256])
    work(x)  # traced before profiling: only execution is recorded
    tf.profiler.experimental.start(str(tmp_path))
    for _ in range(3):
        work(x).numpy()
    tf.profiler.experimental.stop()
    totals = op_times_ms(next(tmp_path.rglob("*.xplane.pb")))
    assert totals["MatMul"] > 0 and totals["Relu"] > 0
    assert not {"Process", "ParallelFor", "StartRegion", "Record"} & set(totals)  # executor bookkeeping is no op
    assert totals["MatMul"] < 10_000  # milliseconds, not picoseconds


def test_onednn_rewrites_count_as_the_op_they_replace() -> None:
    assert op_type_of("model/dense/MatMul:_MklMatMul") == "MatMul"
    assert op_type_of("model/conv/Conv2D:_MklNativeFusedConv2D") == "_FusedConv2D"
    assert op_type_of("model/conv/Conv2D:Conv2D") == "Conv2D"
    assert op_type_of("_FusedMatMul") == "_FusedMatMul"
