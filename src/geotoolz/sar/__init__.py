"""SAR operators: decibel conversion and speckle filtering of intensity (Sentinel-1 GRD)."""

from ._db import LinearToDB as LinearToDB, linear_to_db as linear_to_db
from ._lee import (
    LeeSpeckle as LeeSpeckle,
    box_mean as box_mean,
    estimate_enl as estimate_enl,
    lee_filter as lee_filter,
)

__all__ = [
    # operators
    "LeeSpeckle",
    "LinearToDB",
    # kernels
    "box_mean",
    "estimate_enl",
    "lee_filter",
    "linear_to_db",
]
