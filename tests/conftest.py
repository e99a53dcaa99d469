"""Shared test configuration: strict JAX numerics, as equinox/optax test suites do."""

import jax
import pytest

# Silent dtype or rank promotion hides real bugs in array code; make both loud.
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def getkey():
    """Return a function that hands out fresh, deterministic PRNG keys."""
    keys = iter(jax.random.split(jax.random.key(0), 1024))
    return lambda: next(keys)
