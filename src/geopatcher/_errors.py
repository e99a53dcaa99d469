"""geopatcher's errors: one root, each class also a builtin."""

from __future__ import annotations

__all__ = ["PatchConfigError", "PatchError", "PatchShapeError"]


class PatchError(Exception):
    """Root of geopatcher's errors."""


class PatchConfigError(PatchError, ValueError):
    """A geometry, sampler, window or aggregation got an invalid argument."""


class PatchShapeError(PatchError, ValueError):
    """Chips, outputs or fields whose shapes do not fit together."""
