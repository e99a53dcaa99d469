"""The operator registry (public surface): build allow-lists, look up targets.

Example:
    >>> import pipekit as pk
    >>> pk.registry.lookup("pipekit.Identity") is pk.Identity
    True
"""

from ._registry import (
    allow_package as allow_package,
)
from ._registry import (
    lookup as lookup,
)
from ._registry import (
    operator_packages as operator_packages,
)
from ._registry import (
    public_operators as public_operators,
)
from ._registry import (
    registered as registered,
)
from ._registry import (
    target_name as target_name,
)

__all__ = [
    "allow_package",
    "lookup",
    "operator_packages",
    "public_operators",
    "registered",
    "target_name",
]
