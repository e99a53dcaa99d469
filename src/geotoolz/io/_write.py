"""``WriteCOG``: write each GeoTensor that flows past as a Cloud-Optimized GeoTIFF."""

from __future__ import annotations

import logging
import os
import string
from typing import Any, get_args

import equinox as eqx
import jax

import pipekit as pk
from geocatalog import Compression, GeoTensor, OverviewResampling, save_cog
from pipekit.repro import output_sha256
from pipekit.validate import check_bool, check_int

from .._errors import GeotoolzTypeError

__all__ = ["TEMPLATE_FIELDS", "WriteCOG"]

logger = logging.getLogger(__name__)

#: The fields a ``WriteCOG`` path template may use.
TEMPLATE_FIELDS: tuple[str, ...] = (
    "hash",
    "left",
    "bottom",
    "right",
    "top",
    "height",
    "width",
    "count",
)


def _fields(gt: GeoTensor) -> dict[str, Any]:
    left, bottom, right, top = gt.bounds
    shape = tuple(gt.shape)
    return {
        "hash": output_sha256(gt).removeprefix("sha256:"),
        "left": left,
        "bottom": bottom,
        "right": right,
        "top": top,
        "height": shape[-2],
        "width": shape[-1],
        "count": shape[-3] if len(shape) == 3 else 1,
    }


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        raise pk.ConfigError(f"WriteCOG: {name} must be one of {list(allowed)}, got {value!r}")
    return value.lower()


def _check_template(template: object) -> str:
    if not isinstance(template, str | os.PathLike):
        raise pk.ConfigError(
            f"WriteCOG: path_template must be a path string such as 'out/{{hash}}.tif', got "
            f"{template!r}"
        )
    text = os.fspath(template)
    if not isinstance(text, str) or not text.strip():
        raise pk.ConfigError(f"WriteCOG: path_template must be a non-empty string, got {text!r}")
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as err:
        raise pk.ConfigError(
            f"WriteCOG: path_template {text!r} is not a format string ({err}); write literal "
            "braces as '{{' and '}}'"
        ) from None
    for _, field, _, _ in parsed:
        if field is not None and field not in TEMPLATE_FIELDS:
            raise pk.ConfigError(
                f"WriteCOG: path_template {text!r} uses the field {{{field}}}; the fields are "
                f"{list(TEMPLATE_FIELDS)} (no positional, attribute or item access)"
            )
    sample = {
        "hash": "0" * 64,
        "left": 0.5,
        "bottom": 0.5,
        "right": 1.5,
        "top": 1.5,
        "height": 1,
        "width": 1,
        "count": 1,
    }
    try:
        text.format(**sample)
    except (ValueError, TypeError) as err:
        raise pk.ConfigError(
            f"WriteCOG: path_template {text!r} cannot be formatted ({err}); hash is a string, "
            "left/bottom/right/top floats, height/width/count ints (e.g. '{left:.0f}')"
        ) from None
    return text


class WriteCOG(pk.Operator):
    """Write the incoming GeoTensor as a COG at ``path_template.format(...)``; return the input.

    The file is written by :func:`geocatalog.save_cog`: atomically (a temporary file in
    the same directory, moved into place; nothing partial is left on failure, and an
    existing file at the path stays untouched then), with the GeoTensor's transform, CRS
    and nodata (``fill_value``). Local parent directories are created.

    The path is ``path_template.format(**fields)`` with these fields of the input (all
    deterministic, so a rerun on the same data writes the same file name; no counters):

    - ``hash``: the content hash of the GeoTensor (values, transform, CRS), 64 hex digits,
      :func:`pipekit.repro.output_sha256`; shorten it with a format spec: ``{hash:.16}``.
    - ``left``, ``bottom``, ``right``, ``top``: its bounds (floats, CRS units):
      ``{left:.0f}_{top:.0f}``.
    - ``height``, ``width``, ``count``: pixels and bands.

    Returns the input unchanged, so the writer can sit anywhere in a pipeline (an
    intermediate product written on the way, the flow going on to an index or a QC step);
    :meth:`path_for` gives the path a GeoTensor is written to.

    Host I/O: call it eagerly, outside ``jit`` / ``vmap`` (run the compiled part of a
    pipeline first, then the writer on its concrete output). ``side_effects``: the
    sandboxed YAML loader never builds it (an untrusted document must not choose where
    this process writes) and :func:`pipekit.registry.public_operators` leaves it out of
    allow-lists; trusted YAML (:func:`pipekit.loads_yaml`) builds it.

    Args:
        path_template: destination, a local path or ``s3://`` URI with the fields above.
        compress, blocksize, overviews, overview_resampling: as :func:`geocatalog.save_cog`.

    Example:
        >>> import os, tempfile
        >>> import geotoolz as gz
        >>> from geocatalog.testing import synthetic_scene
        >>> d = tempfile.mkdtemp()
        >>> op = gz.io.WriteCOG(os.path.join(d, "{left:.0f}_{top:.0f}.tif"))
        >>> gt = synthetic_scene(32, 32)
        >>> op(gt) is gt, os.listdir(d)
        (True, ['399960_4500000.tif'])
    """

    path_template: str = eqx.field(static=True)
    compress: str = eqx.field(static=True)
    blocksize: int = eqx.field(static=True)
    overviews: bool = eqx.field(static=True)
    overview_resampling: str = eqx.field(static=True)
    side_effects = True

    def __init__(
        self,
        path_template: str,
        compress: str = "deflate",
        blocksize: int = 512,
        overviews: bool = True,
        overview_resampling: str = "nearest",
    ) -> None:
        self.path_template = _check_template(path_template)
        self.compress = _check_choice("compress", compress, get_args(Compression))
        self.blocksize = int(check_int("WriteCOG", "blocksize", blocksize, minimum=16) or 0)
        if self.blocksize % 16:
            raise pk.ConfigError(
                f"WriteCOG: blocksize must be a multiple of 16 (COG tiles), got {blocksize!r}"
            )
        check_bool("WriteCOG", "overviews", overviews)
        self.overviews = overviews
        self.overview_resampling = _check_choice(
            "overview_resampling", overview_resampling, get_args(OverviewResampling)
        )

    def path_for(self, x: GeoTensor) -> str:
        """The path ``x`` is written to: ``path_template`` formatted with ``x``'s fields."""
        return self.path_template.format(**_fields(self._check_input(x)))

    def _check_input(self, x: Any) -> GeoTensor:
        if not isinstance(x, GeoTensor):
            raise GeotoolzTypeError(
                f"WriteCOG writes a GeoTensor (values with a transform and CRS), got "
                f"{type(x).__name__}; wrap bare arrays with geotoolz.GeoTensor(values, "
                "transform, crs) first"
            )
        if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x)):
            raise GeotoolzTypeError(
                "WriteCOG writes files on the host and cannot run inside jit / vmap: the "
                "values are traced there. Run the compiled steps first and write their "
                "concrete output: out = eqx.filter_jit(pipe)(x); WriteCOG(...)(out)"
            )
        if x.batch_shape:
            raise GeotoolzTypeError(
                f"WriteCOG writes one scene per file; got a stack of batch shape "
                f"{x.batch_shape}. Apply it to each of geocatalog.unstack(x)."
            )
        return x

    def _apply(self, x: Any) -> Any:
        gt = self._check_input(x)
        path = self.path_template.format(**_fields(gt))
        if "://" not in path:
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
        save_cog(
            gt,
            path,
            compress=self.compress,  # type: ignore[arg-type]
            blocksize=self.blocksize,
            overviews=self.overviews,
            overview_resampling=self.overview_resampling,  # type: ignore[arg-type]
        )
        logger.info("WriteCOG wrote %s", path)
        return x
