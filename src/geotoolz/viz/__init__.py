"""Pictures of GeoTensors: band composites, 8-bit stretches, colormaps and hillshades.

Each is an Operator (YAML, pickle, jit, vmap) whose output keeps the georeferencing, so a
picture can be written as a COG or served as a PNG tile (``GeoTensor.to_png_bytes``) or
shown (``GeoTensor.to_rgb_array`` for ``plt.imshow`` / ``st.image``). matplotlib (the
``viz`` extra, ``pip install 'pipekit-geo[viz]'``) is needed only by
:class:`ApplyColormap`, when it is constructed.

Example:
    >>> import pipekit as pk
    >>> import geotoolz as gz
    >>> from geocatalog.testing import synthetic_scene
    >>> picture = pk.Sequential([gz.viz.TrueColor(), gz.viz.StretchToUint8()])
    >>> rgb = picture(synthetic_scene(16, 16))
    >>> rgb.shape, rgb.dtype.name, rgb.band_names
    ((3, 16, 16), 'uint8', ('B04', 'B03', 'B02'))
"""

from ._colormap import ApplyColormap as ApplyColormap
from ._composite import (
    TRUE_COLOR_NAMES as TRUE_COLOR_NAMES,
    FalseColor as FalseColor,
    TrueColor as TrueColor,
)
from ._hillshade import Hillshade as Hillshade
from ._stretch import StretchToUint8 as StretchToUint8

__all__ = [
    "TRUE_COLOR_NAMES",
    "ApplyColormap",
    "FalseColor",
    "Hillshade",
    "StretchToUint8",
    "TrueColor",
]
