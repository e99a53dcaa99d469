"""The artifact container: a plain (uncompressed) USTAR tar written byte for byte canonically.

Writing: members in a fixed order, each with ``mtime=0``, ``uid=gid=0``, empty owner
names and mode ``0o644``, so equal content gives equal bytes. Reading never touches the
file system: the archive is parsed from memory, members are read into memory (no
``extractall``), and anything but a regular file with one of the expected flat names is
refused, as is any member over a size bound. A final check re-packs what was read and
compares it with the file byte for byte, so an edit outside the members' data (header
fields, padding, trailer) is caught as well.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable, Sequence

from ._errors import ReproError

__all__ = ["check_canonical", "pack", "unpack"]

_TAR_ERRORS = (tarfile.TarError, EOFError, OSError, UnicodeError)


def _pack(members: Iterable[tuple[str, bytes]]) -> tuple[bytes, list[tuple[str, int, int]]]:
    buf = io.BytesIO()
    layout: list[tuple[str, int, int]] = []
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            start = tf.offset
            tf.addfile(info, io.BytesIO(data))
            layout.append((name, start, tf.offset))
    return buf.getvalue(), layout


def pack(members: Iterable[tuple[str, bytes]]) -> bytes:
    """Return the canonical tar bytes of ``(name, data)`` members, in the order given."""
    return _pack(members)[0]


def unpack(data: bytes, names: Sequence[str], max_member_bytes: int) -> dict[str, bytes]:
    """Read the members of tar bytes into memory, refusing anything but known regular files.

    Raises:
        ReproError: not a tar, truncated, a duplicate, unknown, oversized or non-regular
            member (links, directories, devices), naming the member.
    """
    members: dict[str, bytes] = {}
    last = "<start of archive>"
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
            for info in tf:
                members[info.name] = _read_member(tf, info, members, names, max_member_bytes)
                last = info.name
    except _TAR_ERRORS as err:
        if not members:
            raise ReproError(
                f"not a readable artifact (an uncompressed tar is expected): {err}; "
                "the file is truncated, damaged or of another format"
            ) from None
        raise ReproError(
            f"the artifact is truncated or damaged after member {last!r}: {err}"
        ) from None
    return members


def _read_member(
    tf: tarfile.TarFile,
    info: tarfile.TarInfo,
    seen: dict[str, bytes],
    names: Sequence[str],
    max_member_bytes: int,
) -> bytes:
    name = info.name
    if name not in names:
        raise ReproError(
            f"unexpected member {name!r} in the artifact; a pipekit artifact holds "
            f"only {list(names)}"
        )
    if name in seen:
        raise ReproError(f"member {name!r} appears twice in the artifact")
    if not info.isreg():
        raise ReproError(f"member {name!r} is not a regular file (link or special file)")
    if info.size > max_member_bytes:
        raise ReproError(
            f"member {name!r} is {info.size} bytes, over the bound of {max_member_bytes}; "
            "pass a larger max_member_bytes if it is genuine"
        )
    handle = tf.extractfile(info)
    content = handle.read() if handle is not None else b""
    if len(content) != info.size:
        raise ReproError(f"member {name!r} is truncated")
    return content


def check_canonical(data: bytes, members: dict[str, bytes], order: Sequence[str]) -> None:
    """Raise :class:`ReproError` unless ``data`` is exactly the canonical packing of ``members``.

    The message names the member whose header or padding differs, or the end-of-archive
    trailer.
    """
    expected, layout = _pack((name, members[name]) for name in order if name in members)
    if expected == data:
        return
    first = next(
        (i for i, (a, b) in enumerate(zip(expected, data, strict=False)) if a != b),
        min(len(expected), len(data)),
    )
    where = next((n for n, start, end in layout if start <= first < end), "end-of-archive trailer")
    raise ReproError(
        f"the artifact's bytes differ from its canonical layout at offset {first} (in member "
        f"{where!r}: header, padding or ordering edited; file {len(data)} bytes, expected "
        f"{len(expected)})"
    )
