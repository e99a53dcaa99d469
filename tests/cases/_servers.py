"""Start a real server as a user would (a subprocess on 127.0.0.1, a free port), then stop it.

The gallery tests talk HTTP to what they start, as a client would, and leave no process
behind: the server runs in its own session (process group), so workers it forks are
stopped with it, and :func:`serve` checks that the group is gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of the group exists but is not ours to signal
        return True
    return True


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the server's process group, SIGKILL what is left after ``grace`` seconds."""
    pgid = proc.pid  # start_new_session: the server leads its own group
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()
        if not _group_alive(pgid):
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    proc.wait(timeout=grace)


@contextlib.contextmanager
def serve(
    cmd: Sequence[str],
    ready_url: str,
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
    log: Path | None = None,
) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` until ``ready_url`` answers (any HTTP status), yield it, then stop it.

    ``env`` adds to this process's environment. The server's stdout and stderr go to
    ``log`` (a file; shown in the failure when the server dies or never answers).
    Afterwards no process of the server's group is left.
    """
    log = log or Path(os.devnull)
    full_env = {**os.environ, **(env or {})}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=full_env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server {cmd} exited with {proc.returncode}:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(ready_url, timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # it answered: up, whatever it thinks of this path
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"server {cmd} did not answer {ready_url} in {timeout} s:\n"
                                f"{_tail(log)}")  # fmt: skip
                time.sleep(0.2)
        yield proc
    finally:
        _stop(proc)
        assert not _group_alive(proc.pid), f"server {cmd} left processes behind"


def _tail(log: Path, n: int = 4000) -> str:
    try:
        return Path(log).read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"
