"""The gallery's server harness: a real process is started, answers, and is gone afterwards."""

import os
import sys
import urllib.request

import pytest

from ._servers import free_port, serve


def test_serve_starts_answers_and_leaves_nothing(tmp_path):
    (tmp_path / "hello.txt").write_text("hi")
    port = free_port()
    url = f"http://127.0.0.1:{port}/hello.txt"
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with serve(cmd, url, cwd=tmp_path, log=tmp_path / "server.log") as proc:
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read() == b"hi"
        pid = proc.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_serve_reports_a_server_that_dies(tmp_path):
    cmd = [sys.executable, "-c", "import sys; print('boom: bad config'); sys.exit(3)"]
    url = f"http://127.0.0.1:{free_port()}/"
    with (
        pytest.raises(pytest.fail.Exception, match=r"exited with 3:\nboom: bad config"),
        serve(cmd, url, log=tmp_path / "server.log"),
    ):
        pass
