"""Object storage: map URIs onto GDAL paths and pyarrow filesystems, configured from ``AWS_*``.

One place knows about ``s3://``: :func:`gdal_path` names the file GDAL opens, :func:`gdal_env`
translates the standard AWS environment variables into GDAL config options around an open,
and :func:`filesystem` gives the pyarrow filesystem (with the same endpoint) for Parquet
reads and uploads.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import urllib.parse
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.fs as pafs

from ._atomic import remove_stale_temps, sigterm_cleanup, temp_path
from ._errors import GeoValueError, MissingTransformError, RasterReadError

if TYPE_CHECKING:  # rasterio is imported on use: reading a catalog needs no GDAL
    from rasterio.io import DatasetReader

__all__ = [
    "check_container",
    "exists",
    "filesystem",
    "gdal_env",
    "gdal_path",
    "is_remote",
    "join",
    "list_names",
    "missing",
    "open_raster",
    "read_text",
    "upload",
    "write_bytes",
    "write_text",
]

_VSI = {"http": "/vsicurl/", "https": "/vsicurl/", "s3": "/vsis3/", "gs": "/vsigs/"}
#: ``s3://`` prefixes (as GDAL ``/vsis3/`` paths) this process has overwritten: GDAL must not
#: serve them from its per-process cache of remote file sizes and blocks.
_WRITTEN: set[str] = set()


def _scheme(href: str) -> str:
    return urllib.parse.urlsplit(href).scheme.lower() if "://" in href else ""


def is_remote(path: str | os.PathLike) -> bool:
    """Whether ``path`` names something other than a local file (a URL or a GDAL ``/vsi`` path).

    Example:
        >>> is_remote("s3://b/k.tif"), is_remote("/data/a.tif"), is_remote("file:///a.tif")
        (True, False, False)
    """
    path = os.fspath(path)
    return path.startswith("/vsi") or _scheme(path) not in ("", "file")


def gdal_path(href: str | os.PathLike) -> str:
    """Map a path or URL onto the name GDAL opens: ``https://`` -> ``/vsicurl/https://``, ...

    Example:
        >>> gdal_path("s3://bucket/a.tif"), gdal_path("file:///data/a%20b.tif")
        ('/vsis3/bucket/a.tif', '/data/a b.tif')
        >>> gdal_path("https://host/a.tif")
        '/vsicurl/https://host/a.tif'
    """
    href = os.fspath(href)
    scheme = _scheme(href)
    if not scheme:
        return href
    if scheme == "file":
        return urllib.parse.unquote(urllib.parse.urlsplit(href).path)
    if scheme in ("http", "https"):
        return _VSI[scheme] + href
    if scheme in _VSI:
        return _VSI[scheme] + href.split("://", 1)[1]
    raise GeoValueError(
        f"read_from_url: unsupported URL scheme {scheme!r} in {href!r}; supported are local "
        f"paths, file://, {', '.join(s + '://' for s in _VSI)} and GDAL /vsi... paths."
    )


def _endpoint() -> urllib.parse.SplitResult | None:
    """The custom S3 endpoint of ``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``), parsed."""
    url = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if not url:
        return None
    parts = urllib.parse.urlsplit(url if "://" in url else "https://" + url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GeoValueError(
            f"AWS_ENDPOINT_URL(_S3) must be an http(s) URL such as 'http://127.0.0.1:9000'; "
            f"received {url!r}. Fix or unset the environment variable."
        )
    return parts


def _gdal_options() -> dict[str, str]:
    """GDAL config options for the endpoint in the environment; explicit GDAL settings win."""
    options: dict[str, str] = {}
    endpoint = _endpoint()
    if endpoint is not None:
        options["AWS_S3_ENDPOINT"] = endpoint.netloc + endpoint.path.rstrip("/")
        options["AWS_HTTPS"] = "YES" if endpoint.scheme == "https" else "NO"
        options["AWS_VIRTUAL_HOSTING"] = "FALSE"  # path-style: MinIO, moto, Ceph, ...
    if "AWS_REGION" not in os.environ and "AWS_DEFAULT_REGION" in os.environ:
        options["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"]
    import rasterio.env

    current = rasterio.env.getenv() if rasterio.env.hasenv() else {}
    options = {k: v for k, v in options.items() if k not in os.environ and k not in current}
    if _WRITTEN:
        options["CPL_VSIL_CURL_NON_CACHED"] = ":".join(sorted(_WRITTEN))
    return options


@contextmanager
def gdal_env() -> Iterator[None]:
    """A ``rasterio.Env`` with GDAL's S3 options taken from the standard AWS variables.

    ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` (``http://host:port``) become GDAL's
    ``AWS_S3_ENDPOINT``, ``AWS_HTTPS`` and ``AWS_VIRTUAL_HOSTING=FALSE`` (path-style
    addressing, as S3-compatible servers expect); ``AWS_DEFAULT_REGION`` becomes
    ``AWS_REGION``. Credentials (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
    ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``) are read by GDAL / rasterio themselves. An option
    already set in the environment or an enclosing ``rasterio.Env`` is left as it is. The
    options are scoped: they are restored when the block exits.

    Example:
        >>> with gdal_env():
        ...     pass
    """
    import rasterio

    with rasterio.Env(**_gdal_options()):
        yield


def filesystem(uri: str | os.PathLike) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem holding ``uri`` and the path of ``uri`` inside it.

    ``s3://`` with ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` set gives an explicit
    ``S3FileSystem`` on that endpoint (credentials and region from ``AWS_*``); other URIs go
    through ``pyarrow.fs.FileSystem.from_uri``; local paths through ``LocalFileSystem``.

    Example:
        >>> fs, path = filesystem("/tmp/a.parquet")
        >>> type(fs).__name__, path
        ('LocalFileSystem', '/tmp/a.parquet')
    """
    uri = os.fspath(uri)
    scheme = _scheme(uri)
    if scheme in ("", "file"):
        return pafs.LocalFileSystem(), gdal_path(uri)
    endpoint = _endpoint() if scheme == "s3" else None
    if endpoint is None:
        try:
            return pafs.FileSystem.from_uri(uri)
        except (pa.ArrowInvalid, OSError) as err:
            raise GeoValueError(
                f"cannot open a pyarrow filesystem for {uri!r} ({err}). Check the URI, the "
                "network and the AWS_* credentials; for an S3-compatible server set "
                "AWS_ENDPOINT_URL (e.g. http://127.0.0.1:9000)."
            ) from None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    s3 = pafs.S3FileSystem(
        access_key=os.environ.get("AWS_ACCESS_KEY_ID"),
        secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
        session_token=os.environ.get("AWS_SESSION_TOKEN"),
        region=region,
        scheme=endpoint.scheme,
        endpoint_override=endpoint.netloc + endpoint.path.rstrip("/"),
    )
    return s3, uri.split("://", 1)[1]


def exists(uri: str | os.PathLike) -> bool:
    """Whether ``uri`` names an existing file (one ``HEAD`` request for object storage)."""
    fs, path = filesystem(uri)
    return fs.get_file_info(path).type == pafs.FileType.File


def missing(uri: str | os.PathLike, who: str, what: str = "raster") -> FileNotFoundError:
    """The error for a ``uri`` that does not exist: a ``FileNotFoundError`` naming it."""
    where = "object" if is_remote(uri) else "file"
    return FileNotFoundError(errno.ENOENT, f"{who}: no {what} {where} at this path", os.fspath(uri))


@contextmanager
def open_raster(
    href: str | os.PathLike, who: str = "geocatalog.open_raster"
) -> Iterator[DatasetReader]:
    """``rasterio.open`` of a path or URL inside :func:`gdal_env`, as a context manager.

    Arguments:
        href: a local path, ``file://``, ``http(s)://``, ``s3://`` or ``/vsi...`` path.
        who: the caller's name, put first in error messages.

    A missing file raises ``FileNotFoundError``; a file GDAL cannot read raises
    :class:`~geocatalog.RasterReadError` naming the path and GDAL's cause.

    Example:
        >>> import os, tempfile, geocatalog as gc
        >>> path = os.path.join(tempfile.mkdtemp(), "a.tif")
        >>> _ = gc.save_cog(gc.testing.synthetic_scene(16, 16), path)
        >>> with gc.open_raster(path) as src:
        ...     src.count, src.crs.to_string()
        (13, 'EPSG:32630')
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    path = gdal_path(href)
    if not is_remote(path) and not os.path.exists(path):
        raise missing(path, who)
    with gdal_env():
        try:
            # No geotransform is decided below from the dataset, not by recording this
            # warning: warnings are process-wide, so another thread's (reproject emits
            # one per call) would be taken for this file's under concurrent requests.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                src = rasterio.open(path)
        except RasterioIOError as err:
            if path.startswith("/vsis3/") and not exists("s3://" + path[len("/vsis3/") :]):
                raise missing(href, who) from None
            raise _read_error(who, href, "open", err) from err
        if _not_georeferenced(src):
            src.close()
            raise MissingTransformError(
                f"{who}: {os.fspath(href)!r} has no geotransform (nor GCPs / RPCs), so GDAL "
                "would place it on the identity grid (1-unit pixels at the CRS origin). Set one "
                "(gdal_edit.py -a_ullr ulx uly lrx lry, or -a_srs and a transform) or build "
                "GeoTensor(values, transform, crs) yourself."
            )
        with src:
            try:
                yield src
            except RasterioIOError as err:
                raise _read_error(who, href, "read", err) from err


def _not_georeferenced(src: DatasetReader) -> bool:
    """rasterio's NotGeoreferencedWarning condition: identity transform, no GCPs, no RPCs.

    rasterio reports a missing geotransform as the identity (``Affine(1, 0, 0, 0, 1, 0)``,
    south-up unit pixels), which no real georeferencing uses.
    """
    return src.transform.is_identity and not src.gcps[0] and src.rpcs is None


def _read_error(who: str, href: str | os.PathLike, step: str, err: BaseException) -> Exception:
    """A :class:`RasterReadError` naming the file and every message of GDAL's error chain."""
    causes: list[str] = []
    cause: BaseException | None = err
    while cause is not None and len(causes) < 5:
        text = str(cause).strip()
        if text and text not in causes:
            causes.append(text)
        cause = cause.__cause__ or cause.__context__
    return RasterReadError(
        f"{who}: cannot {step} the raster {os.fspath(href)!r}: {' <- '.join(causes)}. The file "
        "is corrupt, truncated or not a raster GDAL reads; check it with gdalinfo, or rewrite it."
    )


def upload(local_path: str, uri: str | os.PathLike) -> None:
    """Copy the local file ``local_path`` to ``uri`` in one call (a PUT or a multipart upload).

    Note:
        S3 makes an object visible only when its PUT (or its multipart upload's completion)
        succeeds, so readers see the old object or the new one whole, never a partial one.
        The copy runs in one pyarrow call, so no Python exception can interrupt it halfway.
        GDAL caches remote file sizes and blocks per process; the destination is marked
        non-cached (``CPL_VSIL_CURL_NON_CACHED`` inside :func:`gdal_env`) so later reads in
        this process see the new object.
    """
    fs, path = filesystem(uri)
    pafs.copy_files(
        local_path, path, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs
    )
    if _scheme(os.fspath(uri)) == "s3":
        _WRITTEN.add(gdal_path(uri))


def join(base: str | os.PathLike, name: str) -> str:
    """``name`` inside the folder or prefix ``base``: ``os.path.join`` locally, ``/`` for URIs.

    Example:
        >>> join("s3://bucket/out/", "a.tif"), join("/data/out", "a.tif")
        ('s3://bucket/out/a.tif', '/data/out/a.tif')
    """
    base = os.fspath(base)
    if is_remote(base):
        return base.rstrip("/") + "/" + name
    return os.path.join(base, name)


def list_names(folder: str | os.PathLike) -> set[str]:
    """Names of the files directly inside ``folder`` (a local folder or an ``s3://`` prefix).

    One listing (paged ``ListObjectsV2`` calls on S3) instead of one request per file; a
    folder or prefix that does not exist holds nothing.
    """
    fs, path = filesystem(folder)
    selector = pafs.FileSelector(path.rstrip("/") or "/", allow_not_found=True)
    return {
        info.base_name for info in fs.get_file_info(selector) if info.type == pafs.FileType.File
    }


def check_container(folder: str | os.PathLike, who: str) -> None:
    """Make the local ``folder``, or check that the bucket of an ``s3://`` prefix exists.

    Object stores have no folders to create (a prefix exists once an object is under it),
    but a missing bucket would fail every write; say so once, before any work.
    """
    folder = os.fspath(folder)
    if not is_remote(folder):
        os.makedirs(folder, exist_ok=True)
        return
    fs, path = filesystem(folder)
    bucket = path.split("/", 1)[0]
    if fs.get_file_info(bucket).type != pafs.FileType.Directory:
        raise GeoValueError(
            f"{who}: the bucket {bucket!r} of {folder!r} does not exist or is not reachable "
            "with the AWS_* credentials and endpoint in this environment. Create the bucket, "
            "or check AWS_ENDPOINT_URL / AWS_PROFILE."
        )


def read_text(uri: str | os.PathLike) -> str | None:
    """The UTF-8 text of a local file or an object; None when there is none at ``uri``."""
    fs, path = filesystem(uri)
    if fs.get_file_info(path).type != pafs.FileType.File:
        return None
    try:
        with fs.open_input_stream(path) as fh:
            return fh.read().decode("utf-8")
    except FileNotFoundError:  # removed between the check and the read
        return None


def _fsync_dir(directory: str) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes(uri: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a local file or an object so that readers never see part of it.

    Locally: a temporary file ``.{name}.{pid}@{host}.{32 hex}.tmp`` beside the target, fsync,
    ``os.replace``, fsync of the folder; on failure or SIGTERM the temporary file is removed,
    and stale ones of dead writers are removed by the next write (see ``_atomic``). On object
    storage: a local temporary file, then one :func:`upload` (S3 shows an object only once
    its PUT completes).
    """
    uri = os.fspath(uri)
    if is_remote(uri):
        with tempfile.TemporaryDirectory(prefix="geocatalog-write-") as tmp_dir:
            local = os.path.join(tmp_dir, "data")
            with open(local, "wb") as fh:
                fh.write(data)
            upload(local, uri)
        return
    directory = os.path.dirname(os.path.abspath(uri))
    remove_stale_temps(uri)
    tmp = temp_path(uri)
    with sigterm_cleanup(f"write_bytes({uri!r})"):
        try:
            with open(tmp, "xb") as fh:  # created with the usual mode (umask applies)
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, uri)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
            raise
    _fsync_dir(directory)


def write_text(uri: str | os.PathLike, text: str) -> None:
    """:func:`write_bytes` of ``text`` encoded as UTF-8."""
    write_bytes(uri, text.encode("utf-8"))
