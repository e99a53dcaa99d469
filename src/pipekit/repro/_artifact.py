"""``Artifact`` and ``freeze``: a pipeline pinned with its inputs, environment and output hash."""

from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import io
import json
import os
import platform
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import equinox as eqx
import jax

from .._atomic import write_atomic
from .._hash import config_hash
from .._operator import Operator
from .._registry import target_name
from .._state import iter_targets
from .._yaml import dumps_yaml
from ._archive import pack
from ._errors import ReproError
from ._hashing import output_sha256 as hash_output
from ._inputs import input_hashes, input_uris, local_path, verify_input
from ._manifest import MANIFEST, ORDER, build_manifest, dump_json

__all__ = ["Artifact", "freeze"]

PathT = TypeVar("PathT", bound=str | os.PathLike[str])
_PACKAGES = ("pipekit-geo", "jax", "jaxlib", "numpy", "equinox", "pyyaml")


def capture_environment() -> dict[str, Any]:
    """Python, platform and key package versions of this process."""
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "byteorder": sys.byteorder,
        "jax_backend": jax.default_backend(),
        "packages": versions,
    }


def _json_roundtrip(obj: Any, what: str) -> Any:
    return json.loads(dump_json(obj, what))


@dataclasses.dataclass(frozen=True, eq=False)
class Artifact:
    """A frozen pipeline: its config, array leaves, inputs, metadata, environment, output hash.

    Build one with :func:`freeze`, write it with :meth:`save`, read it back with
    :func:`pipekit.repro.load`, run it again with :meth:`rerun`.

    Attributes:
        pipeline: the operator (rebuilt from YAML by ``load``, with its array leaves).
        config_yaml: ``pk.dumps_yaml(pipeline)``.
        pipeline_hash: ``pk.config_hash(pipeline)``, ``"sha256:<64 hex>"``.
        inputs: the recorded inputs (``<stem>_uri`` / ``<stem>_sha256`` pairs and free keys).
        metadata: free JSON-able metadata (author, DOI...).
        environment: Python, platform and package versions at freeze time.
        output_sha256: content hash of the result recorded at freeze time, or ``None``.
        allowed: the ``_target_`` allow-list ``load`` builds the pipeline with.
        deps_lock: the bytes of the lock file, or ``None``; ``deps_lock_source`` its name.
        created: UTC time of the freeze (ISO 8601); lives in the manifest only.
        leaves: ``equinox.tree_serialise_leaves`` bytes when the pipeline has array leaves.
    """

    pipeline: Operator
    config_yaml: str
    pipeline_hash: str
    inputs: dict[str, Any]
    metadata: dict[str, Any]
    environment: dict[str, Any]
    output_sha256: str | None
    allowed: tuple[str, ...]
    deps_lock: bytes | None
    deps_lock_source: str | None
    created: str
    leaves: bytes | None

    def members(self) -> dict[str, bytes]:
        """The archive members (name -> bytes), in write order, manifest first."""
        body: dict[str, bytes] = {"pipeline.yaml": self.config_yaml.encode("utf-8")}
        if self.leaves is not None:
            body["leaves.eqx"] = self.leaves
        body["inputs.json"] = dump_json(self.inputs, "inputs")
        body["metadata.json"] = dump_json(self.metadata, "metadata")
        body["environment.json"] = dump_json(self.environment, "environment")
        if self.deps_lock is not None:
            body["deps.lock"] = self.deps_lock
        fields = {
            "created": self.created,
            "pipeline_hash": self.pipeline_hash,
            "output_sha256": self.output_sha256,
            "allowed": list(self.allowed),
            "deps_lock_source": self.deps_lock_source,
        }
        out = {MANIFEST: build_manifest(fields, body), **body}
        return {name: out[name] for name in ORDER if name in out}

    def to_bytes(self) -> bytes:
        """The artifact file's bytes (what :meth:`save` writes)."""
        return pack(self.members().items())

    def save(self, path: PathT) -> PathT:
        """Write the artifact to ``path`` atomically and return ``path``.

        The bytes go to a temporary file in the same directory, are flushed to disk, and
        the file is moved into place with ``os.replace``: readers see the old file or the
        whole new one, never a partial one; on failure the temporary file is removed.
        """
        write_atomic(path, self.to_bytes())
        return path

    def rerun(
        self,
        loader: Callable[[str], Any] | None = None,
        *,
        read_bytes: Callable[[str], bytes] | None = None,
        verify_inputs: bool = True,
    ) -> Any:
        """Check the inputs, run the pipeline on them, check the output; return the result.

        Args:
            loader: maps each recorded ``<stem>_uri`` to the carrier the pipeline takes
                (e.g. ``geocatalog.read_raster``); ``None`` passes the URI string itself
                (for pipelines that begin with a reading operator).
            read_bytes: ``uri -> bytes`` used to hash inputs; by default local paths
                (bare or ``file://``) are read from disk and a remote URI with a recorded
                hash is refused, so pass e.g. an S3 getter here to verify remote inputs.
            verify_inputs: ``False`` skips the input hash checks (the output check stays).

        With one ``_uri`` input the call is ``pipeline(loader(uri))``; with several it is
        ``pipeline(**{stem: loader(uri)})`` (e.g. a :class:`pipekit.Graph` with
        ``pk.Input("scene")`` and ``pk.Input("dem")`` for ``scene_uri`` and ``dem_uri``).

        Raises:
            ReproError: an input's bytes or the output differ from the recorded hashes
                (the message shows both), or no ``_uri`` input was recorded.
        """
        uris = input_uris(self.inputs)
        if not uris:
            raise ReproError(
                "rerun needs inputs: the artifact records no '<stem>_uri' input; call "
                "artifact.pipeline(...) directly instead"
            )
        if verify_inputs:
            for stem, expected in input_hashes(self.inputs).items():
                verify_input(stem, uris[stem], expected, read_bytes)
        load = loader if loader is not None else (lambda uri: uri)
        if len(uris) == 1:
            result = self.pipeline(load(next(iter(uris.values()))))
        else:
            result = self.pipeline(**{stem: load(uri) for stem, uri in uris.items()})
        if self.output_sha256 is not None:
            found = hash_output(result)
            if found != self.output_sha256:
                raise ReproError(
                    f"the rerun did not reproduce the recorded output: expected "
                    f"{self.output_sha256}, found {found} (environment at freeze: "
                    f"{self.environment.get('packages')})"
                )
        return result


def _check_input_files(inputs: Mapping[str, Any]) -> None:
    uris = input_uris(inputs)
    for stem, expected in input_hashes(inputs).items():
        path = local_path(uris[stem])
        if path is not None and path.is_file():
            verify_input(stem, uris[stem], expected, None)


def freeze(
    pipeline: Operator,
    inputs: Mapping[str, Any] | None = None,
    deps_lock: str | os.PathLike[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    *,
    output: Any = None,
    allowed: Iterable[str | type] | None = None,
) -> Artifact:
    """Pin a pipeline with its inputs, lock file, metadata and environment.

    Args:
        pipeline: the operator; it must be writable as YAML (no ``forbid_in_yaml`` step).
        inputs: JSON-able mapping; ``<stem>_uri`` keys name inputs and ``<stem>_sha256``
            keys their SHA-256 (64 hex, optionally ``sha256:``-prefixed), checked on
            :meth:`Artifact.rerun`. A hash of a local file that exists now is checked now.
        deps_lock: path of a lock file (``uv.lock``, ``poetry.lock``) stored verbatim.
        metadata: JSON-able metadata (author, date, DOI...).
        output: the pipeline's result on these inputs; its :func:`output_sha256` is recorded
            and ``rerun`` must reproduce it bit for bit.
        allowed: the ``_target_`` allow-list ``load`` builds with; by default exactly the
            targets in ``pipeline.state``.

    Example:
        >>> import tempfile, pathlib
        >>> import numpy as np
        >>> import pipekit as pk
        >>> from pipekit import repro
        >>> pipe = pk.Sequential([pk.Identity()])
        >>> with tempfile.TemporaryDirectory() as d:
        ...     src = pathlib.Path(d, "x.npy")
        ...     np.save(src, np.arange(3))
        ...     inputs = {"x_uri": str(src), "x_sha256": repro.file_sha256(src)}
        ...     out = pipe(np.load(src))
        ...     art = repro.freeze(pipe, inputs, output=out, metadata={"author": "ej"})
        ...     path = art.save(pathlib.Path(d, "run.tar"))
        ...     again = repro.load(path)
        ...     again.rerun(np.load), again.pipeline_hash == pk.config_hash(pipe)
        (array([0, 1, 2]), True)
    """
    if not isinstance(pipeline, Operator):
        raise TypeError(f"freeze expects a pipekit Operator, got {type(pipeline).__name__}")
    config_yaml = dumps_yaml(pipeline)
    inputs_d = _json_roundtrip(dict(inputs or {}), "inputs")
    input_hashes(inputs_d)
    _check_input_files(inputs_d)
    needed = sorted({str(t) for t, _ in iter_targets(pipeline.state)})
    if allowed is None:
        allow = tuple(needed)
    else:
        if isinstance(allowed, str):
            raise TypeError("allowed must be a collection of targets, not a single string")
        allow = tuple(sorted({a if isinstance(a, str) else target_name(a) for a in allowed}))
        missing = sorted(set(needed) - set(allow))
        if missing:
            raise ReproError(f"allowed leaves out targets the pipeline uses: {missing}")
    leaves = None
    if jax.tree.leaves(eqx.filter(pipeline, eqx.is_array)):
        buf = io.BytesIO()
        eqx.tree_serialise_leaves(buf, pipeline)
        leaves = buf.getvalue()
    lock = source = None
    if deps_lock is not None:
        lock, source = Path(deps_lock).read_bytes(), Path(deps_lock).name
    return Artifact(
        pipeline=pipeline,
        config_yaml=config_yaml,
        pipeline_hash=config_hash(pipeline),
        inputs=inputs_d,
        metadata=_json_roundtrip(dict(metadata or {}), "metadata"),
        environment=capture_environment(),
        output_sha256=None if output is None else hash_output(output),
        allowed=allow,
        deps_lock=lock,
        deps_lock_source=source,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        leaves=leaves,
    )
