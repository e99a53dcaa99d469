"""Config checks shared by the geo operators: "{Op}: {arg} must be ..., got ..."."""

from __future__ import annotations

import math

import pipekit as pk

__all__ = ["check_degrees", "check_name"]


def check_name(owner: str, arg: str, value: object) -> str:
    """A dimension/coordinate name: a non-empty str."""
    if not isinstance(value, str) or not value:
        raise pk.ConfigError(
            f"{owner}: {arg} must be the name of a coordinate (a non-empty str, e.g. "
            f"'lat'), got {value!r}"
        )
    return value


def check_degrees(owner: str, arg: str, value: object, low: float, high: float) -> float:
    """A finite number of degrees in ``[low, high]``, as a float (YAML may give an int)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not low <= value <= high:  # type: ignore[operator]
        raise pk.ConfigError(
            f"{owner}: {arg} must be a number of degrees in [{low:g}, {high:g}], got {value!r}"
        )
    return float(value)  # type: ignore[arg-type]
