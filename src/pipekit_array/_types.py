"""Option vocabularies of :mod:`pipekit_array`, as ``Literal`` aliases."""

from typing import Literal

__all__ = ["PercentileMethod"]

#: How :func:`pipekit_array.nanpercentile` selects order statistics under JAX:
#: ``"radix"`` (exact radix select in XLA), ``"host"`` (a host callback to the
#: exact NumPy selection) or ``"auto"`` (the faster one per platform).
PercentileMethod = Literal["auto", "radix", "host"]
