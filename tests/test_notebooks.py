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


def test_fusion_notebook_builds_with_its_curve_and_maps(tmp_path):
    from notebooks.build_fusion import main as build_fusion

    path = build_fusion(str(tmp_path / "fusion.ipynb"), steps=3)  # the full build runs 300
    notebook = json.loads(path.read_text())
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    pngs = [base64.b64decode(o["data"]["image/png"]) for o in outputs if "data" in o]
    assert [struct.unpack(">II", png[16:24]) for png in pngs] == [(3, 160), (400, 192)]
    text = "".join(o.get("text", "") for o in outputs)
    assert "3 steps: loss" in text and "max |logit gap| = 0.0" in text
