"""Geo QC checks: the CRS, the pixel size and the band schema of a carrier.

They extend :mod:`pipekit.qc` (same base, same ``on_error`` policy) with what only a
georeferenced carrier has. All three are static: a GeoTensor's CRS, resolution (its
lattice) and band names are static fields, so under ``jax.jit`` / ``eqx.filter_jit`` the
checks run once at trace time and add nothing to the compiled program.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import equinox as eqx

import pipekit as pk
from geocatalog import CRSError, canonical_crs
from pipekit.qc import AbstractAssertion, OnError, check_qc_on_error
from pipekit.validate import check_bool, renamed_arguments

from .._carrier import band_names_of
from ._georef import crs_of, res_of

__all__ = ["AssertCRSEquals", "AssertResolutionWithin", "AssertSchema"]


class AssertCRSEquals(AbstractAssertion):
    """Check that the input's CRS is ``crs`` (compared as canonical CRS strings).

    Both sides go through :func:`geocatalog.canonical_crs`, so ``"epsg:32630"``, ``32630``
    and the WKT of UTM 30N all equal ``"EPSG:32630"``. GeoTensor: its static CRS; DataArray:
    ``attrs["crs"]`` / ``attrs["spatial_ref"]`` or a ``spatial_ref`` grid-mapping coordinate;
    an input without a CRS fails, saying so.

    Arguments:
        crs: the expected CRS, anything ``pyproj.CRS.from_user_input`` accepts; stored in
            canonical form (``"EPSG:32630"``), which is what YAML and ``config_hash`` see.
        on_error: ``"raise"`` (QCError), ``"warn"`` (QCWarning) or ``"log_and_continue"``.

    Example:
        >>> import geotoolz as gz
        >>> from geocatalog.testing import synthetic_scene
        >>> scene = synthetic_scene(16, 16)
        >>> gz.qa.AssertCRSEquals("epsg:32630")(scene) is scene
        True
        >>> gz.qa.AssertCRSEquals(32631)(scene)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        pipekit.qc.QCError: AssertCRSEquals(crs='EPSG:32631', on_error='raise') failed: ...
    """

    crs: str = eqx.field(static=True)
    on_error: OnError = eqx.field(static=True)

    @renamed_arguments
    def __init__(self, crs: Any, on_error: OnError = "raise") -> None:
        try:
            self.crs = canonical_crs(crs)
        except CRSError as err:
            raise pk.ConfigError(
                f"AssertCRSEquals: crs must be a CRS pyproj can read (e.g. 'EPSG:32630', an "
                f"EPSG code, WKT), got {crs!r}. {err}"
            ) from None
        self.on_error = check_qc_on_error("AssertCRSEquals", on_error)

    def _check(self, x: Any) -> tuple[str, str, Any] | None:
        seen, why = crs_of(x)
        if seen is None:
            return "crs", f"an input with CRS {self.crs}", why
        return None if seen == self.crs else ("crs", f"CRS {self.crs}", seen)


class AssertResolutionWithin(AbstractAssertion):
    """Check that both pixel sizes ``|xres|`` and ``|yres|`` lie within ``[lo, hi]``.

    In CRS units (metres for UTM, degrees for EPSG:4326). GeoTensor: ``res`` of its static
    lattice; DataArray: ``attrs["res"]``, else the spacing of its ``y``/``x`` coordinates.

    Arguments:
        bounds: ``(lo, hi)``, finite, ``0 <= lo <= hi``, e.g. ``(9.5, 10.5)`` for a 10 m grid.
        on_error: ``"raise"`` (QCError), ``"warn"`` (QCWarning) or ``"log_and_continue"``.

    Example:
        >>> import geotoolz as gz
        >>> from geocatalog.testing import synthetic_scene
        >>> scene = synthetic_scene(16, 16)  # 10 m pixels
        >>> gz.qa.AssertResolutionWithin((9.5, 10.5))(scene) is scene
        True
    """

    bounds: tuple[float, float] = eqx.field(static=True)
    on_error: OnError = eqx.field(static=True)

    @renamed_arguments
    def __init__(self, bounds: tuple[float, float], on_error: OnError = "raise") -> None:
        try:
            lo, hi = (float(b) for b in bounds)
            ok = all(not isinstance(b, bool) for b in bounds) and 0 <= lo <= hi < math.inf
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise pk.ConfigError(
                f"AssertResolutionWithin: bounds must be (lo, hi), two finite numbers with "
                f"0 <= lo <= hi (pixel sizes in CRS units), got {bounds!r}. For a 10 m grid "
                "pass bounds=(9.5, 10.5)."
            )
        self.bounds = (lo, hi)
        self.on_error = check_qc_on_error("AssertResolutionWithin", on_error)

    def _check(self, x: Any) -> tuple[str, str, Any] | None:
        lo, hi = self.bounds
        want = f"|xres| and |yres| within [{lo}, {hi}]"
        res, why = res_of(x)
        if res is None:
            return "resolution", want, why
        return None if all(lo <= r <= hi for r in res) else ("resolution", want, res)


class AssertSchema(AbstractAssertion):
    """Check the input's band names: all of ``bands`` present, or exactly ``bands`` in order.

    Band names come from the carrier (:func:`pipekit_array.band_names_of`): a GeoTensor's
    ``band_names``, a DataArray's string coordinate on its band dimension. An input without
    band names fails, saying so: band indices alone cannot prove which band is which.

    Arguments:
        bands: the band names, unique strings, e.g. ``["B02", "B03", "B04", "B08", "QA60"]``.
        exact: False (default): every name of ``bands`` is present, in any order, others
            allowed. True: the input's names equal ``bands``, in that order.
        on_error: ``"raise"`` (QCError), ``"warn"`` (QCWarning) or ``"log_and_continue"``.

    Example:
        >>> import geotoolz as gz
        >>> from geocatalog.testing import synthetic_scene
        >>> scene = synthetic_scene(16, 16)
        >>> gz.qa.AssertSchema(bands=["B08", "B04", "QA60"])(scene) is scene
        True
        >>> gz.qa.AssertSchema(["B04", "B08"], exact=True)(scene)
        ... # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        pipekit.qc.QCError: AssertSchema(...) failed: ...
    """

    bands: tuple[str, ...] = eqx.field(static=True)
    exact: bool = eqx.field(static=True)
    on_error: OnError = eqx.field(static=True)

    @renamed_arguments
    def __init__(
        self, bands: Sequence[str], exact: bool = False, on_error: OnError = "raise"
    ) -> None:
        names = None if isinstance(bands, str) or not isinstance(bands, Sequence) else bands
        if not names or not all(isinstance(b, str) and b for b in names):
            fix = f" Wrap one name in a list: bands=[{bands!r}]." if isinstance(bands, str) else ""
            raise pk.ConfigError(
                f"AssertSchema: bands must be a non-empty list of band names (strings), got "
                f"{bands!r}.{fix}"
            )
        duplicates = sorted({b for b in names if list(names).count(b) > 1})
        if duplicates:
            raise pk.ConfigError(
                f"AssertSchema: bands must be unique, got {duplicates} more than once in "
                f"{list(names)!r}"
            )
        check_bool("AssertSchema", "exact", exact)
        self.bands = tuple(names)
        self.exact = exact
        self.on_error = check_qc_on_error("AssertSchema", on_error)

    def _check(self, x: Any) -> tuple[str, str, Any] | None:
        wanted = list(self.bands)
        want = f"band names {wanted} in this order" if self.exact else f"bands {wanted} present"
        names = band_names_of(x)
        if names is None:
            return (
                "schema",
                want,
                (
                    f"a {type(x).__name__} without band names: build the GeoTensor with "
                    "band_names=(...), read a file with band descriptions, or give a DataArray "
                    "a string coordinate on its band dimension"
                ),
            )
        if self.exact:
            return None if names == self.bands else ("schema", want, names)
        missing = [b for b in self.bands if b not in names]
        return ("schema", f"{want} (missing {missing})", names) if missing else None
