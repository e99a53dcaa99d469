"""Small operators used by the pipekit tests (stand-ins for domain operators)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import pipekit as pk


class AddConst(pk.Operator):
    """x + value (a plain config field)."""

    value: float = eqx.field(static=True, converter=float)

    def _apply(self, x):
        return x + np.float32(self.value) if isinstance(x, np.ndarray) else x + self.value


class Gain(pk.Operator):
    """x * weight, with ``weight`` a trainable array leaf built from config ``init``."""

    init: float = eqx.field(static=True)
    weight: jax.Array

    def __init__(self, init: float = 1.0) -> None:
        self.init = float(init)
        self.weight = jnp.asarray(self.init, dtype=jnp.float32)

    def _apply(self, x):
        return x * self.weight


class Add(pk.Operator):
    """Sum of several inputs (multi-input node)."""

    def _apply(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mul(pk.Operator):
    """a * b."""

    def _apply(self, a, b):
        return a * b


class Noise(pk.Operator):
    """x + scale * N(0, 1): a random operator (takes ``key``)."""

    scale: float = eqx.field(static=True, converter=float)

    def _apply(self, x, *, key):
        if isinstance(key, np.random.Generator):
            return x + self.scale * key.standard_normal(np.shape(x)).astype(np.float32)
        return x + self.scale * jax.random.normal(key, jnp.shape(x), dtype=jnp.float32)


class Nested(pk.Operator):
    """Holds a child operator and a tuple config (for nesting/round-trip tests)."""

    inner: pk.Operator
    bits: tuple[int, ...] = eqx.field(static=True, converter=tuple)
    label: str = eqx.field(static=True, default="n")

    def _apply(self, x):
        return self.inner(x)


class Counter:
    """Counts calls per name (used to check each graph node runs once)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def hit(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1


COUNTER = Counter()


class Counted(pk.Operator):
    """Identity that counts how often it runs (eagerly, or per trace under jit)."""

    name: str = eqx.field(static=True)

    def _apply(self, x):
        COUNTER.hit(self.name)
        return x


BUILT: list[str] = []


class Recorder(pk.Operator):
    """Identity whose constructor records that it ran (to prove nothing was built)."""

    tag: str = eqx.field(static=True)

    def __init__(self, tag: str) -> None:
        BUILT.append(tag)
        self.tag = tag

    def _apply(self, x):
        return x
