"""Content hashes: of files (inputs) and of pipeline outputs (arrays, pytrees, GeoTensors)."""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

import jax
import numpy as np

from ._errors import ReproError

__all__ = ["file_sha256", "normalise_sha256", "output_sha256", "sha256_bytes"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """Return ``"sha256:<64 hex>"`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def normalise_sha256(value: object, what: str) -> str:
    """Return ``value`` as ``"sha256:<64 lowercase hex>"``; accepts the bare 64 hex digits too."""
    if not isinstance(value, str):
        raise ReproError(f"{what}: expected a SHA-256 hex string, got {type(value).__name__}")
    text = value.strip().lower().removeprefix("sha256:")
    if not _HEX64.fullmatch(text):
        raise ReproError(
            f"{what}: {value!r} is not a SHA-256 digest (64 hex digits, optionally prefixed "
            "'sha256:'); compute it with pipekit.repro.file_sha256(path)"
        )
    return "sha256:" + text


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return ``"sha256:<64 hex>"`` of a file's bytes, read in 1 MiB chunks.

    Example:
        >>> import tempfile, pathlib
        >>> from pipekit.repro import file_sha256
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = pathlib.Path(d, "x.bin")
        ...     _ = p.write_bytes(b"abc")
        ...     file_sha256(p)[:19]
        'sha256:ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _update_array(digest: Any, leaf: Any, where: str) -> None:
    arr = np.asarray(leaf)
    if arr.dtype == object:
        raise ReproError(
            f"cannot hash output leaf {where} of type {type(leaf).__name__}: only arrays and "
            "numbers have a canonical byte form"
        )
    if arr.dtype.kind in "fc":
        nan = np.isnan(arr)
        if nan.any():  # one canonical NaN: sign and payload bits carry no meaning
            arr = np.where(nan, np.array(np.nan, dtype=arr.dtype), arr)
    digest.update(f"{arr.dtype.str}|{arr.shape}|".encode())
    digest.update(np.ascontiguousarray(arr).tobytes())


def output_sha256(obj: Any) -> str:
    """Return ``"sha256:<64 hex>"`` of a pipeline output, canonically.

    An object with a (non-callable) ``.values`` attribute, such as a GeoTensor or an xarray
    DataArray, is hashed as its values plus, where present, ``transform`` (its six
    coefficients) and ``crs`` (``to_string()`` or ``str``). Anything else is a pytree: the
    treedef string, then each leaf's dtype, shape and C-order bytes in tree order. Equal
    hashes therefore mean bit-identical arrays of the same dtype and shape, except that
    every NaN hashes as one canonical NaN.

    Note:
        NaN sign and payload bits are not reproducible in practice: PyYAML reads ``.nan``
        as a NaN with the sign bit set, while ``math.nan`` has it clear, so a ``fill_value``
        rebuilt from YAML writes different NaN bits than the one built in Python; IEEE 754
        gives these bits no meaning. Everything else is compared bit for bit.

    Example:
        >>> import numpy as np
        >>> from pipekit.repro import output_sha256
        >>> a = np.arange(4, dtype=np.float32)
        >>> output_sha256(a) == output_sha256(a.copy()), output_sha256(a) == output_sha256(a + 0)
        (True, True)
        >>> output_sha256(a) == output_sha256(a.astype(np.float64))
        False
        >>> output_sha256(np.array([np.nan])) == output_sha256(-np.array([np.nan]))
        True
    """
    digest = hashlib.sha256()
    values = getattr(obj, "values", None)
    if values is not None and not callable(values):
        digest.update(b"values|")
        _update_array(digest, values, "values")
        transform = getattr(obj, "transform", None)
        if transform is not None:
            coeffs = tuple(float(c) for c in tuple(transform)[:6])
            digest.update(f"|transform|{coeffs!r}".encode())
        crs = getattr(obj, "crs", None)
        if crs is not None:
            text = crs.to_string() if hasattr(crs, "to_string") else str(crs)
            digest.update(f"|crs|{text}".encode())
        return "sha256:" + digest.hexdigest()
    leaves, treedef = jax.tree.flatten(obj)
    digest.update(f"tree|{treedef}|".encode())
    for i, leaf in enumerate(leaves):
        _update_array(digest, leaf, f"[{i}]")
    return "sha256:" + digest.hexdigest()
