"""Option vocabularies shared across pipekit, as ``Literal`` aliases."""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = ["Key", "OnFail"]

#: A random key: a JAX PRNG key on the traced path, or a ``numpy.random.Generator`` on NumPy.
Key: TypeAlias = object

#: What the CLI does with a YAML document it cannot trust.
TrustMode: TypeAlias = Literal["trusted", "sandboxed"]

#: What a QC check does when it fails: raise ``QCError``, emit a ``QCWarning``, or log at
#: WARNING on the ``pipekit.qc`` logger (see :mod:`pipekit.qc`).
OnFail: TypeAlias = Literal["raise", "warn", "log"]
