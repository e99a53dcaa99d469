"""Seed Case 7 in a real browser: the app under uvicorn, its Leaflet page in headless Chromium.

The server is started as the README says (``python examples/case07_tiles/app.py --port N``,
demo data in a temp dir). Chromium loads ``/``, waits for the tiles (virtual time), dumps
the DOM and takes a screenshot. The oracle for the screenshot is the tile PNGs fetched
straight from the endpoint, placed where Leaflet puts them (tile x, y at
``256 * (x, y) - origin``, origin from the page) and composited over the page's white.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from tests.cases._servers import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
APP_PY = ROOT / "examples" / "case07_tiles" / "app.py"
LAYER = "truecolor"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LEAFLET = Path("/usr/share/javascript/leaflet/leaflet.js")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install -y chromium libjs-leaflet; .ci/run does)",
)
STATUS = re.compile(
    r"tiles loaded: (\d+), tile errors: (\d+), zoom: (\d+), origin: (-?\d+) (-?\d+), "
    r"size: (\d+) (\d+)"
)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("case07_browser")
    port = free_port()
    cmd = [sys.executable, str(APP_PY), "--port", str(port), "--data-dir", str(data),
           "--layer", LAYER, "--no-access-log"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with serve(cmd, f"{url}/", cwd=ROOT, log=data / "server.log"):
        yield url


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as resp:
        assert resp.status == 200, url
        return resp.read()


def _rgba(png: bytes) -> np.ndarray:
    """PNG bytes -> ``(H, W, 4)`` float in 0..1 (grey/RGB get an opaque alpha)."""
    img = mpimg.imread(io.BytesIO(png), format="png").astype(np.float64)
    if img.ndim == 2:
        img = np.stack([img, img, img], axis=-1)
    if img.shape[-1] == 3:
        img = np.concatenate([img, np.ones((*img.shape[:2], 1))], axis=-1)
    return img


def _browse(url: str, out: Path) -> str:
    """Load ``url`` in headless Chromium; write a screenshot to ``out``, return the DOM."""
    profile = out.parent / "chromium-profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
           f"--screenshot={out}", "--dump-dom", "--window-size=800,600",
           "--virtual-time-budget=15000", "--hide-scrollbars", url]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and out.is_file(), done.stderr[-2000:]
    return done.stdout


def test_map_page_serves_local_leaflet(base_url: str) -> None:
    page = _get(f"{base_url}/").decode()
    assert 'src="/leaflet/leaflet.js"' in page and "https://" not in page  # no CDN
    if LEAFLET.is_file():  # Debian's libjs-leaflet: served byte for byte
        assert _get(f"{base_url}/leaflet/leaflet.js") == LEAFLET.read_bytes()


def test_browser_shows_the_layer_tiles(base_url: str, tmp_path: Path) -> None:
    dom = _browse(f"{base_url}/", tmp_path / "map.png")
    status = STATUS.search(dom)
    assert status, f"no tile status in the page: {dom[-1500:]}"
    loaded, errors, z, ox, oy, width, height = (int(v) for v in status.groups())
    assert errors == 0, "the page counted tileerror events (broken tiles)"
    # Leaflet loads every tile meeting the map's pixel bounds [origin, origin + size).
    xs = range(ox // 256, (ox + width - 1) // 256 + 1)
    ys = range(oy // 256, (oy + height - 1) // 256 + 1)
    assert loaded == len(xs) * len(ys) >= 4

    # Headless Chromium lays the page out in the window less its (emulated) browser UI,
    # then takes the screenshot at the full window size: Leaflet's resize handler keeps
    # the centre, shifting the view by half the size change (Point.round: half up).
    shot = _rgba((tmp_path / "map.png").read_bytes())[..., :3]
    new_h, new_w = shot.shape[:2]
    oy -= math.floor(new_h / 2 + 0.5) - math.floor(height / 2 + 0.5)
    ox -= math.floor(new_w / 2 + 0.5) - math.floor(width / 2 + 0.5)
    height, width = new_h, new_w
    xs = range(ox // 256, (ox + width - 1) // 256 + 1)
    ys = range(oy // 256, (oy + height - 1) // 256 + 1)

    # Oracle: the same tiles fetched from the endpoint, over white, where Leaflet puts them.
    expected = np.ones((height, width, 3))
    covered = np.zeros((height, width), dtype=bool)
    for x in xs:
        for y in ys:
            tile = _rgba(_get(f"{base_url}/tiles/{LAYER}/{z}/{x}/{y}.png"))
            r0, c0 = 256 * y - oy, 256 * x - ox
            rows = slice(max(r0, 0), min(r0 + 256, height))
            cols = slice(max(c0, 0), min(c0 + 256, width))
            part = tile[rows.start - r0 : rows.stop - r0, cols.start - c0 : cols.stop - c0]
            alpha = part[..., 3:]
            expected[rows, cols] = part[..., :3] * alpha + (1 - alpha) * 1.0
            covered[rows, cols] |= alpha[..., 0] > 0
    covered[height - 30 :, :] = False  # the status line sits at the bottom left
    assert covered.mean() > 0.2, "the data should fill a good part of the view"

    got, want = shot[covered] * 255, expected[covered] * 255
    assert got.std(axis=0).min() > 10, "the layer region must not be blank or uniform"
    np.testing.assert_allclose(got.mean(axis=0), want.mean(axis=0), atol=2.0)
    diff = np.abs(got - want).max(axis=1)
    assert np.median(diff) <= 2 and np.mean(diff > 8) < 0.01, (
        f"screenshot differs from the tiles: median {np.median(diff)}, "
        f"{np.mean(diff > 8):.1%} of pixels off by more than 8 levels"
    )
    # Outside the data the page is white (transparent tiles, no base map, no broken icons).
    outside = ~covered
    outside[height - 30 :, :] = False
    assert (shot[outside] * 255 >= 250).all(axis=1).mean() > 0.99
