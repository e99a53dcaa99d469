"""Carrier-agnostic QC checks: shape, attribute, callable attribute, dtype."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._errors import ConfigError
from .._types import OnError
from .._validate import renamed_arguments
from ._policy import AbstractAssertion, check_qc_on_error

__all__ = ["DTYPE_KINDS", "AssertCallable", "AssertDType", "AssertHasAttribute", "AssertShape"]

#: Dtype kinds accepted by :class:`AssertDType`, with the NumPy abstract type each means.
DTYPE_KINDS: dict[str, type] = {
    "bool": np.bool_,
    "integer": np.integer,
    "signed integer": np.signedinteger,
    "unsigned integer": np.unsignedinteger,
    "floating": np.floating,
    "complex floating": np.complexfloating,
    "numeric": np.number,
}


_MISSING = object()


def _lookup(x: Any, name: str) -> Any:
    """``getattr(x, name)`` or ``_MISSING``, without running properties needlessly.

    Found statically (fields, methods) the attribute is not evaluated, so a property that
    refuses to run on tracers (``GeoTensor.transform`` under jit) still counts as present;
    dynamic attributes (``__getattr__``, e.g. xarray variables) fall back to ``getattr``.
    """
    static = inspect.getattr_static(x, name, _MISSING)
    if static is not _MISSING:
        return static  # may be a property: present; AssertCallable evaluates it
    try:
        return getattr(x, name)
    except AttributeError:
        return _MISSING


def _check_name(owner: str, arg: str, name: object) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(
            f"{owner}: {arg} must be an attribute name (a Python identifier string), got {name!r}"
        )
    return name


class AssertShape(AbstractAssertion):
    """Check ``x.shape`` against a pattern; ``-1`` matches any size of that axis.

    Works on anything with a ``.shape`` (NumPy and JAX arrays, GeoTensors, xarray). The
    check is static: under ``jax.jit`` it runs once at trace time on the tracer's shape
    (and ``on_error="raise"`` raises at trace time). Under ``vmap`` the shape seen lacks
    the mapped axis.

    Arguments:
        shape: the expected shape, e.g. ``(-1, -1, -1)`` for "any 3-D input".
        on_error: ``"raise"`` (QCError), ``"warn"`` (QCWarning) or ``"log_and_continue"``.

    Example:
        >>> import numpy as np
        >>> from pipekit.qc import AssertShape
        >>> x = np.zeros((3, 4, 5))
        >>> AssertShape((-1, 4, 5))(x) is x
        True
        >>> AssertShape((-1, -1))(x)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        pipekit.qc.QCError: AssertShape(shape=(-1, -1), on_error='raise') failed: ...
    """

    shape: tuple[int, ...] = eqx.field(static=True)
    on_error: OnError = eqx.field(static=True)

    @renamed_arguments
    def __init__(self, shape: Sequence[int], on_error: OnError = "raise") -> None:
        if isinstance(shape, str) or not isinstance(shape, Sequence):
            raise ConfigError(
                f"AssertShape: shape must be a tuple of ints (-1 for any size), got {shape!r}"
            )
        for size in shape:
            if isinstance(size, bool) or not isinstance(size, int) or size < -1:
                raise ConfigError(
                    f"AssertShape: each size must be an int >= 0, or -1 for any size; got "
                    f"{size!r} in {tuple(shape)!r}"
                )
        self.shape = tuple(shape)
        self.on_error = check_qc_on_error("AssertShape", on_error)

    def _check(self, x: Any) -> tuple[str, str, Any] | None:
        want = "shape " + str(self.shape).replace("-1", "*")
        if not hasattr(x, "shape"):
            return "shape", f"an input with a .shape ({want})", type(x).__name__
        seen = tuple(int(s) for s in x.shape)
        ok = len(seen) == len(self.shape) and all(
            w in (-1, s) for w, s in zip(self.shape, seen, strict=True)
        )
        return None if ok else ("shape", want, seen)


class AssertHasAttribute(AbstractAssertion):
    """Check that the input has an attribute, e.g. ``"crs"`` on a georeferenced carrier.

    Arguments:
        name: the attribute name.
        on_error: ``"raise"`` (QCError), ``"warn"`` (QCWarning) or ``"log_and_continue"``.

    Example:
        >>> import numpy as np
        >>> from pipekit.qc import AssertHasAttribute
        >>> AssertHasAttribute("dtype")(np.zeros(2))
        array([0., 0.])
    """

    name: str = eqx.field(static=True)
    on_error: OnError = eqx.field(static=True)

    @renamed_arguments
    def __init__(self, name: str, on_error: OnError = "raise") -> None:
        self.name = _check_name("AssertHasAttribute", "name", name)
        self.on_error = check_qc_on_error("AssertHasAttribute", on_error)

    def _check(self, x: Any) -> tuple[str, str, Any] | None:
        if _lookup(x, self.name) is not _MISSING:
            return None
        return "attribute", f"an input with attribute {self.name!r}", type(x).__name__


class AssertCallable(AbstractAssertion):
    """Check that the input's attribute ``attribute`` exists and is callable.

    Arguments:
        attribute: the attribute name, e.g. ``"replace"``.
        on_error: ``"raise"`` (QCError), ``"warn"`` (QCWarning) or ``"log_and_continue"``.

    Example:
        >>> import numpy as np
        >>> from pipekit.qc import AssertCallable
        >>> AssertCallable("astype")(np.ones(1))
        array([1.])
    """

    attribute: str = eqx.field(static=True)
    on_error: OnError = eqx.field(static=True)

    @renamed_arguments
    def __init__(self, attribute: str, on_error: OnError = "raise") -> None:
        self.attribute = _check_name("AssertCallable", "attribute", attribute)
        self.on_error = check_qc_on_error("AssertCallable", on_error)

    def _check(self, x: Any) -> tuple[str, str, Any] | None:
        want = f"a callable attribute {self.attribute!r}"
        value = _lookup(x, self.attribute)
        if value is _MISSING:
            return "callable", want, f"{type(x).__name__} without {self.attribute!r}"
        if isinstance(value, property):
            value = getattr(x, self.attribute)
        if callable(value):
            return None
        return "callable", want, f"{self.attribute} of type {type(value).__name__}"


class AssertDType(AbstractAssertion):
    """Check the input's dtype: an exact dtype name (``"float32"``) or a kind (``"floating"``).

    Kinds are the keys of :data:`DTYPE_KINDS`: ``"bool"``, ``"integer"``,
    ``"signed integer"``, ``"unsigned integer"``, ``"floating"``, ``"complex floating"``,
    ``"numeric"``. A dtype object (``np.float32``) is accepted and stored by its name, so
    the config stays plain YAML data. Static under ``jax.jit``, like :class:`AssertShape`.

    Arguments:
        dtype: a dtype name or a kind.
        on_error: ``"raise"`` (QCError), ``"warn"`` (QCWarning) or ``"log_and_continue"``.

    Example:
        >>> import numpy as np
        >>> from pipekit.qc import AssertDType
        >>> AssertDType("floating")(np.zeros(1, np.float32))
        array([0.], dtype=float32)
        >>> AssertDType(np.uint16).dtype
        'uint16'
    """

    dtype: str = eqx.field(static=True)
    on_error: OnError = eqx.field(static=True)

    @renamed_arguments
    def __init__(self, dtype: str | type | np.dtype, on_error: OnError = "raise") -> None:
        if not (isinstance(dtype, str) and dtype in DTYPE_KINDS):
            try:
                dtype = jnp.dtype(dtype).name
            except TypeError:
                raise ConfigError(
                    f"AssertDType: dtype must be a dtype name such as 'float32' or 'uint16', "
                    f"or one of the kinds {list(DTYPE_KINDS)}; got {dtype!r}"
                ) from None
        self.dtype = dtype
        self.on_error = check_qc_on_error("AssertDType", on_error)

    def _check(self, x: Any) -> tuple[str, str, Any] | None:
        if not hasattr(x, "dtype"):
            return "dtype", f"an input with a .dtype ({self.dtype})", type(x).__name__
        seen = jnp.dtype(x.dtype)
        kind = DTYPE_KINDS.get(self.dtype)
        if kind is None:
            ok = seen == jnp.dtype(self.dtype)
            want = f"dtype {self.dtype}"
        else:
            ok = np.issubdtype(seen, kind)
            want = f"a dtype of kind {self.dtype!r}"
        return None if ok else ("dtype", want, seen.name)
