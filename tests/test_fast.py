"""The speed tricks of companion.layers.fast: each equals the plain formula it names.

Every function is compared with the NumPy expression its docstring says it replaces, in
float32 and in float64, and must keep the dtype it is given. The tolerances are those of
rounding in a different order: about 1e-6 in float32, 1e-12 in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

from companion import LayerNorm
from companion.layers import activations, fast

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


def normal(*shape: int, dtype: type, seed: int = 1, scale: float = 1.0) -> np.ndarray:
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


def rtol(dtype: type) -> float:
    return 1e-5 if dtype == np.float32 else 1e-12


@DTYPES
@pytest.mark.parametrize("shape", [(7, 5), (2, 3, 5), (2, 2, 3, 5)], ids=["2-D", "3-D", "4-D"])
def test_matmul_rows_is_x_at_w(dtype, shape):
    """One product over all the rows equals x @ W, whatever the leading axes."""
    x, W = normal(*shape, dtype=dtype), normal(5, 4, dtype=dtype, seed=2)
    out = fast.matmul_rows(x, W)
    assert out.dtype == dtype and out.shape == (*shape[:-1], 4)
    np.testing.assert_allclose(out, x @ W, rtol=rtol(dtype), atol=rtol(dtype))


@DTYPES
def test_gelu_in_place_is_gelu_and_leaves_x_alone(dtype):
    """Step by step in two arrays: gelu(x), and the tanh inside it; x itself is not changed."""
    x = normal(4, 50, dtype=dtype, scale=3.0)
    before = x.copy()
    out, t = fast.gelu_in_place(x)
    assert out.dtype == dtype and t.dtype == dtype
    np.testing.assert_allclose(out, activations.gelu(x), rtol=rtol(dtype), atol=rtol(dtype))
    inside = activations.SQRT_2_OVER_PI * (x + activations.GELU_C * x.astype(np.float64) ** 3)
    np.testing.assert_allclose(t, np.tanh(inside), rtol=rtol(dtype), atol=rtol(dtype))
    np.testing.assert_array_equal(x, before)


@DTYPES
def test_gelu_backward_in_place_is_dout_times_gelu_grad(dtype):
    """The slope from forward's tanh, times dout, equals dout * gelu_grad(x)."""
    x, dout = normal(4, 50, dtype=dtype, scale=3.0), normal(4, 50, dtype=dtype, seed=2)
    _, t = fast.gelu_in_place(x)
    saved = (x.copy(), dout.copy(), t.copy())
    dx = fast.gelu_backward_in_place(dout, x, t)
    assert dx.dtype == dtype
    expected = dout * activations.gelu_grad(x)
    np.testing.assert_allclose(dx, expected, rtol=rtol(dtype), atol=rtol(dtype))
    for array, copy in zip((x, dout, t), saved, strict=True):
        np.testing.assert_array_equal(array, copy)  # only the result is a new array


@DTYPES
def test_add_rows_at_is_np_add_at(dtype):
    """Rows of repeated ids add up; ids never seen keep their row; the table is added to."""
    ids = np.array([3, 0, 3, 3, 5, 0, 1])  # 3 three times, 0 twice, 2 and 4 never
    rows = normal(7, 4, dtype=dtype)
    table = normal(6, 4, dtype=dtype, seed=2)  # not zeros: the rows are added to it
    expected = table.copy()
    np.add.at(expected, ids, rows)
    fast.add_rows_at(table, ids, rows)
    assert table.dtype == dtype
    np.testing.assert_allclose(table, expected, rtol=rtol(dtype), atol=rtol(dtype))


@DTYPES
def test_row_sum_is_sum_over_the_last_axis(dtype):
    """row_sum(a) = a.sum(axis=-1, keepdims=True); row_sum(a, b) = (a * b).sum(...)."""
    a, b = normal(2, 3, 64, dtype=dtype), normal(2, 3, 64, dtype=dtype, seed=2)
    for got, expected in (
        (fast.row_sum(a), a.sum(axis=-1, keepdims=True)),
        (fast.row_sum(a, b), (a * b).sum(axis=-1, keepdims=True)),
    ):
        assert got.dtype == dtype and got.shape == (2, 3, 1)
        np.testing.assert_allclose(got, expected, rtol=rtol(dtype), atol=10 * rtol(dtype))


@DTYPES
def test_normalize_is_x_minus_mean_over_sqrt_of_var_plus_eps(dtype):
    """LayerNorm's (x - M) / D, with M = x.mean(-1) and D = sqrt(x.var(-1) + eps)."""
    x = normal(3, 4, 16, dtype=dtype, scale=5.0) + dtype(2.0)
    x_hat, std = fast.normalize(x, 1e-5)
    assert x_hat.dtype == dtype and std.dtype == dtype and std.shape == (3, 4, 1)
    x64 = x.astype(np.float64)
    plain_std = np.sqrt(x64.var(axis=-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(std, plain_std, rtol=rtol(dtype))
    plain = (x64 - x64.mean(axis=-1, keepdims=True)) / plain_std
    np.testing.assert_allclose(x_hat, plain, rtol=rtol(dtype), atol=10 * rtol(dtype))


def test_layernorm_of_numbers_whose_squares_overflow_float32_is_plus_minus_one():
    """(1e20)^2 does not fit in float32: such a row is scaled down first, not sent to 0."""
    out = LayerNorm(4)(np.array([[1e20, -1e20, 1e20, -1e20]]))  # mean 0, std 1e20
    assert out.dtype == np.float32
    assert out.tolist() == [[1.0, -1.0, 1.0, -1.0]]


def test_layernorm_near_the_float32_limit_stays_finite():
    """[3e38, 3e38, 3e38, -3e38] normalises like [1, 1, 1, -1]: to [1, 1, 1, -3] / sqrt(3)."""
    # mean 1.5e38; deviations 1.5e38 (three times) and -4.5e38; variance
    # (3 * 2.25e76 + 20.25e76) / 4 = 6.75e76; std 2.598e38; 1.5 / 2.598 = 1 / sqrt(3)
    with np.errstate(all="ignore"):
        out = LayerNorm(4)(np.array([[3e38, 3e38, 3e38, -3e38]], dtype=np.float32))
    np.testing.assert_allclose(out, [[1, 1, 1, -3] / np.sqrt(3)], rtol=1e-5)


def test_float64_layernorm_of_numbers_whose_squares_overflow_is_plus_minus_one():
    """The float64 twin of the 1e20 case: (1e200)^2 does not fit in float64."""
    with np.errstate(all="ignore"):
        out = LayerNorm(4, dtype=np.float64)(np.array([[1e200, -1e200, 1e200, -1e200]]))
    np.testing.assert_allclose(out, [[1.0, -1.0, 1.0, -1.0]], rtol=1e-12)
