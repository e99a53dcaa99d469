"""synthetic_scene: deterministic and spectrally plausible Sentinel-2-like data."""

import numpy as np
import pytest
from affine import Affine

from geocatalog import GeoValueError
from geocatalog.testing import QA_CIRRUS_BIT, QA_OPAQUE_BIT, S2_BANDS, synthetic_scene

RED, NIR, BLUE = S2_BANDS.index("B04"), S2_BANDS.index("B08"), S2_BANDS.index("B02")


@pytest.fixture(scope="module")
def scene():
    return synthetic_scene()


def _masks(scene):
    qa = scene.values[-1]
    opaque = (qa >> QA_OPAQUE_BIT) & 1 == 1
    cirrus = (qa >> QA_CIRRUS_BIT) & 1 == 1
    return qa, opaque, cirrus


def _ndvi(scene):
    red = scene.values[RED].astype(np.float64)
    nir = scene.values[NIR].astype(np.float64)
    return (nir - red) / (nir + red)


def test_defaults(scene):
    assert scene.shape == (13, 256, 256) and scene.dtype == np.uint16
    assert scene.transform == Affine(10, 0, 399960, 0, -10, 4_500_000)
    assert scene.crs_string == "EPSG:32630" and scene.fill_value == 0
    assert S2_BANDS[2:4] == ("B04", "B08") and S2_BANDS[-1] == "QA60" and len(S2_BANDS) == 13


def test_same_seed_same_bytes_other_seed_other_bytes(scene):
    assert synthetic_scene().values.tobytes() == scene.values.tobytes()
    assert synthetic_scene(seed=1).values.tobytes() != scene.values.tobytes()


def test_reflectance_is_dn_times_10000_and_never_the_fill_value(scene):
    refl = scene.values[:-1]
    assert refl.min() >= 1 and refl.max() <= 10_000


def test_qa_uses_only_bits_10_and_11(scene):
    qa, opaque, cirrus = _masks(scene)
    assert set(np.unique(qa)) <= {0, 1 << 10, 1 << 11}
    assert not (opaque & cirrus).any() and cirrus.any()


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.15, 0.4])
def test_cloud_fraction_matches_the_request(fraction):
    _, opaque, cirrus = _masks(synthetic_scene(128, 96, seed=2, cloud_fraction=fraction))
    assert abs(opaque.mean() - fraction) < 0.005
    assert abs(cirrus.mean() - fraction / 2) < 0.005


def test_clouds_are_brighter_than_clear_pixels(scene):
    _, opaque, cirrus = _masks(scene)
    blue = scene.values[BLUE].astype(np.float64)
    clear = ~opaque & ~cirrus
    assert blue[opaque].min() > np.percentile(blue[clear], 99)
    assert 4000 <= np.median(blue[opaque]) <= 8000  # opaque clouds reflect ~0.4-0.8


def test_land_cover_spectra_are_plausible(scene):
    _, opaque, cirrus = _masks(scene)
    clear = ~opaque & ~cirrus
    ndvi = _ndvi(scene)
    nir = scene.values[NIR]
    vegetation = clear & (ndvi > 0.5)
    water = clear & (nir < 300)
    assert vegetation.mean() > 0.2 and water.mean() > 0.05
    assert np.median(ndvi[vegetation]) > 0.7
    assert (ndvi[water] < 0).mean() > 0.99
    # vegetation red edge rises B04 < B05 < B06 < B07 < B08
    edge = [
        scene.values[S2_BANDS.index(b)][vegetation].mean() for b in ("B04", "B05", "B06", "B07")
    ]
    assert edge == sorted(edge) and edge[-1] < nir[vegetation].mean()


def test_land_cover_is_spatially_smooth(scene):
    vegetation = _ndvi(scene) > 0.5
    # neighbouring pixels mostly share a class (white noise would agree ~50 % of the time)
    assert (vegetation[:, 1:] == vegetation[:, :-1]).mean() > 0.9


def test_custom_grid():
    transform = Affine(20, 0, 600000, 0, -20, 5300040)
    gt = synthetic_scene(10, 12, crs="EPSG:32633", transform=transform, cloud_fraction=0.0)
    assert gt.shape == (13, 10, 12) and gt.transform == transform and gt.crs_string == "EPSG:32633"
    assert (gt.values[-1] == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cloud_fraction": 1.5}, r"cloud_fraction must lie in \[0, 1\]"),
        ({"height": 0}, "positive"),
    ],
)
def test_bad_arguments_are_explained(kwargs, match):
    with pytest.raises(GeoValueError, match=match):
        synthetic_scene(**kwargs)
