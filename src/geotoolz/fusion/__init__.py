"""Multi-sensor fusion: align GeoTensors on different grids onto one and stack their bands."""

from ._align import AlignAndStack as AlignAndStack, resample_to as resample_to
from ._errors import CRSMismatchError as CRSMismatchError
from ._normalize import BandNormalize as BandNormalize
from ._select import SelectBands as SelectBands

__all__ = [
    # operators
    "AlignAndStack",
    "BandNormalize",
    "SelectBands",
    # kernels
    "resample_to",
    # errors
    "CRSMismatchError",
]
