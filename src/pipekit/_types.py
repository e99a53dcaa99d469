"""Option vocabularies shared across pipekit, as ``Literal`` aliases."""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = ["Key", "OnError"]

#: A random key: a JAX PRNG key on the traced path, or a ``numpy.random.Generator`` on NumPy.
Key: TypeAlias = object

#: What the CLI does with a YAML document it cannot trust.
TrustMode: TypeAlias = Literal["trusted", "sandboxed"]

#: The one failure policy of pipekit, argument ``on_error`` everywhere (QC checks, parallel
#: maps, ``geocatalog``'s ``CatalogPipeline``): ``"raise"`` an error; ``"warn"`` with
#: :func:`warnings.warn`; ``"log_and_continue"`` log at WARNING and go on; ``"collect"`` put
#: a failure record in the result. Each user accepts the subset that makes sense (QC:
#: raise/warn/log_and_continue; parallel maps: raise/log_and_continue/collect) and its
#: error lists them. The old spellings (``on_fail=``, ``"log"``) raise errors naming these.
OnError: TypeAlias = Literal["raise", "warn", "log_and_continue", "collect"]
