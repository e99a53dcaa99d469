"""The patching notebook builds, with its pictures embedded."""

import base64
import json
import struct

from notebooks.build_patching import main


def test_patching_notebook_builds_with_three_pngs(tmp_path):
    path = main(str(tmp_path / "patching.ipynb"))
    notebook = json.loads(path.read_text())
    assert notebook["nbformat"] == 4
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    pngs = [base64.b64decode(o["data"]["image/png"]) for o in outputs if "data" in o]
    assert len(pngs) == 3
    for png in pngs:
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert (width, height) == (512, 512)
    text = "".join(o.get("text", "") for o in outputs)
    assert "transform kept: True" in text and "same NaN pixels: True" in text
    gap = float(text.split("max |stitched - whole scene| = ")[1].split(";")[0])
    assert gap < 1e-5
