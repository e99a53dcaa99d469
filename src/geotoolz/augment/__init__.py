"""Random augmentations for training: flips and quarter turns, corner-exact on GeoTensors."""

from ._augment import RandomFlip as RandomFlip, RandomRotate90 as RandomRotate90

__all__ = ["RandomFlip", "RandomRotate90"]
