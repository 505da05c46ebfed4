"""--mixed-precision is granted only where bfloat16 runs in hardware (training/precision.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from training import precision

X86_AVX2 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma f16c\n"
X86_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 avx512f avx512_vnni avx512_bf16\n"
ARM_BF16 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"


@pytest.mark.parametrize(("cpuinfo", "native"), [(X86_AVX2, False), (X86_BF16, True), (ARM_BF16, True), ("", False)])
def test_cpu_flags_decide_native_bfloat16(tmp_path: Path, cpuinfo: str, native: bool) -> None:
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    flags = precision.cpu_flags(path)
    assert precision.native_bfloat16(flags, gpus=[]) is native


def test_unreadable_cpuinfo_means_no_flags(tmp_path: Path) -> None:
    assert precision.cpu_flags(tmp_path / "missing") == set()


def test_a_gpu_decides_by_its_compute_capability() -> None:
    no_bf16 = precision.cpu_flags(Path("/nonexistent"))
    assert precision.native_bfloat16(no_bf16, gpus=[(8, 0)])  # Ampere
    assert precision.native_bfloat16(no_bf16, gpus=[(9, 0)])  # Hopper
    assert not precision.native_bfloat16({"avx512_bf16"}, gpus=[(7, 0)])  # Volta trains instead of the CPU


def test_policy_grants_refuses_or_is_not_asked() -> None:
    assert precision.training_policy(False, native=True) == ("float32", None)
    assert precision.training_policy(True, native=True) == ("mixed_bfloat16", None)
    policy, reason = precision.training_policy(True, native=False)
    assert policy == "float32"
    assert reason is not None and "--mixed-precision" in reason and "float32" in reason


def test_policy_reads_this_machine_when_not_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "gpu_capabilities", list)
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2"})
    assert precision.training_policy(True)[0] == "float32"
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2", "amx_bf16"})
    assert precision.training_policy(True)[0] == "mixed_bfloat16"


def test_training_dtype_sets_the_granted_policy_and_restores_float32(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import keras

    monkeypatch.setattr(precision, "native_bfloat16", lambda: True)
    with pytest.raises(RuntimeError), precision.training_dtype(True) as policy:
        assert policy == "mixed_bfloat16" == keras.mixed_precision.global_policy().name
        raise RuntimeError("a failed run")
    assert keras.mixed_precision.global_policy().name == "float32"  # restored although the block failed
    monkeypatch.setattr(precision, "native_bfloat16", lambda: False)
    with precision.training_dtype(True) as policy:
        assert policy == "float32" == keras.mixed_precision.global_policy().name
    assert "no native bfloat16" in capsys.readouterr().out
