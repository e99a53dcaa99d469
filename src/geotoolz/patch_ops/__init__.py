"""Chip-level operators: choose which chips of a scene or a catalog to look at.

:class:`ActiveSampler` scores every chip of a ``geopatcher.SpatialPatcher`` with an operator
(e.g. a model's predictive uncertainty) and keeps the ``k`` best: a
:class:`ChipSelection` for one scene, a list of loadable :class:`ScoredChip` for a catalog.
"""

from ._active import ActiveSampler as ActiveSampler
from ._selection import (
    MODES as MODES,
    ChipSelection as ChipSelection,
    Mode as Mode,
    ScoredChip as ScoredChip,
)

__all__ = [
    # operators
    "ActiveSampler",
    # results
    "ChipSelection",
    "ScoredChip",
    # option vocabularies
    "MODES",
    "Mode",
]
