"""Shared test configuration: strict JAX numerics (as equinox/optax test suites do), and
rasterio's own window and bounds arithmetic as oracles."""

import warnings

import jax
import pytest
import rasterio.transform
import rasterio.windows
from affine import Affine

# Silent dtype or rank promotion hides real bugs in array code; make both loud.
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def getkey():
    """Return a function that hands out fresh, deterministic PRNG keys."""
    keys = iter(jax.random.split(jax.random.key(0), 1024))
    return lambda: next(keys)


def _quiet(fn, *args):
    # affine 3.0.1 flags the `*` operator rasterio uses internally (PendingDeprecationWarning).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return fn(*args)


@pytest.fixture
def rio_window_transform():
    """``rasterio.windows.transform`` for ``(row_off, col_off)``: the oracle for slicing."""

    def window_transform(transform: Affine, row_off: int, col_off: int) -> Affine:
        window = rasterio.windows.Window(col_off, row_off, 1, 1)
        return _quiet(rasterio.windows.transform, window, transform)

    return window_transform


@pytest.fixture
def rio_array_bounds():
    """``rasterio.transform.array_bounds``: the oracle for ``GeoTensor.bounds``."""

    def array_bounds(height: int, width: int, transform: Affine) -> tuple[float, ...]:
        return _quiet(rasterio.transform.array_bounds, height, width, transform)

    return array_bounds
