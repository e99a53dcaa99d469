"""YAML for operators: dump, load (trusted), load a name->operator mapping, load sandboxed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from . import _registry
from ._budget import DEFAULT_MAX_PARAMETERS, build_within_budget
from ._errors import ConfigError
from ._fastload import GiveUp, load_events
from ._operator import Operator
from ._sandbox import Limits, SafeLoader, scan
from ._state import TARGET, build, iter_operators, iter_targets

__all__ = ["dumps_yaml", "loads_yaml", "loads_yaml_dict", "loads_yaml_sandboxed"]

_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# Trusted documents are not size-limited, but Python recursion still bounds nesting.
_TRUSTED = Limits(max_bytes=None, max_depth=200, max_nodes=None, allow_aliases=True)


def check_yaml_able(obj: Operator | Mapping[str, Any]) -> Mapping[str, Any]:
    """Return the state of ``obj`` (an operator tree, or a state) if nothing in it is forbidden.

    An operator tree is asked operator by operator (:meth:`Operator._forbidden_in_yaml`,
    instance-level); its state, like a bare state, is then checked by class flag. Raises
    :class:`pipekit.ConfigError` naming the first ``forbid_in_yaml`` operator and its path.
    """
    if isinstance(obj, Operator):
        for op, path in iter_operators(obj):
            if type(op)._forbidden_in_yaml(op):
                held = "a Python callable" if type(op).forbid_in_yaml else "a Python object"
                raise ConfigError(
                    f"{type(op).__name__} at {path or '<root>'} holds {held}, not config, and "
                    "cannot be written to YAML (forbid_in_yaml); replace it with a registered "
                    "Operator or drop it before dumping"
                )
        obj = obj.state
    for target, path in iter_targets(obj):
        cls = _registry.lookup(target) if isinstance(target, str) else None
        if cls is not None and cls.forbid_in_yaml:
            raise ConfigError(
                f"{cls.__name__} at {path or '<root>'} holds a Python callable and cannot be "
                "written to YAML (forbid_in_yaml); replace it with a registered Operator "
                "or drop it before dumping"
            )
    return obj


def dumps_yaml(op: Operator) -> str:
    """Write an operator's config as YAML (``_target_`` first, then its arguments).

    Raises :class:`pipekit.ConfigError` for ``forbid_in_yaml`` operators (Lambda, Tap, Sink).

    Example:
        >>> import pipekit as pk
        >>> print(pk.dumps_yaml(pk.Sequential([pk.Identity()])), end="")
        _target_: pipekit.Sequential
        ops:
        - _target_: pipekit.Identity
    """
    if not isinstance(op, Operator):
        raise TypeError(f"dumps_yaml expects an Operator, got {type(op).__name__}")
    state = check_yaml_able(op)
    return yaml.dump(state, Dumper=_SafeDumper, sort_keys=False, default_flow_style=False)


def _parse(text: str, limits: Limits) -> Any:
    if not isinstance(text, str):
        raise TypeError(f"expected YAML text (str), got {type(text).__name__}; read the file first")
    try:
        try:
            return load_events(text, limits)
        except GiveUp:  # unusual or over a limit: the reference path raises or builds it
            scan(text, limits)
            return yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as err:
        raise ConfigError(f"invalid YAML: {' '.join(str(err).split())}") from err


def _root_operator(data: Any, what: str) -> None:
    if not isinstance(data, dict) or TARGET not in data:
        raise ConfigError(
            f"{what} expects a YAML mapping with a '_target_' key at the top, got "
            f"{type(data).__name__}"
        )


def loads_yaml(text: str) -> Operator:
    """Build an operator from YAML text written by :func:`dumps_yaml` (or by hand).

    Parsing is ``yaml.safe_load`` semantics (libyaml when available) with core-schema tags
    only; every ``_target_`` must resolve to a registered Operator subclass under exactly
    that name. Modules are imported only from operator packages (ours, those that define a
    registered operator, or :func:`pipekit.registry.allow_package`), so a document can never
    reach ``os.system``, ``builtins.eval`` or an alias such as ``logging.os.system``. For
    documents from untrusted users use :func:`loads_yaml_sandboxed`.
    """
    data = _parse(text, _TRUSTED)
    _root_operator(data, "loads_yaml")
    return build(data, _registry.resolve_trusted)


def loads_yaml_dict(text: str) -> dict[str, Operator]:
    """Build a mapping of names to operators from a YAML mapping (e.g. tile-server layers).

    Example:
        >>> import pipekit as pk
        >>> text = "a: {_target_: pipekit.Identity}\\nb: {_target_: pipekit.Identity}"
        >>> layers = pk.loads_yaml_dict(text)
        >>> sorted(layers)
        ['a', 'b']
    """
    data = _parse(text, _TRUSTED)
    if not isinstance(data, dict):
        raise ConfigError(
            f"loads_yaml_dict expects a YAML mapping of name -> operator, got {type(data).__name__}"
        )
    for name, value in data.items():
        if not isinstance(value, dict) or TARGET not in value:
            raise ConfigError(
                f"loads_yaml_dict: entry {name!r} is not an operator mapping with '_target_'"
            )
    return build(data, _registry.resolve_trusted)


def _allowed_names(allowed: Iterable[str | type] | Mapping[str, type]) -> frozenset[str]:
    if isinstance(allowed, str):
        raise TypeError("allowed must be a collection of targets, not a single string")
    return frozenset(a if isinstance(a, str) else _registry.target_name(a) for a in allowed)


def loads_yaml_sandboxed(
    text: str,
    allowed: Iterable[str | type] | Mapping[str, type],
    *,
    max_bytes: int | None = 1_000_000,
    max_depth: int | None = 50,
    max_nodes: int | None = 10_000,
    max_parameters: int | None = DEFAULT_MAX_PARAMETERS,
) -> Operator:
    """Build an operator from *untrusted* YAML, resolving only allow-listed operators.

    Guarantees: nothing is imported; a ``_target_`` resolves only if it is in ``allowed``
    *and* already registered; ``forbid_in_yaml`` classes (Lambda, Tap, Sink, ...) and
    ``side_effects`` classes (writers such as ``geotoolz.io.WriteCOG``) are refused
    even when listed, and so is any operator built whose own config is not YAML-able
    (:meth:`Operator._forbidden_in_yaml`, e.g. a ModelOp whose ``model`` is not an
    Operator); YAML tags outside the core schema, anchors and aliases are refused; the
    document is bounded in bytes, nesting depth and node count *before* any object is
    built; every target is checked before any constructor runs; the operators are first
    built abstractly (``equinox.filter_eval_shape``: JAX arrays as shapes only) and their
    array leaves counted, so a small document cannot make an allow-listed constructor
    allocate terabytes (an MLP of width 10**6); repeated mapping keys are refused.

    Args:
        text: the YAML document.
        allowed: targets (or classes) that may be built, e.g. from
            :func:`pipekit.registry.public_operators`.
        max_bytes, max_depth, max_nodes: resource limits (``None`` disables one); see
            :class:`pipekit.YAMLLimitError`.
        max_parameters: most array elements (weights, buffers) all operators together
            may hold, checked before anything is allocated; default 10**8 (400 MB as
            float32, far above this family's networks). NumPy arrays a constructor makes
            are allocated during the abstract build too: only JAX arrays are shapes there.

    Raises:
        UntrustedTargetError: a refused target or tag; ``.target`` and ``.path`` say which.
        YAMLLimitError: a limit was exceeded (the message names where and by how much).
        ConfigError: invalid YAML or invalid operator arguments.

    Example:
        >>> import pipekit as pk
        >>> text = "_target_: pipekit.Lambda\\nfn: print"
        >>> try:
        ...     pk.loads_yaml_sandboxed(text, allowed=["pipekit.Lambda"])
        ... except pk.UntrustedTargetError as err:
        ...     print(err.target, err.path)
        pipekit.Lambda <root>
    """
    names = _allowed_names(allowed)
    data = _parse(text, Limits(max_bytes, max_depth, max_nodes, allow_aliases=False))
    _root_operator(data, "loads_yaml_sandboxed")

    def resolve(target: object, path: str) -> type[Operator]:
        return _registry.resolve_sandboxed(target, path, names)

    return build_within_budget(data, resolve, max_parameters)
