"""Turning operators into plain config (``state``) and back, and the canonical form behind hashes.

``state`` is a tree of dicts, lists, strings, numbers, booleans and ``None``: a dict with a
``_target_`` key is an operator, its other keys are the constructor arguments.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from ._errors import ConfigError, UntrustedTargetError, YAMLLimitError
from ._validate import RENAMED_ARGUMENTS

if TYPE_CHECKING:
    from ._operator import Operator

__all__ = [
    "ConfigTypeError",
    "build",
    "canonical_json",
    "encode",
    "format_path",
    "init_params",
    "iter_operators",
    "iter_targets",
]

TARGET = "_target_"


@cache
def init_params(cls: type) -> tuple[str, ...]:
    """Names of ``cls.__init__``'s arguments: the operator's config."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    bad = [p.name for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if bad:
        raise ConfigError(
            f"{cls.__name__}.__init__ takes *{bad[0]}; an Operator's config must be named "
            "constructor arguments so that it can be written to YAML and rebuilt"
        )
    return tuple(p.name for p in params)


def encode(value: Any, where: str, *, allow_objects: bool = False) -> Any:
    """Encode one config value as plain data; ``where`` names it in errors."""
    from ._operator import Operator

    if isinstance(value, Operator):
        return value.state
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic) and value.ndim == 0 and not isinstance(value, np.void):
        return value.item()
    if isinstance(value, tuple | list):
        return [
            encode(v, f"{where}[{i}]", allow_objects=allow_objects) for i, v in enumerate(value)
        ]
    if isinstance(value, Mapping):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ConfigError(f"{where}: config mappings need string keys, got {bad[0]!r}")
        return {k: encode(v, f"{where}.{k}", allow_objects=allow_objects) for k, v in value.items()}
    to_config = getattr(value, "to_config", None)
    if callable(to_config) and not isinstance(value, type):
        # Framework-free config objects (geopatcher's patcher pieces) describe themselves as
        # plain data; the operator that holds one rebuilds it from that data on load.
        return encode(to_config(), where, allow_objects=allow_objects)
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        raise ConfigError(
            f"{where} is an array of shape {tuple(value.shape)}: arrays are parameters, not "
            "config. Take the config that builds it (a size, a seed, an initial value) as the "
            "constructor argument and keep the array as a separate field; pipekit_jax saves "
            "array leaves beside the YAML."
        )
    if allow_objects:
        return value
    raise ConfigError(
        f"{where} = {value!r} (type {type(value).__name__}) is not plain config; use "
        "numbers, strings, booleans, None, lists, string-keyed dicts or Operators"
    )


def format_path(path: tuple[str | int, ...]) -> str:
    """Write a document path for messages: ``nodes['a.op'].op``, ``ops[2].red_idx``.

    A key that could be misread (a dot, a bracket, a space, not a string) is written in
    brackets, so two different places never print the same.
    """
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and part and not any(c in part for c in ".[]'\" \t\n"):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def _walk_targets(obj: Any, path: tuple[str | int, ...] = ()):
    """Yield ``(target, tuple path)`` for every ``_target_``, depth first."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(obj, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, Mapping):
            if TARGET in node:
                yield node[TARGET], where
            items = [(k, v) for k, v in node.items() if k != TARGET]
            for k, v in reversed(items):
                stack.append((v, (*where, k)))
        elif isinstance(node, list | tuple):
            for i in reversed(range(len(node))):
                stack.append((node[i], (*where, i)))


def iter_targets(obj: Any, path: str = ""):
    """Yield ``(target, path)`` for every ``_target_`` in a plain-data tree, depth first.

    ``path`` is written by :func:`format_path` (``ops[1]``, ``nodes['a.op'].op``).
    """
    prefix = path
    for target, where in _walk_targets(obj):
        text = format_path(where)
        if prefix:
            text = f"{prefix}.{text}" if text and not text.startswith("[") else prefix + text
        yield target, text


def iter_operators(op: Operator):
    """Yield ``(operator, path)`` for ``op`` and every Operator among its pytree children.

    Depth first, in pytree order; ``path`` is the attribute path from ``op``
    (``"ops[1].model"``), ``""`` for ``op`` itself.
    """
    from ._operator import Operator

    stack: list[tuple[Operator, str]] = [(op, "")]
    while stack:
        node, where = stack.pop()
        yield node, where.lstrip(".")
        children = jax.tree_util.tree_flatten_with_path(
            node, is_leaf=lambda x, node=node: x is not node and isinstance(x, Operator)
        )[0]
        found = [
            (child, where + jax.tree_util.keystr(key))
            for key, child in children
            if isinstance(child, Operator)
        ]
        stack.extend(reversed(found))


#: Called with every operator built and its document path (see :func:`build`).
OnBuilt = Callable[["Operator", tuple[str | int, ...]], None]


def build(
    obj: Any,
    resolve: Callable[[object, str], type[Operator]],
    path: str = "",
    *,
    on_built: OnBuilt | None = None,
) -> Any:
    """Build operators out of plain data, resolving every ``_target_`` with ``resolve``.

    Every target is resolved before any constructor runs, so a refused target anywhere in
    the tree means nothing was built. Targets are keyed by their *tuple* path
    (``("nodes", "a.op", "op")``), never by a dotted string: a Graph node named ``a.op``
    and the ``op`` argument of node ``a`` are different places (issue 13, item 4).

    A constructor's ``TypeError`` / ``ValueError`` is raised again with the document path
    in front (``NDVI at ops[2].red_idx: ...``), as an error that is still an instance of
    the original class and a :class:`pipekit.ConfigError`, chained ``from`` the original.
    ``on_built(op, path)`` runs after each operator is built (the sandbox counts
    parameters with it).
    """
    base: tuple[str | int, ...] = (path,) if path else ()
    resolved = {
        where: resolve(target, format_path(where)) for target, where in _walk_targets(obj, base)
    }
    return _build(obj, resolved, base, on_built)


class ConfigTypeError(ConfigError, TypeError):
    """A constructor's ``TypeError`` with the document path in front (a ConfigError too)."""


_WRAPPED: dict[type[BaseException], type[BaseException]] = {
    ValueError: ConfigError,
    TypeError: ConfigTypeError,
}


def _wrapped_error(err: BaseException, message: str) -> BaseException:
    """An error that is an instance of ``type(err)`` and of ConfigError, saying ``message``."""
    kind = type(err)
    cls = _WRAPPED.get(kind)
    if cls is None:
        try:
            cls = (
                kind
                if issubclass(kind, ConfigError)
                else type(kind.__name__, (kind, ConfigError), {"__module__": kind.__module__})
            )
        except TypeError:  # an incompatible layout: keep the builtin it derives from
            cls = ConfigTypeError if issubclass(kind, TypeError) else ConfigError
        _WRAPPED[kind] = cls
    try:
        return cls(message)
    except Exception:  # an __init__ that wants other arguments
        return (ConfigTypeError if isinstance(err, TypeError) else ConfigError)(message)


def _argument_of(message: str, names: tuple[str, ...], given: Mapping[str, Any]) -> str | None:
    """The one constructor argument an error message names, if exactly one given one is."""
    hits = [n for n in names if n in given and re.search(rf"\b{re.escape(n)}\b", message)]
    return hits[0] if len(hits) == 1 else None


def _build(
    obj: Any,
    resolved: dict[tuple[str | int, ...], type[Operator]],
    path: tuple[str | int, ...],
    on_built: OnBuilt | None,
) -> Any:
    if isinstance(obj, Mapping):
        sub = {k: _build(v, resolved, (*path, k), on_built) for k, v in obj.items() if k != TARGET}
        if TARGET not in obj:
            return sub
        cls = resolved[path]
        names = init_params(cls)
        where = format_path(path) or "<root>"
        unknown = sorted(set(sub) - set(names), key=str)
        if unknown:
            renamed = "".join(
                f"; {old!r} was renamed {new!r}"
                for old in unknown
                if (new := RENAMED_ARGUMENTS.get(old)) in names
            )
            raise ConfigError(
                f"{cls.__name__} at {where} got unknown argument(s) {unknown}; "
                f"it takes {list(names)}{renamed}"
            )
        try:
            op = cls(**sub)
        except (UntrustedTargetError, YAMLLimitError):
            raise
        except (TypeError, ValueError) as err:
            if getattr(err, "document_path", None) is not None:
                raise  # already placed by a build inside this constructor (a from_state)
            text = " ".join(str(err).split()).removeprefix(f"{cls.__name__}: ")
            arg = _argument_of(text, names, sub)
            place = format_path((*path, arg)) if arg else where
            wrapped = _wrapped_error(err, f"{cls.__name__} at {place}: {text}")
            wrapped.document_path = place  # type: ignore[attr-defined]
            raise wrapped from err
        if type(op)._forbidden_in_yaml(op):  # looked up on the class: see Operator.__call__
            # The class may be YAML-able while this config is not (a ModelOp whose model is
            # plain data, not an Operator): refused like a forbid_in_yaml class.
            raise UntrustedTargetError(
                obj[TARGET],
                where,
                f"this {cls.__name__} holds a Python object, not config (forbid_in_yaml)",
            )
        if on_built is not None:
            on_built(op, path)
        return op
    if isinstance(obj, list | tuple):
        return [_build(v, resolved, (*path, i), on_built) for i, v in enumerate(obj)]
    return obj


def canonical_json(obj: Any) -> str:
    """Canonical text of a plain-data tree: sorted keys, tuples as lists, floats by ``repr``.

    ``json`` writes floats with ``float.__repr__`` (shortest round-tripping form, the same
    on every platform since Python 3.1), keeps ``2`` and ``2.0`` apart and writes NaN and
    infinities as ``NaN`` / ``Infinity``; the text is identical across processes, machines
    and Python versions.
    """
    _check_plain(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _check_plain(obj: Any) -> None:
    stack = [obj]
    while stack:
        node = stack.pop()
        if node is None or isinstance(node, bool | int | float | str):
            continue
        if isinstance(node, Mapping):
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
        else:
            raise ConfigError(f"cannot hash config value {node!r} of type {type(node).__name__}")
