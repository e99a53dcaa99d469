"""Bounded, tag-checking scan of a YAML event stream, run before anything is constructed.

The scan walks libyaml's event stream (no Python objects are built), so a hostile document
is refused after reading at most ``max_nodes`` events: too deep, too many nodes, an
anchor/alias (exponential expansion) or, where aliases are allowed, more than
``max_alias_nodes`` nodes added by expanding them, or a tag outside YAML's core schema
(``!!python/...``). :class:`SafeLoader` refuses duplicate mapping keys and names the line of
an integer too long for Python to read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode

from ._errors import UntrustedTargetError, YAMLLimitError

__all__ = ["DuplicateKeyError", "Limits", "SafeLoader", "scan"]

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_MERGE = "tag:yaml.org,2002:merge"


class DuplicateKeyError(ConstructorError):
    """A YAML mapping holds the same key twice (every loader refuses it)."""

    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(
            problem=f"duplicate mapping key {key!r} at line {line} (first at line {first}); "
            "a key may appear once in a mapping: YAML loaders would silently keep the last "
            "value, so remove or rename one of them"
        )


class SafeLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """libyaml's safe loader, refusing duplicate keys, with ``.nan`` as ``math.nan``.

    PyYAML builds ``.nan`` as ``inf / inf``, which on x86 is a NaN with the sign bit set:
    an operator loaded from YAML would then write other NaN bits than the same operator
    built in Python, and outputs would differ bit for bit. PyYAML keeps the last of two
    equal keys silently (``red_idx: 2`` then ``red_idx: 3`` loads 3): a pipeline would run
    with a value its reviewer read past, so a repeated key is an error here (keys merged in
    with ``<<`` may still be overridden, as YAML's merge rule says).
    """

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _value in node.value:
                if key_node.tag == _MERGE or not isinstance(key_node, ScalarNode):
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    if key in seen:
                        raise DuplicateKeyError(key, line, seen[key])
                except TypeError:  # unhashable: the base class reports it
                    continue
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    value = yaml.SafeLoader.construct_yaml_float(loader, node)
    return math.nan if math.isnan(value) else value


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError as err:  # over sys.get_int_max_str_digits (4,300 by default)
        digits = sum(c.isdigit() for c in node.value)
        where = f" at line {node.start_mark.line + 1}" if node.start_mark is not None else ""
        raise ConstructorError(
            problem=f"an integer of {digits:,} digits{where} is longer than Python reads "
            f"({err.args[0].split(':')[0]}); shorten it, or quote it if it is meant as text"
        ) from None


SafeLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
SafeLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)

_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")
) | {"!"}


@dataclass(frozen=True)
class Limits:
    """Resource bounds of a YAML load; ``None`` disables one.

    Defaults of :func:`pipekit.loads_yaml_sandboxed`: 1 MB of text, 50 nested collections,
    10,000 YAML nodes (scalars and collections), no anchors or aliases. A 100-step pipeline
    with five arguments per step is about 1,200 nodes and 4 levels deep.

    ``max_alias_nodes`` bounds, where aliases are allowed (the trusted loaders), the nodes
    that expanding aliases adds: each ``*name`` counts the whole subtree of its anchor. A
    387-byte "billion laughs" document (nine levels of ten aliases) expands to 10**9
    nodes; walking them took 25 s in ``pipekit validate``. The default of 100,000 is far
    above what reusing a few operator blocks needs and is refused in milliseconds.
    """

    max_bytes: int | None = 1_000_000
    max_depth: int | None = 50
    max_nodes: int | None = 10_000
    allow_aliases: bool = False
    max_alias_nodes: int | None = 100_000


def _path(frames: list[list]) -> str:
    out = ""
    for kind, key, _expect, index, *_ in frames:
        if kind == "map" and key is not None:
            out += f".{key}" if out else str(key)
        elif kind == "seq" and index >= 0:
            out += f"[{index}]"
    return out


def scan(text: str, limits: Limits) -> None:
    """Check ``text`` against ``limits`` and the core-schema tag rule; raise on the first breach."""
    if limits.max_bytes is not None:
        size = len(text.encode("utf-8"))
        if size > limits.max_bytes:
            raise YAMLLimitError(
                f"YAML document is {size:,} bytes; the limit is {limits.max_bytes:,} "
                "(raise max_bytes if this document is trusted to be this large)"
            )
    # frame = [kind, current key, expecting a key, sequence index, expanded size, anchor]
    frames: list[list] = []
    nodes = 0
    documents = 0
    expanded: dict[str, int] = {}  # anchor -> nodes its alias stands for
    alias_nodes = 0
    for event in yaml.parse(text, Loader=SafeLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise YAMLLimitError("YAML stream holds several documents; expected one")
            continue
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            done = frames.pop()
            if done[5] is not None:
                expanded[done[5]] = done[4]
            if frames:
                frames[-1][4] += done[4]
                if frames[-1][0] == "map":
                    frames[-1][2] = True
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        nodes += 1
        if limits.max_nodes is not None and nodes > limits.max_nodes:
            raise YAMLLimitError(
                f"YAML document has more than {limits.max_nodes:,} nodes "
                f"(at {_path(frames) or '<root>'}); "
                "raise max_nodes if this document is trusted to be this large"
            )
        is_key = bool(frames) and frames[-1][0] == "map" and frames[-1][2]
        if not is_key and frames and frames[-1][0] == "seq":
            frames[-1][3] += 1
        # The path is only built for an error message: building it per node was half the
        # cost of a scan.
        if not limits.allow_aliases and (
            isinstance(event, yaml.AliasEvent) or event.anchor is not None
        ):
            raise YAMLLimitError(
                f"YAML anchors/aliases are not allowed here (at {_path(frames) or '<root>'}): "
                "they can expand a small document exponentially"
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _CORE_TAGS:
            raise UntrustedTargetError(
                tag, _path(frames), "YAML tags outside the core schema are never constructed"
            )
        if isinstance(event, yaml.AliasEvent):
            size = _alias_size(event.anchor, expanded, frames)
            alias_nodes += size
            if limits.max_alias_nodes is not None and alias_nodes > limits.max_alias_nodes:
                raise YAMLLimitError(
                    f"YAML aliases expand to more than {limits.max_alias_nodes:,} nodes (at "
                    f"{_path(frames) or '<root>'}, *{event.anchor} stands for {size:,}): a "
                    "small document can grow exponentially this way (a 'billion laughs'); "
                    "write the repeated blocks out, or raise max_alias_nodes"
                )
        else:
            size = 1
            if isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
                expanded[event.anchor] = 1
        if frames and not isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            frames[-1][4] += size
        if is_key:
            if not isinstance(event, yaml.ScalarEvent):
                raise YAMLLimitError(
                    f"complex (non-scalar) mapping key at {_path(frames) or '<root>'}"
                )
            frames[-1][1] = event.value
            frames[-1][2] = False
            continue
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
            frames.append([kind, None, True, -1, 1, event.anchor])
            if limits.max_depth is not None and len(frames) > limits.max_depth:
                where = _path(frames[:-1])
                raise YAMLLimitError(
                    f"YAML nesting deeper than {limits.max_depth} (at {where or '<root>'})"
                )
        elif frames and frames[-1][0] == "map":
            frames[-1][2] = True


def _alias_size(anchor: str, expanded: dict[str, int], frames: list[list]) -> int:
    """Nodes that ``*anchor`` stands for; refuse an alias of a collection still open."""
    if any(frame[5] == anchor for frame in frames):
        raise YAMLLimitError(
            f"YAML alias *{anchor} at {_path(frames) or '<root>'} refers to a collection that "
            "contains it: a recursive structure cannot be an operator's config"
        )
    return expanded.get(anchor, 0)  # an undefined alias: yaml.load reports it
