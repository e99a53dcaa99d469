"""``config_hash``: a content hash of an operator's config."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ._operator import Operator
from ._state import canonical_json
from ._yaml import check_yaml_able

__all__ = ["config_hash"]


def config_hash(op: Operator | Mapping[str, Any]) -> str:
    """Return ``"sha256:<64 hex>"`` of the canonical JSON of ``op.state``.

    Canonical: sorted keys, tuples as lists, floats by ``repr``, no whitespace; so the hash
    is identical across processes, machines and Python versions, and any change of any
    argument of any nested operator changes it. Array leaves (trained weights) are not
    config and do not enter it. ``forbid_in_yaml`` operators (by class, or by instance as
    :meth:`Operator._forbidden_in_yaml` decides) are refused: a callable has no stable
    identity to hash.

    Example:
        >>> import pipekit as pk
        >>> h = pk.config_hash(pk.Sequential([pk.Identity()]))
        >>> h.startswith("sha256:"), len(h)
        (True, 71)
    """
    state = check_yaml_able(op if isinstance(op, Operator) else dict(op))
    digest = hashlib.sha256(canonical_json(state).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"
