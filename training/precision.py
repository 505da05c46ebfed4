"""Which Keras dtype policy a run trains in: mixed bfloat16 only where the hardware computes bfloat16 natively.

``--mixed-precision`` made a full fine-tune step 1.3x faster on the AVX-512 CPU of README's benchmarks, but on an
AVX2-only CPU TensorFlow emulates bfloat16 and the same step took 6.9x longer than in float32 (18.1 s vs 2.6 s,
``python -m bench.training_throughput``; training/RESULTS.md). So the flag asks for bfloat16 and gets it where it helps; elsewhere the run trains in
float32, says so, and records the policy it used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MIXED = "mixed_bfloat16"
FULL = "float32"
#: /proc/cpuinfo flags of CPUs with bfloat16 arithmetic: x86 (AVX-512 BF16, AMX) and Arm ("bf16" in Features).
NATIVE_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})
#: NVIDIA GPUs compute bfloat16 natively from Ampere (compute capability 8.0) on.
MIN_BF16_GPU_CAPABILITY = (8, 0)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (x86 ``flags`` or Arm ``Features`` line); empty where the file is unreadable."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("flags", "Features"):
                return set(value.split())
    except OSError:
        pass
    return set()


def gpu_capabilities() -> list[tuple[int, int]]:
    """Compute capabilities of the GPUs TensorFlow sees ((0, 0) where it does not say)."""
    import tensorflow as tf

    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capabilities.append(tuple(details.get("compute_capability") or (0, 0)))
    return capabilities


def native_bfloat16(flags: set[str] | None = None, gpus: list[tuple[int, int]] | None = None) -> bool:
    """True where training would run bfloat16 in hardware: on a recent GPU if there is one, else on the CPU."""
    gpus = gpu_capabilities() if gpus is None else gpus
    if gpus:  # TensorFlow trains on the first GPU
        return tuple(gpus[0]) >= MIN_BF16_GPU_CAPABILITY
    return bool(NATIVE_BF16_CPU_FLAGS & (cpu_flags() if flags is None else flags))


def training_policy(mixed_precision: bool, native: bool | None = None) -> tuple[str, str | None]:
    """The dtype policy to train in and, when the request for bfloat16 is turned down, the reason to print."""
    if not mixed_precision:
        return FULL, None
    if native_bfloat16() if native is None else native:
        return MIXED, None
    return FULL, ("--mixed-precision: this machine has no native bfloat16 (no AVX-512 BF16 / AMX on the CPU, no GPU "
                  "of compute capability 8.0 or newer), where emulated bfloat16 trains several times slower than "
                  "float32; training in float32 instead")


@contextmanager
def training_dtype(mixed_precision: bool) -> Iterator[str]:
    """Build and train models inside this block in the policy ``training_policy`` grants (printing a refusal);
    yields the policy's name and restores float32 afterwards, so exports and later models are float32."""
    import keras

    policy, refusal = training_policy(mixed_precision)
    if refusal:
        print(refusal, flush=True)
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield policy
    finally:
        keras.mixed_precision.set_global_policy(FULL)
