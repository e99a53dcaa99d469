"""Atomic local writes that leave no temporary files behind, even when killed by SIGTERM.

A write goes to ``.{name}.{32 hex}.tmp`` beside the target, then ``os.replace`` moves it
into place. The 32 hex digits are the writer's pid (8), a hash of its host name (8) and 16
random ones: the same shape as before, so tools that recognise our temporary files (e.g.
``CatalogPipeline``'s cleanup) keep working, while a later write can tell whose file it is.

Two mechanisms keep the folder clean:

- while the write runs in the main thread, SIGTERM (what ``kill``, batch schedulers and
  container runtimes send) raises inside Python instead of ending the process at once; the
  writer removes its temporary files, then the signal is delivered again to the previous
  handler, so the process still ends the way it would have (killed by SIGTERM);
- SIGKILL, a power cut or a write from another thread cannot clean up, so every write first
  removes the temporary files of the same target left by a process of this host that no
  longer runs (the pid in the name). Temporary files of live processes are never touched:
  they belong to concurrent writers.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import signal
import socket
import threading
from collections.abc import Iterator

__all__ = ["remove_stale_temps", "sigterm_cleanup", "temp_path"]

logger = logging.getLogger(__name__)

_HOST = hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:8]


def temp_path(target: str) -> str:
    """The temporary file name for an atomic write of ``target`` (same folder, hidden)."""
    directory, name = os.path.split(os.path.abspath(target))
    tag = f"{os.getpid():08x}{_HOST}{secrets.token_hex(8)}"
    return os.path.join(directory, f".{name}.{tag}.tmp")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def remove_stale_temps(target: str) -> list[str]:
    """Remove temporary files of ``target`` left by dead processes of this host; return them.

    Matches :func:`temp_path` names and GDAL's side files that start with one
    (``.tmp.ovr``, ``.tmp.aux.xml``); only this host's entries whose pid no longer runs.
    """
    directory, name = os.path.split(os.path.abspath(target))
    pattern = re.compile(
        rf"^\.{re.escape(name)}\.([0-9a-f]{{8}}){_HOST}[0-9a-f]{{16}}\.tmp(\..*)?$"
    )
    removed = []
    try:
        entries = os.listdir(directory)
    except FileNotFoundError:
        return removed
    for entry in entries:
        match = pattern.match(entry)
        if match is None or _alive(int(match.group(1), 16)):
            continue
        path = os.path.join(directory, entry)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
            removed.append(path)
            logger.info("removed a stale temporary file of a dead writer: %s", path)
    return removed


class _Terminated(BaseException):
    """Raised by the temporary SIGTERM handler; a BaseException so ``except Exception`` passes."""


@contextlib.contextmanager
def sigterm_cleanup(what: str) -> Iterator[None]:
    """Turn SIGTERM into an exception for the duration of the block, then re-deliver it.

    The block's own ``except BaseException`` / ``finally`` clean up; on leaving, the previous
    handler is restored and the signal is sent again, so a default handler still ends the
    process. A previous handler that returns (a graceful-shutdown hook) leaves an
    ``InterruptedError`` naming ``what``. Outside the main thread, or when SIGTERM is
    ignored, nothing is installed (Python runs signal handlers in the main thread only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_IGN, None):
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, previous)
        os.kill(os.getpid(), signal.SIGTERM)  # runs the previous handler (default: exit)
        raise InterruptedError(
            f"{what} was interrupted by SIGTERM; its temporary file was removed and the "
            "target was left as it was"
        ) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
