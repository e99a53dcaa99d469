"""Configs as strict JSON: non-finite floats spelled as strings, read back by annotation.

YAML writes NaN and infinities (``.nan``, ``.inf``), JSON does not (``json.dumps(...,
allow_nan=False)`` refuses them, and ``NaN`` tokens are not JSON): a config served by an
API (Case 5's ``/pipelines/{name}``) must be strict JSON. :func:`to_json_safe` spells
``nan``, ``inf`` and ``-inf`` as those strings; :func:`from_json_safe` turns the strings
back into floats only for constructor arguments annotated with ``float`` (so a string
argument that happens to read ``"nan"`` stays a string).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from . import _registry
from ._state import TARGET

__all__ = ["from_json_safe", "to_json_safe"]

_SPELLINGS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _spell(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def to_json_safe(obj: Any) -> Any:
    """``obj`` (plain data), every non-finite float spelled ``"nan"``, ``"inf"`` or ``"-inf"``."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return _spell(obj)
    if isinstance(obj, dict):
        return {k: to_json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json_safe(v) for v in obj]
    return obj


def _float_params(target: Any) -> frozenset[str]:
    cls = _registry.lookup(target) if isinstance(target, str) else None
    if cls is None:
        return frozenset()
    params = inspect.signature(cls.__init__).parameters
    return frozenset(n for n, p in params.items() if "float" in str(p.annotation))


def _unspell(value: Any) -> Any:
    if isinstance(value, str) and value in _SPELLINGS:
        return _SPELLINGS[value]
    if isinstance(value, list):
        return [_unspell(v) for v in value]
    return value


def from_json_safe(obj: Any) -> Any:
    """Undo :func:`to_json_safe` inside every ``_target_`` mapping, for float-typed arguments."""
    if isinstance(obj, list):
        return [from_json_safe(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    floats = _float_params(obj.get(TARGET))
    return {k: _unspell(v) if k in floats else from_json_safe(v) for k, v in obj.items()}
