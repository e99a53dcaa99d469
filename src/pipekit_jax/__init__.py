"""pipekit_jax: JAX transforms, training, networks and control flow for pipekit pipelines.

- ``jit`` / ``vmap`` / ``shard``: any Operator compiled with a cached call path (about
  ``jax.jit``'s overhead), mapped over a batch axis, or run data-parallel over devices.
- ``fit``: train a pipeline's inexact array leaves with optax (one compiled step,
  ``freeze``, NaN stops); plain ``eqx.filter_value_and_grad`` + optax keeps working.
- ``save`` / ``load``: ``pipeline.yaml`` + ``weights.eqx`` + a manifest of both hashes.
- ``nn`` (MLP, ConvNet, UNet built from config with a seed) and ``Ensemble``.
- ``Branch``, ``Switch``, ``Scan``, ``Checkpoint``, ``Stack``: JAX control flow and memory
  as Operators that also run eagerly on NumPy.
"""

from . import nn as nn
from ._control import (
    Branch as Branch,
    Checkpoint as Checkpoint,
    ControlFlowError as ControlFlowError,
    Switch as Switch,
)
from ._ensemble import Ensemble as Ensemble
from ._io import (
    LoadError as LoadError,
    SaveError as SaveError,
    load as load,
    save as save,
    weights_hash as weights_hash,
)
from ._predicates import Digitize as Digitize, GreaterThan as GreaterThan
from ._shard import ShardFunction as ShardFunction, shard as shard
from ._stacked import Scan as Scan, Stack as Stack
from ._train import (
    History as History,
    NaNLossError as NaNLossError,
    fit as fit,
    trainable_mask as trainable_mask,
)
from ._transforms import JitFunction as JitFunction, Vmap as Vmap, jit as jit, vmap as vmap

__all__: list[str] = [
    # networks built from config (pipekit_jax.nn) and ensembles of them
    "Ensemble",
    "nn",
    # transforms
    "JitFunction",
    "ShardFunction",
    "Vmap",
    "jit",
    "shard",
    "vmap",
    # control flow and memory
    "Branch",
    "Checkpoint",
    "Digitize",
    "GreaterThan",
    "Scan",
    "Stack",
    "Switch",
    "ControlFlowError",
    # training
    "History",
    "NaNLossError",
    "fit",
    "trainable_mask",
    # saving
    "LoadError",
    "SaveError",
    "load",
    "save",
    "weights_hash",
]
