"""pipekit_jax: JAX transforms and training for pipekit pipelines.

What it will own (see ``ARCHITECTURE.md``): ``jit`` / ``vmap`` / ``shard`` of any
Operator with a cached, pre-partitioned call path; training of a pipeline's array leaves
with optax; saving and loading weights beside the YAML config; helpers for differentiable
operators. Today every Operator is already an equinox Module, so ``eqx.filter_jit``,
``eqx.filter_vmap`` and ``eqx.filter_grad`` work on pipelines directly.
"""

from . import nn as nn
from ._control import (
    Branch as Branch,
    Checkpoint as Checkpoint,
    ControlFlowError as ControlFlowError,
    Switch as Switch,
)
from ._ensemble import Ensemble as Ensemble
from ._io import LoadError as LoadError, load as load, save as save, weights_hash as weights_hash
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
    "load",
    "save",
    "weights_hash",
]
