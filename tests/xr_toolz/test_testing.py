"""xr_toolz.testing.reanalysis_like is what it says: leap days, CF attrs, a recoverable signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from xr_toolz.testing import reanalysis_like


def test_shape_dims_and_daily_calendar_with_a_leap_year():
    x = reanalysis_like()
    assert x.dims == ("time", "lat", "lon") and x.shape == (1096, 8, 16)
    assert x.dtype == np.float64 and x.name == "t2m"
    np.testing.assert_array_equal(
        x.time.values, pd.date_range("2019-01-01", "2021-12-31", freq="D").values
    )
    assert x.sel(time="2020-02-29").sizes["lat"] == 8  # the leap day is there
    assert int((x.time.dt.dayofyear == 366).sum()) == 1
    assert str(x.time.values[x.time.dt.dayofyear.values == 366][0])[:10] == "2020-12-31"


def test_cf_attributes():
    x = reanalysis_like()
    assert x.attrs == {
        "units": "K",
        "standard_name": "air_temperature",
        "long_name": "2 metre temperature",
    }
    assert x.lat.attrs["units"] == "degrees_north" and x.lat.attrs["standard_name"] == "latitude"
    assert x.lon.attrs["units"] == "degrees_east" and x.lon.attrs["standard_name"] == "longitude"
    assert x.time.attrs["standard_name"] == "time"
    np.testing.assert_allclose(x.lat.values, np.linspace(-78.75, 78.75, 8))
    assert x.lon.values.min() > 0 and x.lon.values.max() < 360
    ds = reanalysis_like(as_dataset=True)
    assert isinstance(ds, xr.Dataset) and ds.attrs["Conventions"] == "CF-1.8"
    xr.testing.assert_identical(ds.t2m, x)


def test_deterministic_per_seed():
    xr.testing.assert_identical(reanalysis_like(seed=5), reanalysis_like(seed=5))
    assert not np.array_equal(reanalysis_like(seed=5).values, reanalysis_like(seed=6).values)


def test_noise_free_field_is_the_formula_by_hand():
    x = reanalysis_like(nlat=4, nlon=2, noise=0.0, trend_per_year=0.365)
    # lat = 67.5 N, 2020-01-16 = day 380 since 2019-01-01.
    t, lat = 380.0, np.deg2rad(67.5)
    want = (
        288 - 30 * np.sin(lat) ** 2 - 15 * np.sin(lat) * np.cos(2 * np.pi * (t - 15) / 365.25)
        + 0.365 * t / 365.25
    )  # fmt: skip
    np.testing.assert_allclose(x.sel(time="2020-01-16", lat=67.5).values, [want, want])


@pytest.mark.parametrize("beta", [0.5, -1.2])
def test_trend_and_seasonal_amplitude_are_recoverable_by_least_squares(beta):
    x = reanalysis_like(nlat=4, nlon=8, trend_per_year=beta, noise=1.0, seed=11)
    t = np.arange(x.sizes["time"], dtype=np.float64)
    phase = 2 * np.pi * (t - 15) / 365.25
    design = np.stack([np.ones_like(t), t / 365.25, np.cos(phase), np.sin(phase)], axis=1)
    series = x.values.reshape(x.sizes["time"], -1)
    coef, *_ = np.linalg.lstsq(design, series, rcond=None)
    np.testing.assert_allclose(coef[1], beta, atol=0.15)  # 1096 days of sigma=1 noise
    amp = -15 * np.sin(np.deg2rad(np.repeat(x.lat.values, 8)))
    np.testing.assert_allclose(coef[2], amp, atol=0.15)
    residual = series - design @ coef
    np.testing.assert_allclose(residual.std(axis=0), 1.0, atol=0.1)


def test_bad_arguments_teach():
    with pytest.raises(ValueError, match=r"reanalysis_like: nlat and nlon must be >= 1"):
        reanalysis_like(nlat=0)
    with pytest.raises(ValueError, match=r"reanalysis_like: no day from start"):
        reanalysis_like("2021-01-02", "2021-01-01")
