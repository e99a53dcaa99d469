"""Conformance examples: raster I/O operators (merged into examples.EXAMPLES).

Both are host I/O: ``ON_HOST`` opts them out of the jit and nodata checks (with the
reason shown in the skip) and ``vmap=False``; YAML, hash and pickle round trips apply.
ReadRaster reads a COG of the suite's scene written once per session; WriteCOG writes
under a session temporary directory, removed at exit.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile

import geotoolz as gz
from geocatalog import save_cog

from ._case import ON_HOST, Case, scene

_DIR = tempfile.mkdtemp(prefix="pipekit-conformance-io-")
atexit.register(shutil.rmtree, _DIR, True)


@functools.cache
def scene_path() -> str:
    return save_cog(scene(), os.path.join(_DIR, "scene.tif"))


EXAMPLES = {
    "geotoolz.io.ReadRaster": [
        Case(gz.io.ReadRaster(), make_input=scene_path, vmap=False, extra=ON_HOST),
        Case(
            gz.io.ReadRaster(indexes=[3, 4], bounds=(400000, 4499700, 400200, 4499900)),
            make_input=scene_path,
            vmap=False,
            extra=ON_HOST,
        ),
    ],
    "geotoolz.io.WriteCOG": [
        Case(
            gz.io.WriteCOG(os.path.join(_DIR, "out", "{hash:.16}.tif")), vmap=False, extra=ON_HOST
        ),
    ],
}
