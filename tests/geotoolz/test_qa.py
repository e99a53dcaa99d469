"""geotoolz.qa: CRS, resolution and band-schema checks, eager, under jit and vmap, all policies.

Oracles: scenes built with a known CRS, pixel size and band names (pyproj writes the WKT of
the CRS a DataArray carries), and the Case 8 seed pipeline as written.
"""

import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pyproj
import pytest
import xarray as xr
from affine import Affine

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
from geocatalog.testing import S2_BANDS, synthetic_scene
from pipekit.qc import QCError, QCWarning

SEED_CHECKS = [
    gz.qa.AssertCRSEquals("EPSG:32630"),
    gz.qa.AssertResolutionWithin((9.5, 10.5)),
    gz.qa.AssertSchema(bands=["B02", "B03", "B04", "B08", "QA60"]),
]


def with_policy(op, on_error):
    """The same check with another ``on_error`` (rebuilt from its config)."""
    config = {k: v for k, v in op.get_config().items() if k != "_target_"}
    return type(op)(**{**config, "on_error": on_error})


def scene(**kwargs):
    return synthetic_scene(16, 24, seed=3, **kwargs)


def bad_scenes():
    """One scene per check that fails exactly that check: (check name, op, scene, observed)."""
    good = scene()
    coarse = scene(transform=Affine(20, 0, 399960, 0, -20, 4500000))
    return [
        ("crs", SEED_CHECKS[0], scene(crs="EPSG:32631"), "EPSG:32631"),
        ("resolution", SEED_CHECKS[1], coarse, (20.0, 20.0)),
        ("schema", SEED_CHECKS[2], gz.fusion.SelectBands((0, 1, 2, 3))(good), S2_BANDS[:4]),
    ]


# ------------------------------------------------------------------ Case 8 seed usage


def test_case8_seed_checks_as_written_pass_a_good_scene_eager_and_jit():
    qc = pk.Sequential(
        [pk.qc.AssertShape((-1, -1, -1)), pk.qc.AssertHasAttribute("crs"), *SEED_CHECKS]
    )
    good = scene()
    assert qc(good) is good
    on_device = jax.tree.map(jnp.asarray, good)
    out = eqx.filter_jit(qc)(on_device)
    np.testing.assert_array_equal(out.values, good.values)
    assert out.band_names == S2_BANDS and out.transform == good.transform
    batch = gc.stack([good, good])
    assert eqx.filter_vmap(qc)(batch).shape == (2, 13, 16, 24)


@pytest.mark.parametrize("i", range(3))
def test_each_check_fails_with_its_name_eager_and_under_jit(i):
    check, op, bad, observed = bad_scenes()[i]
    name = type(op).__name__
    for run in (op, eqx.filter_jit(op)):
        with pytest.raises(QCError, match=rf"^{name}\(.*\) failed: expected") as info:
            run(jax.tree.map(jnp.asarray, bad) if run is not op else bad)
        assert info.value.check == check and info.value.observed == observed
        assert info.value.operator == op
    others = [o for o in SEED_CHECKS if o is not op]
    for other in others:  # the other two pass: each bad scene is bad in one way only
        assert other(bad) is bad


@pytest.mark.parametrize("i", range(3))
def test_warn_and_log_and_continue_return_the_input(i, caplog):
    check, op, bad, _ = bad_scenes()[i]
    name = type(op).__name__
    warn = with_policy(op, "warn")
    with pytest.warns(QCWarning, match=rf"^{name}\(.*on_error='warn'\) failed") as record:
        assert warn(bad) is bad
    assert record[0].message.check == check
    log = with_policy(op, "log_and_continue")
    with caplog.at_level(logging.WARNING, logger="pipekit.qc"):
        assert log(bad) is bad
    assert len(caplog.records) == 1 and caplog.records[0].name == "pipekit.qc"
    assert f"{name}(" in caplog.records[0].getMessage()


def test_warn_under_jit_fires_once_per_trace():
    bad = bad_scenes()[0][2]
    warn = gz.qa.AssertCRSEquals("EPSG:32630", on_error="warn")
    jitted = eqx.filter_jit(warn)
    on_device = jax.tree.map(jnp.asarray, bad)
    with pytest.warns(QCWarning, match="observed 'EPSG:32631'"):
        jitted(on_device)
    jitted(on_device)  # cached: no trace, no warning (warnings are errors in this suite)


# ------------------------------------------------------------------ each check's rules


def test_crs_is_compared_in_canonical_form():
    good = scene()
    wkt = pyproj.CRS.from_epsg(32630).to_wkt()
    for spelling in ("epsg:32630", 32630, wkt, pyproj.CRS.from_epsg(32630)):
        op = gz.qa.AssertCRSEquals(spelling)
        assert op.crs == "EPSG:32630" and op(good) is good


def test_resolution_uses_absolute_sizes_of_both_axes():
    south_up = scene(transform=Affine(10, 0, 399960, 0, 10, 4400000))  # e > 0
    assert gz.qa.AssertResolutionWithin((10, 10))(south_up) is south_up
    oblong = scene(transform=Affine(10, 0, 399960, 0, -20, 4500000))
    with pytest.raises(QCError, match=r"observed \(10.0, 20.0\)"):
        gz.qa.AssertResolutionWithin((9.5, 10.5))(oblong)
    assert gz.qa.AssertResolutionWithin((10, 20))(oblong) is oblong


def test_schema_subset_any_order_exact_in_order_and_missing_names():
    good = scene()
    assert gz.qa.AssertSchema(["QA60", "B08", "B02"])(good) is good
    assert gz.qa.AssertSchema(list(S2_BANDS), exact=True)(good) is good
    with pytest.raises(QCError, match=r"in this order; observed \('B02'"):
        gz.qa.AssertSchema(["B03", "B02", *S2_BANDS[2:]], exact=True)(good)
    with pytest.raises(QCError, match=r"missing \['B99'\]"):
        gz.qa.AssertSchema(["B02", "B99"])(good)
    unnamed = good.replace(band_names=None)
    with pytest.raises(QCError, match=r"GeoTensor without band names: build the GeoTensor"):
        gz.qa.AssertSchema(["B02"])(unnamed)
    with pytest.raises(QCError, match="without band names"):
        gz.qa.AssertSchema(["B02"])(np.zeros((13, 4, 4)))


# ------------------------------------------------------------------ DataArrays


def dataarray(**attrs) -> xr.DataArray:
    return xr.DataArray(
        np.zeros((3, 4, 5), np.float32),
        dims=("band", "y", "x"),
        coords={"band": ["B04", "B08", "QA60"], "y": 4500000 - 10.0 * np.arange(4) - 5,
                "x": 399960 + 10.0 * np.arange(5) + 5},
        attrs=attrs,
    )  # fmt: skip


def test_dataarray_crs_from_attrs_and_grid_mapping_coordinate():
    op = gz.qa.AssertCRSEquals("EPSG:32630")
    assert op(dataarray(crs="EPSG:32630")) is not None
    assert op(dataarray(spatial_ref="epsg:32630")) is not None
    wkt = pyproj.CRS.from_epsg(32630).to_wkt()
    cf = dataarray().assign_coords(spatial_ref=xr.DataArray(0, attrs={"crs_wkt": wkt}))
    assert op(cf) is cf
    with pytest.raises(QCError, match=r"observed 'EPSG:4326'"):
        op(dataarray(crs="EPSG:4326"))
    with pytest.raises(QCError, match=r"DataArray without a CRS: set attrs\['crs'\]"):
        op(dataarray())
    with pytest.raises(QCError, match="CRS pyproj cannot read"):
        op(dataarray(crs="not a crs"))


def test_dataarray_resolution_from_attrs_or_coordinate_spacing():
    op = gz.qa.AssertResolutionWithin((9.5, 10.5))
    da = dataarray()
    assert op(da) is da  # spacing of y (-10) and x (+10)
    assert op(dataarray(res=(10.0, 10.0))) is not None
    with pytest.raises(QCError, match=r"observed \(30.0, 30.0\)"):
        op(dataarray(res=30))
    with pytest.raises(QCError, match="not regular"):
        op(da.assign_coords(x=[0.0, 10.0, 25.0, 30.0, 40.0]))
    with pytest.raises(QCError, match="without attrs\\['res'\\] or coordinates"):
        op(xr.DataArray(np.zeros((4, 5)), dims=("y", "x")))
    with pytest.raises(QCError, match="ndarray without a pixel size"):
        op(np.zeros((4, 5)))


def test_dataarray_schema_from_band_coordinate():
    da = dataarray()
    assert gz.qa.AssertSchema(["QA60", "B04"])(da) is da
    with pytest.raises(QCError, match=r"missing \['B02'\]"):
        gz.qa.AssertSchema(["B02"])(da)


# ------------------------------------------------------------------ construction


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: gz.qa.AssertCRSEquals("EPSG:99999999"), r"AssertCRSEquals: crs must be a CRS"),
        (lambda: gz.qa.AssertCRSEquals(None), r"AssertCRSEquals: crs must be a CRS"),
        (lambda: gz.qa.AssertResolutionWithin((10.5, 9.5)), r"0 <= lo <= hi.*got \(10.5, 9.5\)"),
        (lambda: gz.qa.AssertResolutionWithin((-1, 2)), r"AssertResolutionWithin: bounds must"),
        (lambda: gz.qa.AssertResolutionWithin((1, 2, 3)), r"bounds must be \(lo, hi\)"),
        (lambda: gz.qa.AssertResolutionWithin(10), r"bounds must be \(lo, hi\).*got 10"),
        (lambda: gz.qa.AssertResolutionWithin((0, float("inf"))), r"two finite numbers"),
        (lambda: gz.qa.AssertResolutionWithin((True, 2)), r"bounds must be"),
        (lambda: gz.qa.AssertSchema("B02"), r"Wrap one name in a list: bands=\['B02'\]"),
        (lambda: gz.qa.AssertSchema([]), r"non-empty list of band names"),
        (lambda: gz.qa.AssertSchema(["B02", 3]), r"non-empty list of band names"),
        (lambda: gz.qa.AssertSchema(["B02", "B02"]), r"unique, got \['B02'\]"),
        (lambda: gz.qa.AssertSchema(["B02"], exact="yes"), r"AssertSchema\(exact\) expects a bool"),
        (lambda: gz.qa.AssertSchema(["B02"], on_error="skip"), r"AssertSchema\(on_error\)"),
        (lambda: gz.qa.AssertCRSEquals(32630, on_error="log"), r"renamed 'log_and_continue'"),
    ],
)
def test_arguments_are_validated_at_construction(build, match):
    with pytest.raises(pk.ConfigError, match=match):
        build()


def test_old_on_fail_keyword_names_on_error():
    with pytest.raises(TypeError, match="on_error"):
        gz.qa.AssertSchema(["B02"], on_fail="warn")


def test_yaml_round_trip_keeps_canonical_config():
    qc = pk.Sequential([*SEED_CHECKS, gz.qa.AssertCRSEquals(32630, on_error="warn")])
    back = pk.loads_yaml(pk.dumps_yaml(qc))
    assert back == qc and pk.config_hash(back) == pk.config_hash(qc)
    assert back[3].crs == "EPSG:32630" and back[2].bands == ("B02", "B03", "B04", "B08", "QA60")
