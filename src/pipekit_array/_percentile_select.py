"""Exact order-statistic selection behind :func:`pipekit_array.nanpercentile`.

Two engines compute NumPy's "linear" percentile of every row of a
``(rows, n)`` array, NaNs ignored:

* :func:`nanquantile_rows` -- NumPy, for the eager path and for the
  ``method="host"`` callback. It equals ``np.nanpercentile`` value for value,
  result dtypes included, but works on rows that keep their NaNs (they sort
  and partition to the end) instead of NumPy's per-row NaN-removal copy: rows
  of up to 2**18 values are sorted in one vectorised call, longer ones go
  through single-``kth`` ``np.partition`` calls instead of NumPy's multi-``kth``
  one. 0.06 s against 0.23 s for ``(13, 1024, 1024)`` float32 and
  ``q=(2, 98)`` on 2 CPU cores.
* :func:`radix_rows` -- XLA, for ``method="radix"``: a radix select on
  order-preserving integer keys, made of scatter-adds and small reductions
  (no sort), so it runs on any backend under ``jit`` and ``vmap``.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, Float, Int, UInt

__all__ = ["nanquantile_rows", "radix_rows"]

# NumPy engine: rows up to this length are sorted all at once (one vectorised
# ``np.sort``, SIMD-accelerated since NumPy 2), longer ones partitioned. For
# 2**23 float32 values, q=(2, 98), NumPy 2.4 on 2 cores, rows with distinct NaN
# counts (each row its own ranks, so its own partition group): rows of 4096,
# sort 38 ms vs partition 77 ms; 65536, 43 vs 47; 262144, 45 vs 44; 2**20, 80
# vs 67. With shared ranks sort won at every length up to 2**20.
_NUMPY_SORT_MAX_LENGTH = 1 << 18

# XLA engine: widest radix digit. XLA:CPU scatter-adds are the cost of each
# pass and slow down once a histogram outgrows the cache: for (13, 1024, 1024)
# float32, 3 passes of 11 bits took 0.05 s, 2 of 16 bits 0.10 s, 4 of 8 bits
# 0.07 s.
_MAX_DIGIT_BITS = 11

# XLA engine: rows this short are sorted instead, as their narrow digits would
# need 8 histogram passes. CPU, 2**22 values in rows of n: n=16 sort 0.41 s vs
# radix 1.66 s; n=64 0.41 vs 0.87; n=256 0.52 vs 0.35.
_XLA_SORT_MAX_LENGTH = 128


# --- NumPy ---------------------------------------------------------------------------------


def nanquantile_rows(
    rows: np.ndarray, fractions: tuple[float, ...], *, weak_gamma: bool
) -> np.ndarray:
    """Quantiles of each row of ``rows`` ignoring NaNs; shape ``(len(fractions), n_rows)``.

    Args:
        rows: real array of shape ``(n_rows, n)``.
        fractions: quantiles in ``[0, 1]`` (``q / 100`` computed in float64).
        weak_gamma: interpolate as NumPy does for a scalar Python ``q`` (in the
            data's float dtype) instead of as for a sequence ``q`` (in float64).

    Returns:
        Float array; all-NaN rows give NaN without a warning.
    """
    if rows.shape[1] == 0:
        # Nothing to select from: one NaN per row gives all-NaN results in the
        # dtype the normal path would return.
        dtype = rows.dtype if rows.dtype.kind == "f" else np.float64
        rows = np.full((rows.shape[0], 1), np.nan, dtype)
    n_rows, n = rows.shape
    if rows.dtype.kind == "f":
        n_valid = n - np.count_nonzero(np.isnan(rows), axis=1)
    else:
        n_valid = np.full(n_rows, n, dtype=np.intp)
    lower, upper, gamma = _linear_ranks(n_valid, np.asarray(fractions, dtype=np.float64))
    # All-NaN rows have no valid rank; select rank 0 (a NaN) and overwrite below.
    ranks = np.maximum(np.concatenate([lower, upper], axis=0).T, 0)
    values = _select_ranks(rows, ranks).T
    below, above = np.split(values, 2, axis=0)
    if rows.dtype.kind != "f":
        # NumPy subtracts integer neighbours in their own dtype, which wraps
        # (int8: 127 - (-128) == -1); interpolate integers in float64 instead.
        below, above = below.astype(np.float64), above.astype(np.float64)
    # ``inf - inf`` is NaN, exactly as in NumPy; the warning it raises is noise.
    with np.errstate(invalid="ignore"):
        result = _lerp_numpy(below, above, gamma, weak_gamma=weak_gamma)
    result[:, n_valid == 0] = np.nan
    return result


def _linear_ranks(
    n_valid: np.ndarray, fractions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NumPy's "linear" neighbour ranks and weight, each ``(n_fractions, n_rows)``.

    Virtual index ``h = (n - 1) * fraction`` in float64; neighbours
    ``floor(h)`` and ``floor(h) + 1``, both the last rank once ``h >= n - 1``.
    """
    last = (n_valid - 1)[np.newaxis, :]
    virtual = last * fractions[:, np.newaxis]
    floor = np.floor(virtual)
    at_end = virtual >= last
    # NumPy moves both neighbours to index -1 there and takes ``h - (-1)`` as
    # the weight; copy that so results match bit for bit, -0.0 and inf included.
    gamma = np.where(at_end, virtual + 1.0, virtual - floor)
    lower = np.where(at_end, last, floor).astype(np.intp)
    upper = np.where(at_end, lower, lower + 1)
    return lower, upper, gamma


def _select_ranks(rows: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Values of ascending order (NaNs last) at ``ranks`` per row: ``(n_rows, k)``."""
    if rows.shape[1] <= _NUMPY_SORT_MAX_LENGTH:
        return np.take_along_axis(np.sort(rows, axis=1), ranks, axis=1)
    out = np.empty(ranks.shape, dtype=rows.dtype)
    # Rows needing the same ranks (equal NaN counts, e.g. none) share one
    # vectorised partition; otherwise this is a loop over rows.
    groups, members_of = np.unique(ranks, axis=0, return_inverse=True)
    for group, group_ranks in enumerate(groups):
        members = np.flatnonzero(members_of.ravel() == group)
        block = rows[members]  # a copy: partitioned in place below
        out[members] = _partition_ranks(block, group_ranks)
    return out


def _partition_ranks(block: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Values at ``ranks`` (one set for all rows) of every row of ``block``, which is reordered."""
    wanted = np.unique(ranks)
    values = np.empty((block.shape[0], wanted.size), dtype=block.dtype)
    # Invariant: ``block[:, start:]`` holds exactly the elements of rank >=
    # start (plus NaNs, which sort last).
    start = 0
    for i, rank in enumerate(wanted.tolist()):
        tail = block[:, start:]
        if rank == start:
            # The smallest of the tail, e.g. the neighbour just above the last
            # partition point: a min is ~10x cheaper than a partition, and
            # ``fmin`` skips the NaNs. ``start`` stays, keeping the invariant.
            values[:, i] = np.fmin.reduce(tail, axis=1)
            continue
        # One kth per call: multi-kth np.partition was ~9x slower here.
        tail.partition(rank - start, axis=1)
        values[:, i] = block[:, rank]
        start = rank + 1
    return values[:, np.searchsorted(wanted, ranks)]


def _lerp_numpy(
    below: np.ndarray, above: np.ndarray, gamma: np.ndarray, *, weak_gamma: bool
) -> np.ndarray:
    """NumPy's ``_lerp``: two-sided so that ``gamma == 1`` returns ``above`` exactly.

    With ``weak_gamma`` the weights are cast to the data dtype as NumPy does
    for a Python-float ``q`` (``1 - gamma`` rounded from float64, as there).
    """
    if weak_gamma:
        weight = gamma.astype(below.dtype)
        complement = (1.0 - gamma).astype(below.dtype)
    else:
        weight, complement = gamma, 1.0 - gamma
    diff = above - below
    result = below + diff * weight
    np.subtract(above, diff * complement, out=result, where=gamma >= 0.5)
    return result


# --- XLA -----------------------------------------------------------------------------------


def radix_rows(rows: Float[Array, "rows n"], fractions: tuple[float, ...]) -> Array:
    """Exact radix select (a sort for short rows) of NumPy's neighbours, interpolated."""
    dtype = rows.dtype

    def ranks_for(n_valid: Int[Array, " rows"]) -> Int[Array, "rows r"]:
        return _neighbours(n_valid, fractions, dtype)[0]

    select = _sort_select if rows.shape[1] <= _XLA_SORT_MAX_LENGTH else _radix_select
    values, n_valid = select(rows, ranks_for)
    _, gamma = _neighbours(n_valid, fractions, dtype)  # recomputed; XLA dedupes it
    below, above = values.T[: len(fractions)], values.T[len(fractions) :]
    return jnp.where(n_valid == 0, jnp.nan, _lerp(below, above, gamma))


def _neighbours(
    n_valid: Int[Array, " rows"], fractions: tuple[float, ...], dtype: jnp.dtype
) -> tuple[Int[Array, "rows r"], Float[Array, "q rows"]]:
    """Ranks of all lower neighbours then all upper ones, and the weights."""
    last = jnp.maximum(n_valid - 1, 0)
    lower, upper, gamma = zip(*(_linear_position(last, f, dtype) for f in fractions), strict=True)
    return jnp.stack(lower + upper, axis=1), jnp.stack(gamma)


_RankFn = Callable[[Int[Array, " rows"]], Int[Array, "rows r"]]


def _sort_select(
    rows: Float[Array, "rows n"], ranks_for: _RankFn
) -> tuple[Float[Array, "rows r"], Int[Array, " rows"]]:
    """Values at ``ranks_for(n_valid)`` by sorting each row (NaNs sort last)."""
    n_valid = jnp.sum(~jnp.isnan(rows), axis=1, dtype=jnp.int32)
    values = jnp.take_along_axis(jnp.sort(rows, axis=1), ranks_for(n_valid), axis=1)
    return values, n_valid


def _digit_schedule(key_bits: int, n: int) -> list[tuple[int, int]]:
    """``(shift, width)`` of each radix digit, most significant first.

    Digits narrow with the row length so that the histograms (rows x ranks x
    bins, also when vmapped) stay small next to the data: 64 x 64 chips
    vmapped 256 times took 0.17 s with 8-bit digits, 0.37 s with 11-bit ones.
    At least 8 bits, though (at most 4 passes): each pass adds kernels to
    compile, and narrower digits gained < 2x even on 2**22 values in rows of
    256 to 1024.
    """
    width = min(_MAX_DIGIT_BITS, max(8, n.bit_length() // 2 + 1))
    n_digits = -(-key_bits // width)
    widths = [key_bits // n_digits + (i < key_bits % n_digits) for i in range(n_digits)]
    shifts = [key_bits - sum(widths[: i + 1]) for i in range(n_digits)]
    return list(zip(shifts, widths, strict=True))


def _sortable_keys(x: Float[Array, "*s"]) -> UInt[Array, "*s"]:
    """Unsigned integers ordered as the floats: -inf < ... < -0.0 < 0.0 < ... < inf."""
    bits = x.dtype.itemsize * 8
    unsigned = jnp.uint32 if bits == 32 else jnp.uint64
    u = lax.bitcast_convert_type(x, unsigned)
    negative = (u >> (bits - 1)) == 1
    return jnp.where(negative, ~u, u | unsigned(1 << (bits - 1)))


def _keys_to_floats(keys: UInt[Array, "*s"], dtype: jnp.dtype) -> Float[Array, "*s"]:
    """Inverse of :func:`_sortable_keys`."""
    bits = keys.dtype.itemsize * 8
    sign = keys.dtype.type(1 << (bits - 1))
    u = jnp.where((keys >> (bits - 1)) == 1, keys ^ sign, ~keys)
    return lax.bitcast_convert_type(u, dtype)


def _radix_select(
    rows: Float[Array, "rows n"], ranks_for: _RankFn
) -> tuple[Float[Array, "rows r"], Int[Array, " rows"]]:
    """Values at ``ranks_for(n_valid)`` among the valid elements of each row.

    Pass 1 histograms the top digit of every valid key; its total is the valid
    count, which fixes the ranks. Each later pass histograms the next digit of
    the keys that match a wanted rank's digits so far. Ranks sharing those
    digits (e.g. k and k + 1) share a histogram, so every pass is one
    scatter-add over the data, whatever the number of ranks.
    """
    n_rows, n = rows.shape
    keys = _sortable_keys(rows)
    valid = ~jnp.isnan(rows)
    row = jnp.arange(n_rows, dtype=jnp.int32)[:, None]
    schedule = _digit_schedule(keys.dtype.itemsize * 8, n)
    shift, width = schedule[0]
    bins = 1 << width
    digit = ((keys >> shift) & (bins - 1)).astype(jnp.int32)
    index = jnp.where(valid, row * bins + digit, n_rows * bins)
    hist = _histogram(index, n_rows * bins).reshape(n_rows, 1, bins)
    n_valid = jnp.sum(hist, axis=(1, 2), dtype=jnp.int32)
    rank = ranks_for(n_valid)
    chosen, rank = _locate(hist, jnp.zeros_like(rank), rank)
    prefix = chosen.astype(keys.dtype)
    n_slots = rank.shape[1]
    for shift, width in schedule[1:]:
        bins = 1 << width
        digit = ((keys >> shift) & (bins - 1)).astype(jnp.int32)
        high = keys >> (shift + width)
        slot = jnp.full(keys.shape, n_slots, jnp.int32)
        owner = jnp.full(rank.shape, n_slots, jnp.int32)
        for j in reversed(range(n_slots)):  # the lowest matching slot wins
            slot = jnp.where(high == prefix[:, j : j + 1], j, slot)
            owner = jnp.where(prefix == prefix[:, j : j + 1], j, owner)
        size = n_rows * n_slots * bins
        index = jnp.where(valid & (slot < n_slots), (row * n_slots + slot) * bins + digit, size)
        hist = _histogram(index, size).reshape(n_rows, n_slots, bins)
        chosen, rank = _locate(hist, owner, rank)
        prefix = (prefix << width) | chosen.astype(keys.dtype)
    return _keys_to_floats(prefix, rows.dtype), n_valid


def _histogram(index: Int[Array, "*s"], size: int) -> Int[Array, " size"]:
    """Counts of each index in ``[0, size)``; out-of-range ones (masked elements) drop."""
    return jnp.zeros(size, jnp.int32).at[index.reshape(-1)].add(1, mode="drop")


def _locate(
    hist: Int[Array, "rows slots bins"], owner: Int[Array, "rows r"], rank: Int[Array, "rows r"]
) -> tuple[Int[Array, "rows r"], Int[Array, "rows r"]]:
    """Bin of ``hist[row, owner]`` holding each 0-based ``rank``, and the rank within it."""
    own = jnp.take_along_axis(hist, owner[:, :, None], axis=1) if hist.shape[1] > 1 else hist
    cumulative = jnp.cumsum(own, axis=-1)
    # Cumulative counts never decrease: those <= rank belong to the bins left
    # of the answer, and the largest of them is the count before it.
    before = cumulative <= rank[:, :, None]
    chosen = jnp.minimum(jnp.sum(before, axis=-1, dtype=jnp.int32), hist.shape[-1] - 1)
    offset = jnp.max(jnp.where(before, cumulative, 0), axis=-1)
    return chosen, rank - offset


def _lerp(below: Array, above: Array, gamma: Array) -> Array:
    """NumPy's two-sided linear interpolation (exact at ``gamma`` 0 and 1)."""
    diff = above - below
    return jnp.where(gamma >= 0.5, above - diff * (1 - gamma), below + diff * gamma)


def _linear_position(
    last: Int[Array, " rows"], fraction: float, dtype: jnp.dtype
) -> tuple[Int[Array, " rows"], Int[Array, " rows"], Float[Array, " rows"]]:
    """NumPy's neighbour ranks and weight for the position ``h = last * fraction``.

    NumPy forms ``h`` in float64. In float32, ``last * fraction`` can be off by
    ``last * 6e-8`` -- a quarter of a rank at 4 M pixels, enough to move a
    result by a quarter of the gap between neighbours. Without float64, ``h``
    is computed in 32.32 fixed point instead: ``fraction`` (static) becomes a
    64-bit binary fraction and ``last * fraction`` a 64 x 32-bit integer
    product built from 16-bit limbs, exact up to 2**-31 of a rank.
    """
    if fraction == 1.0:  # does not fit the fixed-point fraction; exact anyway
        whole, gamma = last, jnp.zeros(last.shape, dtype)
    elif dtype == jnp.float64:
        virtual = last.astype(dtype) * fraction
        floor = jnp.floor(virtual)
        whole, gamma = floor.astype(last.dtype), virtual - floor
    else:
        scaled = int(Fraction(fraction) * 2**64)  # floor(fraction * 2**64) < 2**64
        m = last.astype(jnp.uint32)
        whole_a, frac_a = _multiply_u32(m, scaled >> 32)
        frac_b, _ = _multiply_u32(m, scaled & 0xFFFFFFFF)
        frac = frac_a + frac_b  # wraps; the carry goes to the integer part
        whole = (whole_a + (frac < frac_a).astype(jnp.uint32)).astype(last.dtype)
        gamma = frac.astype(jnp.float32) * 2.0**-32
    at_end = whole >= last
    lower = jnp.where(at_end, last, whole)
    upper = jnp.where(at_end, last, whole + 1)
    return lower, upper, gamma.astype(dtype)


def _multiply_u32(a: UInt[Array, "*s"], b: int) -> tuple[UInt[Array, "*s"], UInt[Array, "*s"]]:
    """High and low 32-bit words of ``a * b`` for a static ``b < 2**32``."""
    a_lo, a_hi = a & 0xFFFF, a >> 16
    b_lo, b_hi = b & 0xFFFF, b >> 16
    lo_lo, lo_hi, hi_lo = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo  # each < 2**32
    middle = (lo_lo >> 16) + (lo_hi & 0xFFFF) + (hi_lo & 0xFFFF)  # < 3 * 2**16
    low = (middle << 16) | (lo_lo & 0xFFFF)
    high = a_hi * b_hi + (lo_hi >> 16) + (hi_lo >> 16) + (middle >> 16)
    return high, low
