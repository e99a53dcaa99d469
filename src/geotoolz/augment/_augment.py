"""Random geometric augmentations: flips and quarter turns with corner-exact georeferencing."""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from affine import Affine
from jaxtyping import Array, ArrayLike, PRNGKeyArray, Shaped

import pipekit as pk
from geocatalog import GeoTensor, TracedGeoreferenceError

from .._carrier import namespace, values_of
from .._errors import GeotoolzTypeError, GeotoolzValueError

__all__ = ["RandomFlip", "RandomRotate90"]

Key = PRNGKeyArray | np.random.Generator


# ------------------------------------------------------------------------------- keys


def _is_traced(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


def _check_key(op: str, key: Any) -> bool:
    """Validate ``key`` for random operator ``op``; return whether it is traced."""
    example = (
        f"call {op}(...)(x, key=jax.random.key(0)) or, on the NumPy path, "
        f"(x, key=numpy.random.default_rng(0)); inside pk.Sequential pass key= to the Sequential, "
        "which splits it among its random steps"
    )
    if key is None:
        raise GeotoolzTypeError(f"{op} is a random operator and needs an explicit key: {example}.")
    if isinstance(key, np.random.Generator):
        return False
    if isinstance(key, jax.Array):
        typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
        if (typed and key.shape == ()) or (key.dtype == jnp.uint32 and key.shape == (2,)):
            return _is_traced(key)
        received = f"a JAX array {key.dtype}{tuple(key.shape)}"
    else:
        received = f"{type(key).__name__} {key!r}"[:120]
    raise GeotoolzTypeError(
        f"{op}: key must be one JAX PRNG key (jax.random.key(seed), shape ()) or a "
        f"numpy.random.Generator; received {received}. For one decision per sample, "
        f"jax.vmap over a batch of keys. Fix: {example}."
    )


def _check_values(op: str, values: Any) -> None:
    if len(values.shape) < 2:
        raise GeotoolzValueError(
            f"{op} expects values of shape (..., y, x) with two spatial axes; received shape "
            f"{tuple(values.shape)}. Reshape a flat array to (H, W) first."
        )


def _traced_geotensor_error(op: str) -> TracedGeoreferenceError:
    return TracedGeoreferenceError(
        f"{op}: the key is traced (inside jax.jit / eqx.filter_jit, or vmapped over keys), so "
        "the random decision is only known when the compiled program runs. A GeoTensor cannot "
        "carry that result: its lattice, the static part of its georeferencing (pixel size "
        "signs, rotation), would depend on a traced value. Fix: under jit apply the operator "
        f"to the pixel array, {op}(...)(gt.values, key=key), and keep the georeferencing "
        "yourself; or draw with a concrete key outside jit (a jax.random.key or a "
        "numpy.random.Generator), where the decision and the exact transform are computed on "
        "the host."
    )


# ------------------------------------------------------------------- pixel geometry


def _flip_map(height: int, width: int, lr: bool, ud: bool) -> Affine:
    """Output corner ``(col, row)`` -> input corner: ``col' = W - col`` / ``row' = H - row``."""
    return Affine(-1 if lr else 1, 0, width if lr else 0, 0, -1 if ud else 1, height if ud else 0)


def _rot90_map(height: int, width: int, k: int) -> Affine:
    """Output corner ``(col, row)`` -> input corner after ``np.rot90(v, k)`` of an (H, W) grid.

    k=1: ``(col', row') = (W - row, col)``; k=2: ``(W - col, H - row)``; k=3: ``(row, H - col)``.
    """
    maps = (
        Affine.identity(),
        Affine(0, -1, width, 1, 0, 0),
        Affine(-1, 0, width, 0, -1, height),
        Affine(0, 1, 0, -1, 0, height),
    )
    return maps[k]


def _flip(xp: Any, values: Any, lr: bool, ud: bool) -> Any:
    axes = tuple(a for a, on in ((-2, ud), (-1, lr)) if on)
    return xp.flip(values, axis=axes) if axes else values


def _rot90(xp: Any, values: Any, k: int) -> Any:
    """``np.rot90(values, k, axes=(-2, -1))`` written with array-API ``flip``/``permute_dims``."""
    if k == 0:
        return values
    if k == 2:
        return xp.flip(values, axis=(-2, -1))
    n = values.ndim
    swap = (*range(n - 2), n - 1, n - 2)
    if k == 1:
        return xp.permute_dims(xp.flip(values, axis=-1), swap)
    return xp.flip(xp.permute_dims(values, swap), axis=-1)


def _place(gt: GeoTensor, values: Any, corner_map: Affine) -> GeoTensor:
    """A GeoTensor of ``values`` whose pixel corners land where ``corner_map`` sends them.

    The new transform is ``gt.transform @ corner_map`` (``corner_map`` maps an output pixel
    corner ``(col, row)`` to the input corner it came from), so every output pixel covers the
    ground footprint of its source pixel.

    It is built as a new static lattice plus an integer offset rather than by splitting
    ``gt.transform @ corner_map``: with ``corner_map = translation(m) . P`` (``P`` a signed
    permutation), ``L . translation(t) . corner_map = (L . corner_map) . translation(P^T t)``
    for the lattice ``L`` and offset ``t``. The new lattice is split on the host from the
    lattice's own pixel (0, 0), so it depends only on ``gt.lattice``, H, W and the decision:
    chips of one lattice land on one output lattice (no retrace downstream), and eager,
    stacked, vmapped and jitted GeoTensors give the same lattice and offset bit for bit.
    """
    ref = GeoTensor(np.empty((0, 0)), gt.lattice.transform_at(0, 0) @ corner_map, gt.crs_string)
    r0, c0 = (int(v) for v in np.asarray(ref.offset))
    pa, pb, pd, pe = (int(v) for v in (corner_map.a, corner_map.b, corner_map.d, corner_map.e))
    offset = gt.offset
    if isinstance(offset, np.ndarray):
        offset = offset.astype(np.int64)  # from_lattice checks the int32 range on the host
    xp = namespace(offset)
    row, col = offset[..., 0], offset[..., 1]
    new_row = r0 + pb * col + pe * row
    new_col = c0 + pa * col + pd * row
    return GeoTensor.from_lattice(
        values,
        xp.stack([new_row, new_col], axis=-1),
        ref.lattice,
        gt.fill_value,
        band_names=gt.band_names,
    )


# ---------------------------------------------------------------------------- operators


def _prepare(op: str, x: Any, key: Any) -> tuple[bool, Any]:
    """Check the key and the values; whether the key is traced, and the values.

    A GeoTensor with a traced key is refused here: its static lattice would have to depend
    on the traced decision.
    """
    traced = _check_key(op, key)
    values = values_of(x)
    _check_values(op, values)
    if traced and isinstance(x, GeoTensor):
        raise _traced_geotensor_error(op)
    return traced, values


class RandomFlip(pk.Operator):
    """Flip left-right with probability ``p`` and, independently, up-down with probability ``p``.

    The key draws two uniforms, ``u = jax.random.uniform(key, (2,))`` (float32, not split):
    flip left-right (``np.flip(v, -1)``) when ``u[0] < p``, up-down (``np.flip(v, -2)``) when
    ``u[1] < p``. A ``numpy.random.Generator`` draws ``u = rng.random(2)`` instead (float64;
    so its decisions differ from a JAX key's). One decision per call, shared by all leading
    axes; for one decision per sample, ``jax.vmap`` over a batch of keys on bare arrays.

    With a concrete key (a JAX key outside jit, or a Generator) the decision is made on the
    host and the values are flipped in their own namespace (NumPy stays NumPy). With a
    traced key (under jit) the flips are ``jax.lax.cond`` on the traced decision, and the
    same JAX key gives the same values on both paths.

    Args:
        p: probability of each flip, in [0, 1].

    Example:
        >>> import jax, numpy as np
        >>> import geotoolz as gz
        >>> from affine import Affine
        >>> x = np.arange(6).reshape(2, 3)
        >>> gz.augment.RandomFlip(p=1.0)(x, key=jax.random.key(0))
        array([[5, 4, 3],
               [2, 1, 0]])
        >>> gt = gz.GeoTensor(x, Affine(10, 0, 399960, 0, -10, 4500000), "EPSG:32630")
        >>> out = gz.augment.RandomFlip(p=1.0)(gt, key=np.random.default_rng(0))
        >>> out.transform == Affine(-10, 0, 399990, 0, 10, 4499980), out.bounds == gt.bounds
        (True, True)

    Note:
        GeoTensor results are corner-exact: each output pixel covers the ground footprint of
        the input pixel it came from. For an ``(H, W)`` grid with transform
        ``(a, b, c, d, e, f)``, a left-right flip gives ``(-a, b, c + W a, -d, e, f + W d)``
        and an up-down flip ``(a, -b, c + H b, d, -e, f + H e)`` (``W``, not ``W - 1``: the
        transform is anchored at pixel corners). The grid changes, so the result has a new
        lattice. Under jit with a traced key a GeoTensor is refused
        (:class:`geocatalog.TracedGeoreferenceError`): its static lattice would depend on
        the traced decision; apply the op to ``gt.values`` there. A concrete key used inside
        jit is drawn once, when the function is traced.
    """

    p: float = eqx.field(static=True)

    def __init__(self, p: float = 0.5) -> None:
        self.p = _probability("RandomFlip", p)

    def _apply(
        self,
        x: GeoTensor | Shaped[ArrayLike, "*batch y x"],
        *,
        key: Key | None = None,
    ) -> GeoTensor | Shaped[Array, "*batch y x"]:
        traced, values = _prepare("RandomFlip", x, key)
        if traced:
            u = jax.random.uniform(key, (2,))
            out = jnp.asarray(values)
            out = jax.lax.cond(u[0] < self.p, _flip_lr, _identity, out)
            return jax.lax.cond(u[1] < self.p, _flip_ud, _identity, out)
        if isinstance(key, np.random.Generator):
            draws = key.random(2) < self.p
        else:
            with jax.ensure_compile_time_eval():  # a concrete key stays concrete inside jit
                draws = np.asarray(jax.random.uniform(key, (2,)) < self.p)
        lr, ud = bool(draws[0]), bool(draws[1])
        out = _flip(namespace(values), values, lr, ud)
        if not isinstance(x, GeoTensor):
            return out
        return _place(x, out, _flip_map(x.height, x.width, lr, ud))


class RandomRotate90(pk.Operator):
    """Rotate by ``k`` quarter turns counter-clockwise, ``k`` uniform in {0, 1, 2, 3}.

    ``k = jax.random.randint(key, (), 0, 4)`` (a ``numpy.random.Generator`` draws
    ``rng.integers(4)``), and the values become ``np.rot90(v, k, axes=(-2, -1))``: odd ``k``
    turns an ``(..., H, W)`` array into ``(..., W, H)``. One decision per call, shared by all
    leading axes.

    With a concrete key the rotation is chosen on the host and applied in the values' own
    namespace. With a traced key (under jit) it is ``jax.lax.switch`` over the four
    rotations, which must all have one shape, so the input must be square (``H == W``);
    the same JAX key gives the same values on both paths.

    Example:
        >>> import jax, numpy as np
        >>> import geotoolz as gz
        >>> from affine import Affine
        >>> x = np.arange(6).reshape(2, 3)
        >>> key = jax.random.key(0)
        >>> int(jax.random.randint(key, (), 0, 4))
        1
        >>> gz.augment.RandomRotate90()(x, key=key)
        array([[2, 5],
               [1, 4],
               [0, 3]])
        >>> gt = gz.GeoTensor(x, Affine(10, 0, 399960, 0, -10, 4500000), "EPSG:32630")
        >>> out = gz.augment.RandomRotate90()(gt, key=key)
        >>> out.transform == Affine(0, -10, 399990, -10, 0, 4500000), out.bounds == gt.bounds
        (True, True)

    Note:
        GeoTensor results are corner-exact: ``new = old @ M_k``, where ``M_k`` maps an
        output pixel corner ``(col, row)`` to the input corner it came from: ``M_1 = (col'
        = W - row, row' = col)``, ``M_2 = (W - col, H - row)``, ``M_3 = (row, H - col)``.
        For ``(a, b, c, d, e, f)`` that is ``k=1: (b, -a, c + W a, e, -d, f + W d)``,
        ``k=2: (-a, -b, c + W a + H b, -d, -e, f + W d + H e)``, ``k=3: (-b, a, c + H b, -e,
        d, f + H e)``. The grid changes, so the result has a new lattice. Under jit with a
        traced key a GeoTensor is refused (:class:`geocatalog.TracedGeoreferenceError`): its
        static lattice and shape would depend on the traced ``k``; apply the op to
        ``gt.values`` there.
    """

    def _apply(
        self,
        x: GeoTensor | Shaped[ArrayLike, "*batch y x"],
        *,
        key: Key | None = None,
    ) -> GeoTensor | Shaped[Array, "*batch x y"]:
        traced, values = _prepare("RandomRotate90", x, key)
        if traced:
            height, width = values.shape[-2:]
            if height != width:
                raise GeotoolzValueError(
                    f"RandomRotate90 under jit (traced key) picks one of four rotations at run "
                    f"time, and a quarter turn of an (H, W) = ({height}, {width}) array has shape "
                    f"({width}, {height}), so all four only share one shape when H == W. Crop to a "
                    "square chip first, or draw with a concrete key outside jit."
                )
            k = jax.random.randint(key, (), 0, 4)
            branches = [functools.partial(_rot90, jnp, k=i) for i in range(4)]
            return jax.lax.switch(k, branches, jnp.asarray(values))
        if isinstance(key, np.random.Generator):
            k = int(key.integers(4))
        else:
            with jax.ensure_compile_time_eval():
                k = int(jax.random.randint(key, (), 0, 4))
        out = _rot90(namespace(values), values, k)
        if not isinstance(x, GeoTensor):
            return out
        return _place(x, out, _rot90_map(x.height, x.width, k))


def _flip_lr(v: Array) -> Array:
    return jnp.flip(v, axis=-1)


def _flip_ud(v: Array) -> Array:
    return jnp.flip(v, axis=-2)


def _identity(v: Array) -> Array:
    return v


def _probability(op: str, p: Any) -> float:
    if isinstance(p, bool | np.bool_) or not isinstance(p, numbers.Real):
        raise pk.ConfigError(
            f"{op}: p is a probability, a number in [0, 1]; received "
            f"{p!r} of type {type(p).__name__}. Pass e.g. p=0.5."
        )
    value = float(p)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise pk.ConfigError(
            f"{op}: p is a probability and must lie in [0, 1]; received p={value!r}. Use "
            "p=0 for never, p=1 for always."
        )
    return value
