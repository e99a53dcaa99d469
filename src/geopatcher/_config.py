"""Plain-data config for geopatcher's frozen pieces (no imports, a closed vocabulary).

Every geometry, sampler, window and aggregation is a frozen, hashable dataclass. Its
``to_config()`` is plain data tagged with ``"kind"`` (the class name); :func:`from_config`
rebuilds it by looking the kind up among geopatcher's own classes only, so a config read
from an untrusted YAML file can name nothing else. pipekit encodes any value that has a
``to_config()`` method as that plain data, which is how ``GridSampler(patcher)`` dumps to YAML.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from ._errors import PatchConfigError

__all__ = ["from_config", "piece"]

_KINDS: dict[str, type] = {}
T = TypeVar("T", bound=type)


def _plain(value: Any) -> Any:
    if hasattr(value, "to_config"):
        return value.to_config()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def piece(cls: T) -> T:
    """Register a frozen dataclass as a config kind and give it ``to_config()``."""

    def to_config(self: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": type(self).__name__}
        for f in dataclasses.fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out

    cls.to_config = to_config  # type: ignore[attr-defined]
    _KINDS[cls.__name__] = cls
    return cls


def from_config(config: Any, what: str = "config") -> Any:
    """Rebuild a geopatcher piece (or patcher) from :meth:`to_config` output.

    Example:
        >>> from geopatcher import SpatialHann
        >>> from_config(SpatialHann().to_config()) == SpatialHann()
        True
    """
    if hasattr(config, "to_config"):  # already built
        return config
    if not isinstance(config, Mapping) or "kind" not in config:
        raise PatchConfigError(
            f"{what}: expected a geopatcher object or its config (a mapping with a 'kind' "
            f"key, as to_config() returns); received {config!r}"
        )
    kind = config["kind"]
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise PatchConfigError(f"{what}: unknown kind {kind!r}; known kinds are {sorted(_KINDS)}")
    kwargs = {}
    for name, value in config.items():
        if name == "kind":
            continue
        if isinstance(value, Mapping) and "kind" in value:
            value = from_config(value, f"{what}.{name}")
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise PatchConfigError(f"{what}: {kind}: {err}") from None
