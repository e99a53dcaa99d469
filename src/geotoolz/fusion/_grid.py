"""Where each destination pixel centre falls on a source grid, exact under jit.

Along one axis of two axis-aligned grids (a lattice scale ``a``, reduced origin ``o`` and an
integer pixel offset ``k``, see :class:`geocatalog.Lattice`), destination pixel ``i`` has its
centre at ``a_d (i + 0.5 + k_d) + o_d``; on the source it falls at the centre-index
coordinate (0 = centre of source pixel 0)

    u(i) = m i + kappa + (m k_d - k_s),   m = a_d / a_s,
    kappa = m / 2 + (o_d - o_s) / a_s - 1 / 2.

``m i + kappa`` is static and computed on the host in float64. ``m k_d - k_s`` holds the
offsets, which are traced under jit and large (UTM offsets reach 10**6 pixels), so float32
would lose about 0.03 pixel there. It is evaluated on the host in float64 when the offsets
are concrete, and otherwise in exact int32 arithmetic (:func:`_traced_shift`): the result is
a small integer plus a fraction in units of 2**-24, with an error below 4e-6 pixel. Every
position is carried as ``integer + fraction in [0, 1)``, so float32 only ever holds numbers
below 2.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["AxisMap", "Positions", "axis_map", "positions"]

_FRAC_BITS = 24  # fixed-point resolution of the traced fraction: 2**-24 pixel
_LIMB_BITS = 4  # an int32 offset is split into 8 digits of 4 bits (the top one signed)


@dataclasses.dataclass(frozen=True)
class AxisMap:
    """The static part of ``u(i)`` along one axis: ``m`` and ``m i + kappa = base + frac``."""

    m: float
    base: np.ndarray  # int64 (n_dst,): floor(m i + kappa)
    frac: np.ndarray  # float64 (n_dst,): (m i + kappa) - base, in [0, 1)
    n_src: int


@dataclasses.dataclass(frozen=True)
class Positions:
    """Sample positions along one axis: ``u = index + weight``, and whether ``u`` is inside."""

    index: Any  # integer (n_dst,): floor(u) (bilinear) or round-half-up(u) (nearest)
    weight: Any  # float (n_dst,): u - floor(u) in [0, 1) (bilinear only; zeros for nearest)
    inside: Any  # bool (n_dst,): -0.5 <= u < n_src - 0.5 (within the source's footprint)


def axis_map(
    dst_scale: float, dst_origin: float, n_dst: int, src_scale: float, src_origin: float, n_src: int
) -> AxisMap:
    """The static part of the destination-to-source map along one axis (float64, host)."""
    m = dst_scale / src_scale
    kappa = 0.5 * m + (dst_origin - src_origin) / src_scale - 0.5
    u = m * np.arange(n_dst, dtype=np.float64) + kappa
    base = np.floor(u)
    return AxisMap(m, base.astype(np.int64), u - base, int(n_src))


def _is_traced(*xs: Any) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def _wrap32(n: int) -> int:
    """``n`` modulo 2**32 as a signed 32-bit integer (two's complement)."""
    return (n + 2**31) % 2**32 - 2**31


def _traced_shift(m: float, k_dst: Any, k_src: Any) -> tuple[Any, Any]:
    """``m k_dst - k_src`` as ``(int32 integer part, int32 fraction numerator of 2**24)``.

    ``k_dst = sum_j d_j 16**j`` (digits ``d_j = (k >> 4j) & 15``, the top one signed), so
    ``m k_dst = sum_j d_j (I_j + F_j)`` with ``m 16**j = I_j + F_j`` split on the host in
    float64 (``I_j`` an integer, ``0 <= F_j < 1``). The ``I_j`` terms are summed in int32
    modulo 2**32 (exact, since the result is small), the ``F_j`` terms in int32 fixed point
    with ``round(F_j 2**24)``: at most 8 * 15 * 2**-25 < 4e-6 pixel of rounding in all, and
    no float arithmetic on large numbers.
    """
    k = jnp.asarray(k_dst).astype(jnp.int32)
    whole = -jnp.asarray(k_src).astype(jnp.int32)
    fixed = jnp.zeros((), jnp.int32)
    n_limbs = 32 // _LIMB_BITS
    for j in range(n_limbs):
        shift = _LIMB_BITS * j
        digit = k >> shift if j == n_limbs - 1 else (k >> shift) & (2**_LIMB_BITS - 1)
        scaled = m * float(2 ** (_LIMB_BITS * j))
        integer = math.floor(scaled)
        fraction = round((scaled - integer) * 2**_FRAC_BITS)
        if integer:
            whole = whole + digit * jnp.asarray(_wrap32(integer), jnp.int32)
        if fraction:
            fixed = fixed + digit * jnp.asarray(fraction, jnp.int32)
    whole = whole + (fixed >> _FRAC_BITS)
    return whole, fixed & (2**_FRAC_BITS - 1)


def positions(axis: AxisMap, k_dst: Any, k_src: Any, *, nearest: bool) -> Positions:
    """Sample positions of the destination pixel centres on the source, along one axis.

    Host float64 (NumPy results) when both offsets are concrete; int32-exact JAX otherwise.
    """
    if not _is_traced(k_dst, k_src):
        shift = axis.m * float(np.asarray(k_dst)) - float(np.asarray(k_src))
        whole = math.floor(shift)
        s = axis.frac + (shift - whole) + (0.5 if nearest else 0.0)
        step = np.floor(s)
        index = axis.base + whole + step.astype(np.int64)
        weight = np.zeros_like(s) if nearest else s - step
        centre = index if nearest else axis.base + whole + np.floor(s + 0.5).astype(np.int64)
        return Positions(index, weight, (centre >= 0) & (centre < axis.n_src))
    whole, numerator = _traced_shift(axis.m, k_dst, k_src)
    fraction = numerator.astype(jnp.float32) * jnp.float32(2.0**-_FRAC_BITS)
    s = jnp.asarray(axis.frac, jnp.float32) + fraction
    base = jnp.asarray(axis.base, jnp.int32) + whole
    if nearest:
        index = base + jnp.floor(s + 0.5).astype(jnp.int32)
        return Positions(index, jnp.zeros_like(s), (index >= 0) & (index < axis.n_src))
    step = jnp.floor(s)
    centre = base + jnp.floor(s + 0.5).astype(jnp.int32)
    return Positions(base + step.astype(jnp.int32), s - step, (centre >= 0) & (centre < axis.n_src))
