"""Compact, YAML-flow-like text of config values for diff output."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from .._state import TARGET

__all__ = ["format_value", "short_name"]

_BARE = re.compile(r"^[A-Za-z_][\w.\-/]*$")
_KEYWORDS = {"true", "false", "null", "yes", "no", "on", "off", "~"}


def short_name(target: str) -> str:
    """The class name of a ``_target_``: ``"geotoolz.indices.NDVI"`` -> ``"NDVI"``."""
    return target.rsplit(".", 1)[-1]


def format_value(value: Any) -> str:
    """Format plain config data in YAML flow style; operators as ``Name{...}``.

    Example:
        >>> format_value({"window": 5, "mode": "reflect", "bits": [10, 11], "x": None})
        '{window: 5, mode: reflect, bits: [10, 11], x: null}'
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if _BARE.match(value) and value.lower() not in _KEYWORDS:
            return value
        return json.dumps(value)
    if isinstance(value, Mapping):
        body = ", ".join(f"{k}: {format_value(v)}" for k, v in value.items() if k != TARGET)
        if TARGET in value:
            return f"{short_name(str(value[TARGET]))}{{{body}}}"
        return f"{{{body}}}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return repr(value)
