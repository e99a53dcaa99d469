"""Turning operators into plain config (``state``) and back, and the canonical form behind hashes.

``state`` is a tree of dicts, lists, strings, numbers, booleans and ``None``: a dict with a
``_target_`` key is an operator, its other keys are the constructor arguments.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from ._errors import ConfigError, PipekitError, UntrustedTargetError
from ._validate import RENAMED_ARGUMENTS

if TYPE_CHECKING:
    from ._operator import Operator

__all__ = ["build", "canonical_json", "encode", "init_params", "iter_operators", "iter_targets"]

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


def iter_targets(obj: Any, path: str = ""):
    """Yield ``(target, path)`` for every ``_target_`` in a plain-data tree, depth first."""
    stack: list[tuple[Any, str]] = [(obj, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, Mapping):
            if TARGET in node:
                yield node[TARGET], where
            items = [(k, v) for k, v in node.items() if k != TARGET]
            for k, v in reversed(items):
                stack.append((v, f"{where}.{k}" if where else str(k)))
        elif isinstance(node, list | tuple):
            for i in reversed(range(len(node))):
                stack.append((node[i], f"{where}[{i}]"))


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


def build(obj: Any, resolve: Callable[[object, str], type[Operator]], path: str = "") -> Any:
    """Build operators out of plain data, resolving every ``_target_`` with ``resolve``.

    Every target is resolved before any constructor runs, so a refused target anywhere in
    the tree means nothing was built.
    """
    resolved = {where: resolve(target, where) for target, where in iter_targets(obj, path)}
    return _build(obj, resolved, path)


def _build(obj: Any, resolved: dict[str, type[Operator]], path: str) -> Any:
    if isinstance(obj, Mapping):
        sub = {
            k: _build(v, resolved, f"{path}.{k}" if path else str(k))
            for k, v in obj.items()
            if k != TARGET
        }
        if TARGET not in obj:
            return sub
        cls = resolved[path]
        names = init_params(cls)
        unknown = sorted(set(sub) - set(names))
        if unknown:
            renamed = "".join(
                f"; {old!r} was renamed {new!r}"
                for old in unknown
                if (new := RENAMED_ARGUMENTS.get(old)) in names
            )
            raise ConfigError(
                f"{cls.__name__} at {path or '<root>'} got unknown argument(s) {unknown}; "
                f"it takes {list(names)}{renamed}"
            )
        try:
            op = cls(**sub)
        except (PipekitError, UntrustedTargetError):
            raise
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{cls.__name__} at {path or '<root>'}: {err}") from err
        if type(op)._forbidden_in_yaml(op):  # looked up on the class: see Operator.__call__
            # The class may be YAML-able while this config is not (a ModelOp whose model is
            # plain data, not an Operator): refused like a forbid_in_yaml class.
            raise UntrustedTargetError(
                obj[TARGET],
                path,
                f"this {cls.__name__} holds a Python object, not config (forbid_in_yaml)",
            )
        return op
    if isinstance(obj, list | tuple):
        return [_build(v, resolved, f"{path}[{i}]") for i, v in enumerate(obj)]
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
