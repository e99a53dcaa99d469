"""pipekit: the framework of the pipekit-geo family.

Operators (equinox Modules that are config, task, function and pytree at once), the
containers that compose them (:class:`Sequential`, :class:`Graph`), YAML (trusted and
sandboxed), the registry and ``config_hash``.

Example:
    >>> import numpy as np
    >>> import pipekit as pk
    >>> pipe = pk.loads_yaml("_target_: pipekit.Sequential\\nops: [{_target_: pipekit.Identity}]")
    >>> pipe(np.arange(3))
    array([0, 1, 2])
"""

from . import (
    diff as diff,
    parallel as parallel,
    qc as qc,
    registry as registry,
    repro as repro,
)
from ._basic import Identity as Identity, Lambda as Lambda, Sink as Sink, Tap as Tap
from ._errors import (
    ConfigError as ConfigError,
    GraphError as GraphError,
    PipekitError as PipekitError,
    UntrustedTargetError as UntrustedTargetError,
    YAMLLimitError as YAMLLimitError,
)
from ._graph import Graph as Graph
from ._hash import config_hash as config_hash
from ._keys import split_key as split_key
from ._node import Input as Input, Node as Node
from ._operator import Operator as Operator
from ._sequential import Sequential as Sequential
from ._yaml import (
    dumps_yaml as dumps_yaml,
    loads_yaml as loads_yaml,
    loads_yaml_dict as loads_yaml_dict,
    loads_yaml_sandboxed as loads_yaml_sandboxed,
)

__all__ = [
    # operators and containers
    "Graph",
    "Identity",
    "Input",
    "Lambda",
    "Node",
    "Operator",
    "Sequential",
    "Sink",
    "Tap",
    # config
    "config_hash",
    "dumps_yaml",
    "loads_yaml",
    "loads_yaml_dict",
    "loads_yaml_sandboxed",
    "registry",
    # randomness (one key split the way the containers split it)
    "split_key",
    # deployment
    "diff",
    "parallel",
    "qc",
    "repro",
    # errors
    "ConfigError",
    "GraphError",
    "PipekitError",
    "UntrustedTargetError",
    "YAMLLimitError",
]
