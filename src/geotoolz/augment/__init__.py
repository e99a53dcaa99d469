"""Random augmentations for training: flips, quarter turns and crops (georeferencing exact),
noise, brightness/contrast jitter, band dropout, and a probabilistic Compose."""

from ._augment import RandomFlip as RandomFlip, RandomRotate90 as RandomRotate90
from ._compose import Compose as Compose
from ._crop import RandomCrop as RandomCrop
from ._photometric import (
    BandDropout as BandDropout,
    BrightnessJitter as BrightnessJitter,
    ContrastJitter as ContrastJitter,
    GaussianNoise as GaussianNoise,
)

__all__ = [
    "BandDropout",
    "BrightnessJitter",
    "Compose",
    "ContrastJitter",
    "GaussianNoise",
    "RandomCrop",
    "RandomFlip",
    "RandomRotate90",
]
