"""config_diff: a structured, alignment-aware diff of two pipeline configs."""

from __future__ import annotations

import difflib
import inspect
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .._operator import Operator
from .._registry import lookup
from .._state import TARGET
from ._format import format_value, short_name

__all__ = ["Change", "ConfigDiff", "config_diff"]

ChangeKind = Literal["changed", "added", "removed"]


@dataclass(frozen=True)
class Change:
    """One difference between two configs.

    Attributes:
        kind: ``"changed"`` (a value differs), ``"added"`` or ``"removed"`` (an operator,
            a graph node or a parameter exists on one side only).
        path: where it sits, e.g. ``"ops[2].percentile"`` or ``"nodes.mask.op.bits"``;
            paths index the *new* config, except for removals (the old one).
        operator: class name of the operator concerned (the owner of ``param``, or the
            added/removed operator).
        param: the parameter name inside ``operator`` (``None`` for a whole operator).
        old: the old value (plain config data; ``None`` when added).
        new: the new value (``None`` when removed).
        position: index of an added (in new) or removed (in old) operator or node.
        before: the neighbour following it (class name, or node name in a Graph).
        after: the neighbour preceding it.
    """

    kind: ChangeKind
    path: str
    operator: str
    param: str | None = None
    old: Any = None
    new: Any = None
    position: int | None = None
    before: str | None = None
    after: str | None = None

    def lines(self, label: str | None = None) -> list[str]:
        """The printed lines of this change (``label`` replaces the operator name)."""
        name = label or self.operator
        if self.kind == "changed":
            key = f"{name}.{self.param}" if self.param else name
            return [f"- {key}: {format_value(self.old)}", f"+ {key}: {format_value(self.new)}"]
        sign, value = ("+", self.new) if self.kind == "added" else ("-", self.old)
        if self.param is not None:
            return [f"{sign} {name}.{self.param}: {format_value(value)} ({self.kind})"]
        where = f"{self.kind} before {self.before}" if self.before else self.kind
        if not self.before and self.after:
            where = f"{self.kind} after {self.after}"
        return [f"{sign} {name} ({where}): {format_value(_params(set_arguments(value)))}"]

    def to_dict(self) -> dict[str, Any]:
        """The change as JSON-able plain data."""
        return {k: _jsonable(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ConfigDiff:
    """The result of :func:`config_diff`: a tuple of :class:`Change` s, falsy when empty."""

    changes: tuple[Change, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __str__(self) -> str:
        counts: dict[str, int] = {}
        for c in self.changes:
            counts[c.operator] = counts.get(c.operator, 0) + 1
        lines: list[str] = []
        for c in self.changes:
            # A class named by several changes at different places gets its path as well.
            ambiguous = counts[c.operator] > 1 and len({_owner(x) for x in self._of(c)}) > 1
            label = f"{c.operator}@{_owner(c)}" if ambiguous else None
            lines.extend(c.lines(label))
        return "\n".join(lines)

    def _of(self, change: Change) -> list[Change]:
        return [c for c in self.changes if c.operator == change.operator]

    def to_dict(self) -> dict[str, Any]:
        """``{"changes": [...]}`` as JSON-able plain data."""
        return {"changes": [c.to_dict() for c in self.changes]}


def config_diff(old: Operator | Mapping[str, Any], new: Operator | Mapping[str, Any]) -> ConfigDiff:
    """Compare two pipeline configs (Operators or their ``state`` dicts).

    Operators inside Sequentials (and nested ones) are aligned as sequences, so an inserted
    step shows as one addition, not as every later step changed. The alignment has two
    levels (:class:`difflib.SequenceMatcher` on both): first on whole operator configs, so
    unchanged steps anchor it, then, between anchors, on class names (``_target_``), so
    a step whose parameters changed pairs with its old self and is diffed parameter by
    parameter. Graph nodes are aligned by node name in execution order.

    An added or removed operator prints the arguments its config *sets*, leaving out those
    equal to its class's constructor defaults (:func:`set_arguments`), e.g.
    ``+ LeeSpeckle (added before NDVI): {window: 5}``; :attr:`Change.new` / ``old`` keep
    the whole config.

    Arguments:
        old: the reference pipeline.
        new: the candidate.

    Returns:
        A :class:`ConfigDiff`; ``str()`` prints ``-``/``+`` lines.

    Example:
        >>> import pipekit as pk
        >>> from pipekit.diff import config_diff
        >>> old = pk.Sequential([pk.Identity()])
        >>> new = {"_target_": "pipekit.Sequential", "ops": [
        ...     {"_target_": "pipekit.Identity"}, {"_target_": "my.Scale", "factor": 2}]}
        >>> print(config_diff(old, new))
        + Scale (added after Identity): {factor: 2}
        >>> bool(config_diff(old, old))
        False
    """
    changes: list[Change] = []
    _diff(_as_state(old, "old"), _as_state(new, "new"), "", "", "", changes)
    return ConfigDiff(tuple(changes))


def _as_state(obj: Any, which: str) -> Any:
    if isinstance(obj, Operator):
        return obj.state
    if isinstance(obj, Mapping):
        return obj
    raise TypeError(
        f"config_diff({which}=...) expects an Operator or its state dict, got "
        f"{type(obj).__name__}; load YAML text with pk.loads_yaml or pk.loads_yaml_dict first"
    )


def _is_op(x: Any) -> bool:
    return isinstance(x, Mapping) and TARGET in x


def _is_nodes(x: Any) -> bool:
    return (
        isinstance(x, Mapping)
        and bool(x)
        and all(isinstance(v, Mapping) and "op" in v for v in x.values())
    )


def _key(x: Any) -> str:
    try:
        return json.dumps(x, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(x)


def _join(path: str, part: str) -> str:
    if part.startswith("["):
        return path + part
    return f"{path}.{part}" if path else part


def _owner(c: Change) -> str:
    path = c.path
    if c.param is not None and path.endswith(c.param):
        path = path[: -len(c.param)].rstrip(".")
    return path or "<root>"


def _defaults(target: str) -> dict[str, Any]:
    """Constructor defaults of the registered class ``target`` ({} if it is not registered)."""
    cls = lookup(target)
    if cls is None:
        return {}
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return {}
    return {n: p.default for n, p in parameters.items() if p.default is not inspect.Parameter.empty}


def set_arguments(value: Any) -> Any:
    """Config data with every operator's default-valued arguments left out (nested too).

    What a config *sets*: an added ``LeeSpeckle(window=5)`` prints ``{window: 5}``, not
    its ``enl: null`` default as well. Defaults come from the constructor signature of the
    registered class (``pipekit.registry.lookup``; nothing is imported); a ``_target_``
    that is not registered keeps every argument. Values compare as canonical JSON, so a
    tuple default equals the list in a state.
    """
    if isinstance(value, Mapping):
        defaults = _defaults(str(value[TARGET])) if _is_op(value) else {}
        return {
            k: set_arguments(v)
            for k, v in value.items()
            if not (k in defaults and _key(defaults[k]) == _key(v))
        }
    if isinstance(value, list | tuple):
        return [set_arguments(v) for v in value]
    return value


def _params(state: Any) -> Any:
    if _is_op(state):
        return {k: v for k, v in state.items() if k != TARGET}
    if isinstance(state, Mapping) and _is_op(state.get("op")):
        return _params(state["op"])
    return state


def _diff(old: Any, new: Any, path: str, owner: str, param: str, out: list[Change]) -> None:
    """Append the changes turning ``old`` into ``new`` (``param`` relative to ``owner``)."""
    if _key(old) == _key(new):
        return
    if _is_op(old) or _is_op(new):
        if not (_is_op(old) and _is_op(new)) or old[TARGET] != new[TARGET]:
            out.append(
                Change("changed", path or "<root>", owner or "<root>", param or None, old, new)
            )
            return
        _diff_mapping(old, new, path, short_name(new[TARGET]), "", out)
    elif _is_nodes(old) and _is_nodes(new):
        _align(list(old.items()), list(new.items()), path, out, keyed=True)
    elif isinstance(old, Mapping) and isinstance(new, Mapping):
        _diff_mapping(old, new, path, owner, param, out)
    elif _is_op_list(old) and _is_op_list(new):
        _align(list(enumerate(old)), list(enumerate(new)), path, out, keyed=False)
    else:
        out.append(Change("changed", path or "<root>", owner or "<root>", param or None, old, new))


def _is_op_list(x: Any) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, str) and any(_is_op(v) for v in x)


def _diff_mapping(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    path: str,
    owner: str,
    param: str,
    out: list[Change],
) -> None:
    if "op" in new and _is_op(new.get("op")):  # a Graph node entry: its params belong to op
        owner = short_name(new["op"][TARGET])
    for k in [*old, *(k for k in new if k not in old)]:
        if k == TARGET:
            continue
        sub = _join(param, k) if param else k
        where = _join(path, k)
        if k not in new:
            out.append(Change("removed", where, owner, sub, old=old[k]))
        elif k not in old:
            out.append(Change("added", where, owner, sub, new=new[k]))
        else:
            _diff(old[k], new[k], where, owner, sub, out)


def _label(item: tuple[Any, Any], keyed: bool) -> str:
    name, value = item
    if keyed:
        return str(name)
    return short_name(value[TARGET]) if _is_op(value) else format_value(value)


def _op_name(value: Any) -> str:
    if _is_op(value):
        return short_name(value[TARGET])
    if isinstance(value, Mapping) and _is_op(value.get("op")):
        return short_name(value["op"][TARGET])
    if isinstance(value, Mapping) and isinstance(value.get("op"), str):
        return f"<op of {value['op']}>"
    return type(value).__name__


def _align(
    old: list[tuple[Any, Any]],
    new: list[tuple[Any, Any]],
    path: str,
    out: list[Change],
    *,
    keyed: bool,
) -> None:
    """Align two operator lists (or Graph node lists) and diff matched pairs."""

    def where(item: tuple[Any, Any]) -> str:
        name = item[0]
        return _join(path, str(name) if keyed else f"[{name}]")

    def removed(i: int) -> None:
        item = old[i]
        before = _label(old[i + 1], keyed) if i + 1 < len(old) else None
        after = _label(old[i - 1], keyed) if i > 0 else None
        out.append(
            Change("removed", where(item), _op_name(item[1]), None, item[1], None, i, before, after)
        )

    def added(j: int) -> None:
        item = new[j]
        before = _label(new[j + 1], keyed) if j + 1 < len(new) else None
        after = _label(new[j - 1], keyed) if j > 0 else None
        out.append(
            Change("added", where(item), _op_name(item[1]), None, None, item[1], j, before, after)
        )

    def pair(i: int, j: int) -> None:
        a, b = old[i], new[j]
        if keyed or _is_op(b[1]):
            _diff(a[1], b[1], where(b), "", "", out)
        else:
            _diff(a[1], b[1], where(b), "<list>", "", out)

    # Level 1: names (Graph) or whole configs (Sequential) anchor the alignment.
    level1 = [str(k) for k, _ in old] if keyed else [_key(v) for _, v in old]
    level1_new = [str(k) for k, _ in new] if keyed else [_key(v) for _, v in new]
    matcher = difflib.SequenceMatcher(None, level1, level1_new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                pair(i, j)
            continue
        if keyed:
            for i in range(i1, i2):
                removed(i)
            for j in range(j1, j2):
                added(j)
            continue
        # Level 2: between anchors, pair operators of the same class.
        a = [_target(v) for _, v in old[i1:i2]]
        b = [_target(v) for _, v in new[j1:j2]]
        inner = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for tag2, k1, k2, m1, m2 in inner.get_opcodes():
            if tag2 == "equal":
                for k, m in zip(range(k1, k2), range(m1, m2), strict=True):
                    pair(i1 + k, j1 + m)
                continue
            for k in range(k1, k2):
                removed(i1 + k)
            for m in range(m1, m2):
                added(j1 + m)


def _target(value: Any) -> str:
    return str(value[TARGET]) if _is_op(value) else _key(value)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return repr(value)
