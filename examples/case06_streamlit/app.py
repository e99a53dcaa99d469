"""Seed Case 6 — run a pipeline that a user pastes as YAML, through the sandboxed loader.

The allow-list is built once at start-up from the registry (every public geotoolz and
pipekit operator, less the closure-bearing ``Lambda``, ``Sink`` and ``ModelOp``);
``pk.loads_yaml_sandboxed`` resolves only those names, imports nothing and refuses YAML
tags, so a ``_target_: os.system`` is refused before anything runs. An allowed pipeline
runs on a demo scene (a generated Sentinel-2-like scene, ``geocatalog.testing
.synthetic_scene``, bands ``B02 B03 B04 B08 ... QA60``), optionally read only inside
``Bounds``; the app shows the result as an image and the pipeline's config as JSON.

    uv run streamlit run examples/case06_streamlit/app.py

Note:
    Resource limits (a huge scene, a million-step Sequential) are not the loader's job;
    deploy behind per-request CPU, memory and time limits (seed Case 6 notes).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

import geocatalog as gc
import geotoolz as gz  # noqa: F401 — registers the operators (Operator.__init_subclass__)
import pipekit as pk

#: The demo scene: ``synthetic_scene(DEMO_SIZE, DEMO_SIZE, seed=DEMO_SEED)`` on EPSG:32630.
DEMO_SIZE = 128
DEMO_SEED = 6

# Public registry built at startup by introspecting modules
ALLOWED = pk.registry.public_operators(
    include_modules=["geotoolz", "pipekit"],
    exclude_classes=["Lambda", "Sink", "ModelOp"],  # closure-bearing
)


@st.cache_resource
def demo_scene_path() -> str:
    """Write the demo scene once per server as a COG (a temp dir), so reads can take bounds."""
    folder = Path(tempfile.mkdtemp(prefix="case06_demo_"))
    scene = gc.testing.synthetic_scene(DEMO_SIZE, DEMO_SIZE, seed=DEMO_SEED)
    return str(gc.save_cog(scene, folder / "demo_s2.tif"))


def parse_bounds(text: str) -> tuple[float, float, float, float] | None:
    """``"left, bottom, right, top"`` (commas or spaces, scene CRS metres) -> tuple; "" -> None.

    Raises:
        ValueError: not four numbers (the message shows what came and the expected form).
    """
    parts = text.replace(",", " ").split()
    if not parts:
        return None
    try:
        left, bottom, right, top = (float(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"Bounds must be four numbers 'left, bottom, right, top' in the scene's CRS "
            f"(EPSG:32630 metres), got {text!r}. Leave it empty to use the whole scene."
        ) from None
    return (left, bottom, right, top)


def read_demo_scene(bounds_text: str) -> gc.GeoTensor:
    """The demo scene, or the part of it inside the bounds typed by the user."""
    return gc.read_from_url(demo_scene_path(), bounds=parse_bounds(bounds_text))


st.title("Case 6 — user-uploaded pipelines (sandboxed)")
st.caption(
    f"Demo scene: {DEMO_SIZE}x{DEMO_SIZE} px Sentinel-2-like, EPSG:32630, bands "
    "B02 B03 B04 B08 B05 B06 B07 B8A B11 B12 B01 B09 QA60. "
    f"{len(ALLOWED)} operators allowed."
)
yaml_text = st.text_area("Pipeline YAML", height=300)
# The seed reads Bounds after Run is pressed; shown up front, the value survives the rerun
# that a click causes (a widget drawn only under `if st.button` vanishes on the next run).
bounds_text = st.text_input("Bounds", placeholder="left, bottom, right, top (optional)")
if st.button("Run"):
    try:
        pipe = pk.loads_yaml_sandboxed(yaml_text, allowed=ALLOWED)
    except pk.UntrustedTargetError as e:
        st.error(f"Operator not allowed: `{e.target}`")
    except Exception as e:
        st.error(f"YAML error: {e}")
    else:
        try:
            scene = read_demo_scene(bounds_text)
            result = pipe(scene)
            rgb = result.to_rgb_array()
        except Exception as e:  # a valid pipeline can still not fit the scene (band count)
            st.error(f"Run error: {e}")
        else:
            st.image(rgb, output_format="PNG")  # PNG: the pixels shown are the pixels computed
            st.json(pipe.get_config())
