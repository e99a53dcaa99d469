"""Bounded, tag-checking scan of a YAML event stream, run before anything is constructed.

The scan walks libyaml's event stream (no Python objects are built), so a hostile document
is refused after reading at most ``max_nodes`` events: too deep, too many nodes, an
anchor/alias (exponential expansion), or a tag outside YAML's core schema (``!!python/...``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import yaml

from ._errors import UntrustedTargetError, YAMLLimitError

__all__ = ["Limits", "SafeLoader", "scan"]

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SafeLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """libyaml's safe loader, with ``.nan`` read as Python's own ``math.nan``.

    PyYAML builds ``.nan`` as ``inf / inf``, which on x86 is a NaN with the sign bit set:
    an operator loaded from YAML would then write other NaN bits than the same operator
    built in Python, and outputs would differ bit for bit.
    """


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    value = yaml.SafeLoader.construct_yaml_float(loader, node)
    return math.nan if math.isnan(value) else value


SafeLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)

_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")
) | {"!"}


@dataclass(frozen=True)
class Limits:
    """Resource bounds of a YAML load; ``None`` disables one.

    Defaults of :func:`pipekit.loads_yaml_sandboxed`: 1 MB of text, 50 nested collections,
    10,000 YAML nodes (scalars and collections), no anchors or aliases. A 100-step pipeline
    with five arguments per step is about 1,200 nodes and 4 levels deep.
    """

    max_bytes: int | None = 1_000_000
    max_depth: int | None = 50
    max_nodes: int | None = 10_000
    allow_aliases: bool = False


def _path(frames: list[list]) -> str:
    out = ""
    for kind, key, _expect, index in frames:
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
    # frame = [kind, current key, expecting a key, sequence index]
    frames: list[list] = []
    nodes = 0
    documents = 0
    for event in yaml.parse(text, Loader=SafeLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise YAMLLimitError("YAML stream holds several documents; expected one")
            continue
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frames.pop()
            if frames and frames[-1][0] == "map":
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
        if is_key:
            if not isinstance(event, yaml.ScalarEvent):
                raise YAMLLimitError(
                    f"complex (non-scalar) mapping key at {_path(frames) or '<root>'}"
                )
            frames[-1][1] = event.value
            frames[-1][2] = False
            continue
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            frames.append(
                ["map" if isinstance(event, yaml.MappingStartEvent) else "seq", None, True, -1]
            )
            if limits.max_depth is not None and len(frames) > limits.max_depth:
                where = _path(frames[:-1])
                raise YAMLLimitError(
                    f"YAML nesting deeper than {limits.max_depth} (at {where or '<root>'})"
                )
        elif frames and frames[-1][0] == "map":
            frames[-1][2] = True
