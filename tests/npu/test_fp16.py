"""Bit-true FP16 GEMM: the fast path against the numpy reference, rounding, accumulation."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import npu
from devices.validation import ConfigError


def bits(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float16).view(np.uint16)


@pytest.mark.parametrize("accumulate", ["fp32", "fp16"])
@pytest.mark.parametrize("fold_k", [None, 1, 4, 7])
def test_fast_path_is_bit_equal_to_reference(accumulate, fold_k, generator):
    x = torch.randn((23, 41), generator=generator)
    w = torch.randn((41, 13), generator=generator)
    b = torch.randn((13,), generator=generator)
    ref = npu.gemm_reference(x.numpy(), w.numpy(), b.numpy(), accumulate=accumulate,
                             fold_k=fold_k)  # fmt: skip
    fast = npu.gemm_fast(x, w, b, accumulate=accumulate, fold_k=fold_k, block_rows=5)
    assert np.array_equal(bits(ref), bits(fast.numpy()))


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 40),
    st.integers(1, 6),
    st.integers(0, 2**31 - 1),
    st.sampled_from(["fp32", "fp16"]),
    st.floats(1e-3, 1e3),
)
def test_fast_path_bit_equal_any_shape_and_scale(m, k, n, seed, accumulate, scale):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((m, k)) * scale).astype(np.float16)
    w = rng.standard_normal((k, n)).astype(np.float16)
    ref = npu.gemm_reference(x, w, accumulate=accumulate)
    fast = npu.gemm_fast(torch.from_numpy(x), torch.from_numpy(w), accumulate=accumulate)
    assert np.array_equal(bits(ref), bits(fast.numpy()))


def test_reference_matches_scalar_definition():
    # Element by element with Python floats and explicit roundings: the definition itself.
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 9)).astype(np.float16)
    w = rng.standard_normal((9, 2)).astype(np.float16)
    ref = npu.gemm_reference(x, w, accumulate="fp16")
    for i in range(3):
        for j in range(2):
            s = np.float16(0)
            for kk in range(9):
                s = np.float16(float(s) + float(np.float16(float(x[i, kk]) * float(w[kk, j]))))
            assert bits(s) == bits(ref[i, j])


def test_products_round_to_nearest_even():
    one_ulp = 2.0**-10  # FP16 spacing at 1
    # (1 + 2^-10)^2 = 1 + 2^-9 + 2^-20: the 2^-20 tail rounds away.
    x = np.array([[1 + one_ulp]], dtype=np.float16)
    assert npu.gemm_reference(x, x.T)[0, 0] == np.float16(1 + 2 * one_ulp)
    # 1 + 2^-11 is a tie between 1 and 1 + 2^-10: ties go to the even significand (1).
    half = np.array([[1 + 2.0**-11]], dtype=np.float32)
    got = npu.gemm_fast(torch.tensor(half), torch.ones((1, 1)))
    assert float(got[0, 0]) == 1.0  # the input itself is rounded to FP16 first
    # 1 + 3·2^-11 is a tie between 1 + 2^-10 and 1 + 2^-9: even is 1 + 2^-9.
    tie = torch.tensor([[1 + 3 * 2.0**-11]])
    assert float(npu.gemm_fast(tie, torch.ones((1, 1)))[0, 0]) == 1 + 2 * one_ulp


def test_accumulation_precision_changes_the_result():
    # 4096 products of 1: an FP16 accumulator stops at 2048 (2048 + 1 ties to even 2048).
    x = np.ones((1, 4096), dtype=np.float16)
    w = np.ones((4096, 1), dtype=np.float16)
    assert npu.gemm_reference(x, w, accumulate="fp16")[0, 0] == 2048.0
    assert npu.gemm_reference(x, w, accumulate="fp32")[0, 0] == 4096.0
    fast16 = npu.gemm_fast(torch.from_numpy(x), torch.from_numpy(w), accumulate="fp16")
    assert float(fast16[0, 0]) == 2048.0
    # Folding the reduction over 128 rows (weight stationary) keeps each fold exact: 4096.
    assert npu.gemm_reference(x, w, accumulate="fp16", fold_k=128)[0, 0] == 4096.0


def test_overflow_gives_inf_in_fp16():
    x = np.full((1, 2), 60000.0, dtype=np.float16)
    w = np.ones((2, 1), dtype=np.float16)
    assert np.isinf(npu.gemm_reference(x, w, accumulate="fp16")[0, 0])
    # FP32 accumulation holds 120000, but the FP16 output overflows all the same.
    assert np.isinf(npu.gemm_reference(x, w, accumulate="fp32")[0, 0])


def test_gemm_rejects_bad_arguments():
    x = np.ones((2, 3), dtype=np.float16)
    with pytest.raises(ConfigError, match="gemm.accumulate must be one of 'fp32', 'fp16'"):
        npu.gemm_reference(x, x.T, accumulate="fp64")
    with pytest.raises(ConfigError, match="gemm.fold_k must be None or an integer >= 1; got 0"):
        npu.gemm_fast(torch.ones(2, 3), torch.ones(3, 2), fold_k=0)
    with pytest.raises(ConfigError, match=r"gemm.w must be a \(K, N\) matrix with K = 3"):
        npu.gemm_reference(x, x)
