"""Pinned, hashed pipeline artifacts for regulatory reproducibility (use case 9).

:func:`freeze` pins a pipeline with its inputs' hashes, a dependency lock file, metadata,
the environment and the hash of its output; :meth:`Artifact.save` writes one file;
:func:`load` verifies all of it and rebuilds the pipeline in the YAML sandbox;
:meth:`Artifact.rerun` checks the inputs, runs the pipeline and checks the output.

File format (version 1): one **uncompressed** USTAR tar (uncompressed so equal content is
equal bytes and a flipped byte is local), written canonically: members in this order,
each a regular file with ``mtime=0``, ``uid=gid=0``, no owner names, mode ``0o644``::

    manifest.json     format, format_version, created (UTC ISO 8601), pipeline_hash,
                      output_sha256, allowed (the sandbox allow-list), deps_lock_source,
                      members {name: {sha256, size}}, manifest_sha256 (self-hash)
    pipeline.yaml     pk.dumps_yaml(pipeline)
    leaves.eqx        equinox.tree_serialise_leaves(pipeline), only with array leaves
    inputs.json       the inputs mapping (<stem>_uri / <stem>_sha256 pairs, free keys)
    metadata.json     the metadata mapping
    environment.json  Python, platform, jax/numpy/equinox... versions at freeze time
    deps.lock         the lock file's bytes, only when given

JSON members are canonical (sorted keys, one-space indent, ASCII). Two freezes of the same
content give identical bytes except ``created`` in the manifest.

Example:
    >>> import tempfile, pathlib
    >>> import pipekit as pk
    >>> from pipekit import repro
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = repro.freeze(pk.Identity(), metadata={"doi": "10.x/y"}).save(
    ...         pathlib.Path(d, "a.tar"))
    ...     art = repro.load(path)
    ...     art.metadata, art.pipeline
    ({'doi': '10.x/y'}, Identity())

Note:
    The artifact pins config, weights, inputs and versions; it does not pin the machine.
    Bit-exact reruns also need the same platform and library builds (a container image
    hash belongs in ``metadata``). The manifest's hashes detect accidental and naive edits
    only: there is no signature.
"""

from ._artifact import Artifact as Artifact, freeze as freeze
from ._errors import ReproError as ReproError
from ._hashing import file_sha256 as file_sha256, output_sha256 as output_sha256
from ._load import load as load

__all__ = [
    # freeze and load
    "Artifact",
    "freeze",
    "load",
    # hashes
    "file_sha256",
    "output_sha256",
    # errors
    "ReproError",
]
