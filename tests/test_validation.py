"""Input checks every decoder building block runs (decoders/toolkit/validation.py)."""

import numpy as np
import pytest

from decoders.toolkit.validation import all_finite, check_epochs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_finds_one_bad_value_anywhere(dtype, bad):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 5, 7)).astype(dtype)
    assert all_finite(X)
    for index in [(0, 0, 0), (5, 4, 6), (3, 2, 1)]:
        Y = X.copy()
        Y[index] = bad
        assert not all_finite(Y)
        assert all_finite(Y) == bool(np.isfinite(Y).all())


def test_all_finite_on_views_and_opposite_infinities():
    X = np.ones((4, 3, 5))
    X[1, 1, 1], X[2, 2, 2] = np.inf, -np.inf  # the sum is NaN, not inf
    assert not all_finite(X)
    view = X[:, ::2, :]  # non-contiguous, still holds X[2, 2, 2]
    assert not all_finite(view)
    assert all_finite(X[:1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_finite_is_not_fooled_by_an_overflowing_sum(dtype):
    X = np.full((3, 4, 5), np.finfo(dtype).max / 2, dtype=dtype)  # finite values, infinite sum
    assert all_finite(X)
    X[2, 3, 4] = np.nan
    assert not all_finite(X)


def test_all_finite_accepts_integers_and_empty_arrays():
    assert all_finite(np.arange(24).reshape(2, 3, 4))
    assert all_finite(np.zeros((0, 3, 4)))


def test_check_epochs_rejects_nan_and_names_the_array():
    X = np.zeros((2, 3, 4), dtype=np.float32)
    X[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match="X_imagine contains NaN or infinite values"):
        check_epochs(X, name="X_imagine")
    X[1, 2, 3] = 0.0
    assert check_epochs(X).dtype == np.float64
    assert check_epochs(X, keep_float32=True) is X
