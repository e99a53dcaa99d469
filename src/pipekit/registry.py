"""The operator registry (public surface): build allow-lists, look up targets.

Example:
    >>> import pipekit as pk
    >>> pk.registry.lookup("pipekit.Identity") is pk.Identity
    True
"""

from ._registry import (
    FAMILY_PACKAGES as FAMILY_PACKAGES,
    allow_package as allow_package,
    lookup as lookup,
    operator_packages as operator_packages,
    public_operators as public_operators,
    registered as registered,
    target_name as target_name,
)

__all__ = [
    "FAMILY_PACKAGES",
    "allow_package",
    "lookup",
    "operator_packages",
    "public_operators",
    "registered",
    "target_name",
]
