"""ModelOp: apply a per-sample model (equinox, JAX, NumPy, array API) to a carrier's values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from array_api_compat import array_namespace, is_array_api_obj

import pipekit as pk
from pipekit.validate import check_int

from ._carrier import fill_value_of, fits, is_carrier, nan_of, nodata_mask, rewrap, values_of

__all__ = ["ModelOp", "ModelTracingError"]


class ModelTracingError(pk.PipekitError, TypeError):
    """A model that needs concrete (NumPy) arrays was called on JAX tracers."""


def _is_jax_model(model: Any) -> bool:
    """An equinox Module, or any pytree holding JAX arrays, is run with jax.numpy eagerly."""
    if isinstance(model, eqx.Module):
        return True
    return any(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(model))


def _to_numpy(tree: Any) -> Any:
    """Concrete JAX arrays in ``tree`` become NumPy arrays; tracers stay (e.g. under grad)."""

    def leaf(a: Any) -> Any:
        if isinstance(a, jax.Array) and not isinstance(a, jax.core.Tracer):
            return np.asarray(a)
        return a

    return jax.tree.map(leaf, tree)


def _describe(model: Any) -> str:
    name = getattr(model, "__qualname__", None)
    return f"function {name}" if name else f"a {type(model).__name__}"


def _stack(leaves: tuple[Any, ...]) -> Any:
    if any(isinstance(a, jax.Array) for a in leaves):
        return jnp.stack(leaves)
    if all(isinstance(a, np.ndarray | np.generic) for a in leaves):
        return np.stack(leaves)
    return array_namespace(*leaves).stack(leaves)


class ModelOp(pk.Operator):
    """Apply ``model`` (one sample's values -> output) to a carrier, mapped over a stack.

    The model follows the equinox convention: it maps *one* sample, e.g. an
    ``eqx.nn.Conv2d`` takes ``(C, H, W)``. ``getattr(model, method)`` is what is called,
    so a model with several entry points (``predict_with_uncertainty``) is used as is.

    - A bare array, or a carrier with ``batch_shape == ()``: ``fn(values)``.
    - A stacked carrier (``batch_shape == (n,)``, e.g. ``geocatalog.stack([...])``): the
      model is mapped over the batch axis (axes): on JAX arrays with ``jax.vmap`` (all
      samples at once) or, with ``batch_size=b``, with ``jax.lax.map(..., batch_size=b)``
      (``vmap`` over chunks of ``b`` inside a scan, the remainder in one more ``vmap``,
      no padding), so peak memory is one chunk's; on NumPy arrays per sample in a Python
      loop (already one sample at a time, so ``batch_size`` changes nothing there).
      Both paths give ``np.stack([fn(v) for v in values])``.

    Every output array whose two trailing axes equal the input's spatial ``(H, W)`` is put
    back into the input carrier (batch axes first for a stacked input), so georeferencing
    is kept. Nodata is never data: the model sees the input as it is, and every such
    output pixel where the input is nodata in every band (NaN, or the input's fill value:
    a scene edge, outside a footprint) is nodata: NaN in a floating output (whose fill
    value becomes NaN: the input's DN 0 is a valid model output), the input's fill value
    in an integer output that can hold it (otherwise the output has no fill value). Other
    arrays (a class vector, a scalar) are returned bare, inside the same dict / NamedTuple
    / tuple the model returned. A bare array input gives bare arrays.

    Models: an equinox Module (or any pytree holding JAX arrays) is a field of the op, so
    its array leaves are the op's parameters: ``eqx.filter_grad`` and optax train them. On
    NumPy input it runs eagerly with ``jax.numpy`` and the result comes back as NumPy. A
    plain callable (a NumPy function, an array-API function) is called as is; one that
    needs concrete NumPy arrays cannot be traced and raises :class:`ModelTracingError`
    under jit/vmap (use an equinox model, or wrap it in ``jax.pure_callback``).

    YAML: a ModelOp around a YAML-able :class:`pipekit.Operator` (a network built from
    config with a seed, such as ``pipekit_jax.nn.ConvNet``) is written and loaded like any
    operator (the model's weights are array leaves, saved beside the YAML); around any
    other model (an equinox Module, a function) it is ``forbid_in_yaml``: a model object is
    not config, so dumping, ``config_hash`` and every loader refuse it.

    Args:
        model: maps one sample's values to an array or a dict / NamedTuple / tuple of
            arrays.
        batch_size: ``None`` maps all samples of a stack at once; a positive int bounds
            the number mapped together on the JAX path.
        method: name of the model's method to call (default ``"__call__"``).

    Returns:
        The model output, with spatial arrays rewrapped into the input carrier.

    Example:
        >>> import equinox as eqx, jax, jax.numpy as jnp, numpy as np
        >>> import pipekit_array as pa
        >>> conv = eqx.nn.Conv2d(3, 1, kernel_size=1, use_bias=False, key=jax.random.key(0))
        >>> conv = eqx.tree_at(lambda c: c.weight, conv, jnp.ones((1, 3, 1, 1)))
        >>> pa.ModelOp(conv)(np.ones((3, 2, 2), np.float32))  # (C, H, W) -> (1, H, W)
        array([[[3., 3.],
                [3., 3.]]], dtype=float32)
    """

    model: Any
    batch_size: int | None = eqx.field(static=True)
    method: str = eqx.field(static=True)

    def __init__(
        self,
        model: Callable[..., Any] | Any,
        batch_size: int | None = None,
        method: str = "__call__",
    ) -> None:
        if not isinstance(method, str) or not method:
            raise pk.ConfigError(
                f"ModelOp: method must be the name of the model's method to call (a str, e.g. "
                f"'__call__' or 'predict_with_uncertainty'), got {method!r}"
            )
        fn = getattr(model, method, None)
        if fn is None or not callable(fn):
            what = "is not callable" if fn is not None else "has no such attribute"
            available = sorted(
                n for n in dir(model) if not n.startswith("_") and callable(getattr(model, n))
            )
            raise pk.ConfigError(
                f"ModelOp(model, method={method!r}): the model (type {type(model).__name__}) "
                f"{what}. Pass a callable model (an equinox Module, a function) and the name "
                f"of one of its methods; public callables on it: {available}"
            )
        batch_size = check_int("ModelOp", "batch_size", batch_size, minimum=1, allow_none=True)
        self.model = model
        self.batch_size = batch_size
        self.method = method

    def _forbidden_in_yaml(self) -> bool:
        # Config only when the model is itself config: an Operator (registered at class
        # creation). Whether that Operator is YAML-able it answers itself: dumping and the
        # loaders ask every operator of a tree, so a Lambda model is named as the culprit.
        return not isinstance(self.model, pk.Operator)

    def _fn(self) -> Callable[[Any], Any]:
        return self.model if self.method == "__call__" else getattr(self.model, self.method)

    def _apply(self, x: Any) -> Any:
        carrier = is_carrier(x)
        values = values_of(x)
        if not is_array_api_obj(values):
            got = type(x).__name__
            if carrier:
                got += f" whose .values is a {type(values).__name__}"
            raise TypeError(
                "ModelOp expects a bare array or a carrier (an object with array .values and "
                f".replace(values=...), e.g. a GeoTensor); got {got}"
            )
        batch = tuple(getattr(x, "batch_shape", ())) if carrier else ()
        if 0 in batch:
            raise ValueError(
                f"ModelOp: the stacked input has an empty batch (batch_shape {batch}); "
                "stack at least one sample"
            )
        if isinstance(values, jax.Array):
            out = self._run_jax(values, batch)
        else:
            out = self._run_eager(values, batch)
        return _rewrap(x, out, len(batch)) if carrier else out

    def _run_jax(self, values: jax.Array, batch: tuple[int, ...]) -> Any:
        fn = self._fn()
        try:
            if not batch:
                return fn(values)
            flat = jnp.reshape(values, (-1, *values.shape[len(batch) :]))
            if self.batch_size is None:
                out = jax.vmap(fn)(flat)
            else:
                out = jax.lax.map(fn, flat, batch_size=self.batch_size)
        except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError) as err:
            raise ModelTracingError(
                f"ModelOp: the model ({_describe(self.model)}) could not be traced by JAX "
                f"({type(err).__name__}): it converts its input to a NumPy array or branches "
                "in Python on array values. Under jax.jit / eqx.filter_jit / vmap, and for a "
                "stacked carrier of JAX arrays (mapped with jax.vmap), the model must be "
                "written with jax.numpy: use an equinox Module, wrap the NumPy function in "
                "jax.pure_callback, or call the op eagerly on NumPy input."
            ) from err
        return jax.tree.map(lambda a: jnp.reshape(a, (*batch, *a.shape[1:])), out)

    def _run_eager(self, values: Any, batch: tuple[int, ...]) -> Any:
        fn = self._fn()
        numpy_in = isinstance(values, np.ndarray)
        as_jax = numpy_in and _is_jax_model(self.model)

        def one(v: Any) -> Any:
            out = fn(jnp.asarray(v) if as_jax else v)
            return _to_numpy(out) if numpy_in else out

        if not batch:
            return one(values)
        xp = array_namespace(values)
        flat = xp.reshape(values, (-1, *values.shape[len(batch) :]))
        outs = [one(flat[i, ...]) for i in range(flat.shape[0])]
        out = jax.tree.map(lambda *leaves: _stack(leaves), *outs)
        return jax.tree.map(lambda a: array_namespace(a).reshape(a, (*batch, *a.shape[1:])), out)


def _floating(a: Any) -> bool:
    return np.issubdtype(np.dtype(str(a.dtype)), np.floating)


def _nodata_pixels(x: Any, values: Any, n_batch: int) -> Any:
    """``(*batch, H, W)``: True where every band (axes between batch and space) is nodata.

    Every band, not any: one fill value covers all bands of a carrier, but 0 is "clear"
    in a Sentinel-2 QA60 band beside reflectances whose 0 is nodata. A pixel with no data
    in any band (a scene edge, outside a footprint) is nodata for the model; a partly
    missing pixel reaches the model as NaN or the fill value, for it to handle.
    """
    mask = nodata_mask(x, values)
    axes = tuple(range(n_batch, mask.ndim - 2))
    return array_namespace(mask).all(mask, axis=axes) if axes else mask


def _rewrap(x: Any, out: Any, n_batch: int) -> Any:
    """Put every output array ending in the input's ``(H, W)`` back into the carrier ``x``.

    Input nodata pixels become the output's nodata (NaN, or the kept integer fill); the
    input's band names are not carried over.
    """
    values = values_of(x)
    hw = tuple(values.shape[-2:])
    fill = fill_value_of(x)
    pixels: list[Any] = []  # computed once, on the first spatial output

    def leaf(a: Any) -> Any:
        if not (
            len(hw) == 2
            and is_array_api_obj(a)
            and a.ndim >= n_batch + 2
            and tuple(a.shape[-2:]) == hw
        ):
            return a
        if not pixels:
            pixels.append(_nodata_pixels(x, values, n_batch))
        xp = array_namespace(a)
        lead = tuple(a.shape[:n_batch]) + (1,) * (a.ndim - n_batch - 2)
        mask = xp.reshape(pixels[0], lead + hw)
        # A model's output channels are new quantities (classes, features), not the input's
        # bands, even when their count matches: the input's band names would be stale.
        if _floating(a):
            a = xp.where(mask, nan_of(a.dtype), a)
            return rewrap(x, a, fill_value=float("nan"), band_names=None)
        if fill is not None and fits(xp, a.dtype, fill):
            a = xp.where(mask, xp.asarray(fill, dtype=a.dtype), a)
            return rewrap(x, a, band_names=None)
        return rewrap(x, a, fill_value=None, band_names=None)

    return jax.tree.map(leaf, out)
