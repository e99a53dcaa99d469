"""Splitting a transform into (lattice, integer offset) and rebuilding it bit for bit."""

import math
import random

import numpy as np
import pyproj
import pytest
import rasterio.crs
from affine import Affine

from geocatalog import CRSError, GeoTensor, Lattice, TransformError, canonical_crs
from geocatalog._lattice import split_transform

UTM_SOUTH = Affine(10.0, 0.0, 399960.0, 0.0, -10.0, 9990000.0)  # 10 m pixels, northing 9,990 km
DEG_RES = 0.000269494585235856  # ~30 m in degrees


def _roundtrip(transform, crs="EPSG:32630"):
    lattice, (row, col) = split_transform(transform, crs)
    rebuilt = lattice.transform_at(row, col)
    assert tuple(rebuilt) == tuple(Affine(*transform[:6])), (transform, lattice, row, col)
    return lattice, (row, col)


def test_utm_far_north_roundtrips_at_random_offsets():
    rng = random.Random(1)
    lattices = set()
    for _ in range(200):
        dr, dc = rng.randint(-50_000, 50_000), rng.randint(-50_000, 50_000)
        transform = Affine(10.0, 0.0, 399960.0 + 10 * dc, 0.0, -10.0, 9990000.0 - 10 * dr)
        lattice, _ = _roundtrip(transform)
        lattices.add(lattice)
    # one sensor grid, one lattice: the reduced origin is the same for every scene
    assert lattices == {Lattice(10.0, 0.0, 0.0, 0.0, -10.0, 0.0, "EPSG:32630")}


def test_float32_would_lose_the_northing():
    # why the offset is an integer leaf: float32 steps by 1 m at UTM northings
    assert float(np.float32(9_990_000.5)) != 9_990_000.5


def test_rotated_transform_roundtrips():
    rng = random.Random(2)
    for _ in range(200):
        theta = rng.uniform(-math.pi, math.pi)
        res = rng.uniform(0.5, 60.0)
        cos, sin = res * math.cos(theta), res * math.sin(theta)
        transform = Affine(cos, -sin, rng.uniform(1e5, 9e5), -sin, -cos, rng.uniform(0, 1e7))
        _roundtrip(transform)


def test_geographic_degrees_roundtrip():
    rng = random.Random(3)
    for _ in range(300):
        x0, y0 = rng.uniform(-180, 180), rng.uniform(-90, 90)
        lattice, (_row, _col) = _roundtrip(Affine(DEG_RES, 0, x0, 0, -DEG_RES, y0), "EPSG:4326")
        assert lattice.crs == "EPSG:4326"
        # the reduced origin lies within one pixel of the lattice corner
        assert -DEG_RES < lattice.c < 2 * DEG_RES and -2 * DEG_RES < lattice.f < DEG_RES


def test_random_transforms_roundtrip_with_fixed_seed():
    rng = np.random.default_rng(20240607)
    for _ in range(500):
        a, e = (
            rng.uniform(1e-5, 100) * rng.choice([-1, 1]),
            rng.uniform(1e-5, 100) * rng.choice([-1, 1]),
        )
        b, d = rng.uniform(-1, 1, 2) * rng.choice([0.0, 1e-3, 1.0])
        c, f = rng.uniform(-2e7, 2e7, 2)
        _roundtrip(Affine(a, b, c, d, e, f))


def test_origin_reduced_modulo_one_pixel():
    lattice, (row, col) = _roundtrip(Affine(10, 0, 399965.5, 0, -10, 4500003.25))
    assert (lattice.c, lattice.f) == (5.5, -6.75)
    assert (row, col) == (-450001, 39996)


def test_six_tuple_and_affine_are_equivalent():
    coeffs = (30.0, 0.0, 500000.0, 0.0, -30.0, 4200000.0)
    assert split_transform(coeffs, "EPSG:32633") == split_transform(Affine(*coeffs), 32633)


@pytest.mark.parametrize(
    ("transform", "match"),
    [
        ((1, 2, 3), "6 coefficients"),
        (Affine(0, 0, 1, 0, 0, 1), "invertible"),
        ((10, 0, float("nan"), 0, -10, 0), "finite"),
        ("not a transform", "affine.Affine or a 6-tuple"),
    ],
)
def test_bad_transforms_are_explained(transform, match):
    with pytest.raises(TransformError, match=match):
        GeoTensor(np.zeros((2, 2)), transform, "EPSG:32630")


@pytest.mark.parametrize(
    ("crs", "expected"),
    [
        ("EPSG:32630", "EPSG:32630"),
        ("epsg:32630", "EPSG:32630"),
        (32630, "EPSG:32630"),
        (pyproj.CRS.from_epsg(4326), "EPSG:4326"),
        (rasterio.crs.CRS.from_epsg(3035), "EPSG:3035"),
        (pyproj.CRS.from_epsg(32630).to_wkt(), "EPSG:32630"),
        ("OGC:CRS84", "OGC:CRS84"),
    ],
)
def test_canonical_crs_prefers_an_exact_authority_code(crs, expected):
    assert canonical_crs(crs) == expected


def test_canonical_crs_falls_back_to_wkt2_that_pyproj_reads_back():
    proj = "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 +units=m"
    text = canonical_crs(proj)
    assert text.startswith("PROJCRS[")
    assert pyproj.CRS(text).equals(pyproj.CRS(proj))
    assert canonical_crs(text) == text  # idempotent


def test_unknown_crs_is_explained():
    with pytest.raises(CRSError, match=r"pyproj\.CRS\.from_user_input accepts.*'EPSG:99999999'"):
        GeoTensor(np.zeros((2, 2)), UTM_SOUTH, "EPSG:99999999")


def test_lattice_is_hashable_and_cheap_static_data():
    lattice, _ = split_transform(UTM_SOUTH, "EPSG:32630")
    assert hash(lattice) == hash(Lattice(10.0, 0.0, 0.0, 0.0, -10.0, 0.0, "EPSG:32630"))
    assert all(isinstance(getattr(lattice, k), float) for k in "abcdef")
    assert isinstance(lattice.crs, str)


def test_rotated_grid_near_the_crs_origin_roundtrips():
    # here c - shift may not round-trip; the origin then stays unreduced at offset (0, 0)
    rng = random.Random(5)
    fallbacks = 0
    for _ in range(300):
        x0, y0 = rng.uniform(-100, 100), rng.uniform(-100, 100)
        transform = Affine.translation(x0, y0) @ Affine.rotation(37) @ Affine.scale(60, -60)
        lattice, offset = _roundtrip(transform)
        fallbacks += offset == (0, 0) and (lattice.c, lattice.f) == (x0, y0)
    assert fallbacks > 0
