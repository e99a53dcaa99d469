"""The error of :mod:`pipekit.repro`."""

from __future__ import annotations

from .._errors import PipekitError

__all__ = ["ReproError"]


class ReproError(PipekitError, ValueError):
    """A frozen artifact is damaged, tampered with, or does not reproduce.

    The message names the member (``pipeline.yaml``, ``leaves.eqx``...) or the input that
    failed and, for hash checks, the expected and the found hash.
    """
