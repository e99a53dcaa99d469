"""Conformance examples: geotoolz.qa, the geo QC checks (merged into examples.EXAMPLES).

Every case passes on the suite's scene (UTM 30N, 10 m pixels, the Sentinel-2 band names
of ``synthetic_scene``), so each returns its input unchanged on the NumPy, jit and vmap
paths; failures are tested in tests/geotoolz/test_qa.py.
"""

from __future__ import annotations

import geotoolz as gz
from geocatalog.testing import S2_BANDS

from ._case import Case, float_scene

EXAMPLES: dict[str, list[Case]] = {
    "geotoolz.qa.AssertCRSEquals": [
        Case(gz.qa.AssertCRSEquals("EPSG:32630")),
        Case(gz.qa.AssertCRSEquals(32630, on_error="warn"), make_input=float_scene),
    ],
    "geotoolz.qa.AssertResolutionWithin": [
        Case(gz.qa.AssertResolutionWithin((9.5, 10.5))),
        Case(gz.qa.AssertResolutionWithin((10, 10), on_error="log_and_continue")),
    ],
    "geotoolz.qa.AssertSchema": [
        Case(gz.qa.AssertSchema(bands=["B02", "B03", "B04", "B08", "QA60"])),
        Case(gz.qa.AssertSchema(bands=list(S2_BANDS), exact=True, on_error="warn")),
    ],
}
