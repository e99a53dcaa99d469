"""pipekit_jax.nn: networks built from config with a seed, as pipekit Operators.

Each is an :class:`pipekit.Operator` whose constructor arguments are plain YAML (ints,
tuples, strings and a ``seed``) and whose weights are equinox layers initialised from
``jax.random.key(seed)``: the YAML of an untrained network rebuilds identical weights, and
trained weights are array leaves saved beside it (``equinox.tree_serialise_leaves``).
They map arrays to arrays, one sample per call (equinox convention); apply them to a
GeoTensor, or over a stack, with :class:`pipekit_array.ModelOp`, which is then YAML-able
too.

- :class:`MLP`: a multilayer perceptron over one feature axis;
- :class:`ConvNet`: a fully convolutional per-pixel classifier ``(C, H, W) -> (K, H, W)``;
- :class:`UNet`: an encoder/decoder with skip connections ``(C, H, W) -> (K, H, W)``.

Example:
    >>> import numpy as np
    >>> import pipekit as pk, pipekit_array as pa
    >>> from pipekit_jax import nn
    >>> op = pa.ModelOp(nn.ConvNet(in_channels=2, num_classes=3, widths=(4,), seed=1))
    >>> again = pk.loads_yaml(pk.dumps_yaml(op))
    >>> x = np.ones((2, 5, 6), np.float32)
    >>> bool((again(x) == op(x)).all())
    True
"""

from ._convnet import ConvNet as ConvNet
from ._mlp import MLP as MLP
from ._types import Activation as Activation
from ._unet import UNet as UNet

__all__ = [
    # networks
    "ConvNet",
    "MLP",
    "UNet",
    # option vocabularies
    "Activation",
]
