"""``check_pickleable``: find the field that stops an operator from reaching a worker."""

from __future__ import annotations

import dataclasses
import functools
import pickle
from collections.abc import Callable, Iterator
from typing import Any

from ._errors import PickleError

__all__ = ["check_pickleable"]


def _children(obj: Any) -> Iterator[tuple[str, Any]]:
    """``(path suffix, value)`` for the parts of ``obj`` that pickle would recurse into."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # equinox Modules are dataclasses, so this walks operator fields too.
        for field in dataclasses.fields(obj):
            if hasattr(obj, field.name):
                yield f".{field.name}", getattr(obj, field.name)
    elif isinstance(obj, functools.partial):
        yield ".func", obj.func
        for i, arg in enumerate(obj.args):
            yield f".args[{i}]", arg
        for key, value in obj.keywords.items():
            yield f".keywords[{key!r}]", value
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            yield f"[{i}]", value
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield f"[{key!r}]", value
    elif hasattr(obj, "__self__") and hasattr(obj, "__func__"):  # bound method
        yield ".__self__", obj.__self__
    elif hasattr(obj, "__dict__") and not callable(obj):
        for key, value in vars(obj).items():
            yield f".{key}", value


def _describe(obj: Any) -> str:
    name = getattr(obj, "__qualname__", None)
    return name if isinstance(name, str) else f"<{type(obj).__name__} object>"


def _fails(obj: Any, dumps: Callable[[Any], bytes]) -> Exception | None:
    try:
        dumps(obj)
    except Exception as exc:  # pickle raises PicklingError, TypeError, AttributeError...
        return exc
    return None


def check_pickleable(obj: Any, *, dumps: Callable[[Any], bytes] = pickle.dumps) -> None:
    """Raise :class:`PickleError` naming the path of the part of ``obj`` that does not pickle.

    :class:`ProcessMap` (with :func:`pickle.dumps`) and :class:`DaskMap` (with
    ``cloudpickle.dumps``, which also handles lambdas) call it on ``fn`` before starting, so
    a bad field fails in the parent with its path instead of as an opaque error in a pool.

    Args:
        obj: the object to check, typically a pipeline operator.
        dumps: the serialiser the workers will use.

    Raises:
        PickleError: with ``path`` like ``"Sequential.ops[1].fn"``.

    Example:
        >>> import pipekit as pk
        >>> from pipekit.parallel import check_pickleable
        >>> check_pickleable(pk.Sequential([pk.Identity()]))  # fine: returns None
        >>> check_pickleable(pk.Sequential([pk.Identity(), pk.Lambda(lambda x: x)]))
        Traceback (most recent call last):
        ...
        pipekit.parallel.PickleError: Sequential.ops[1].fn: <lambda> is not pickleable ...

    Note:
        The walk follows dataclass (and so equinox Module) fields, lists, tuples, dicts,
        ``functools.partial`` and plain objects' ``__dict__``; it descends into the first
        child that fails to pickle on its own, and reports the deepest such value.
    """
    error = _fails(obj, dumps)
    if error is None:
        return
    path = type(obj).__name__
    while True:
        for suffix, child in _children(obj):
            child_error = _fails(child, dumps)
            if child_error is not None:
                obj, error, path = child, child_error, path + suffix
                break
        else:
            break
    raise PickleError(
        f"{path}: {_describe(obj)} is not pickleable ({type(error).__name__}: {error}). "
        "Worker processes receive fn by pickling: use a module-level function or an "
        "Operator class instead of a lambda, closure or open handle.",
        path,
    )
