"""A real S3-compatible server (moto) on 127.0.0.1 for tests: ``s3_server`` as a fixture body.

The server runs in a child process: GDAL holds the GIL while it waits on HTTP, so a server
thread inside the test process would deadlock.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pyarrow.fs as pafs
import pytest

_SERVER = (
    "import logging, sys\n"
    "logging.getLogger('werkzeug').setLevel(logging.ERROR)\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)\n"
    "server.start()\n"
    "print(server.get_host_and_port()[1], flush=True)\n"
    "sys.stdin.read()\n"
    "server.stop()\n"
)
BUCKET = "bucket"


def s3_server(*buckets: str) -> Iterator[pafs.S3FileSystem]:
    """Start moto on a free port, point ``AWS_*`` at it, create ``buckets``; yield an admin fs.

    The environment is restored and the server stopped when the generator is closed. Child
    processes started meanwhile (servers under test) inherit the ``AWS_*`` variables.
    """
    pytest.importorskip("moto.server")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(proc.stdout.readline())
        endpoint = f"127.0.0.1:{port}"
        with pytest.MonkeyPatch.context() as mp:
            for key in ("AWS_S3_ENDPOINT", "AWS_HTTPS", "AWS_VIRTUAL_HOSTING", "AWS_PROFILE"):
                mp.delenv(key, raising=False)
            mp.setenv("AWS_ENDPOINT_URL", f"http://{endpoint}")
            mp.setenv("AWS_ACCESS_KEY_ID", "testing")
            mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            mp.setenv("AWS_REGION", "us-east-1")
            admin = pafs.S3FileSystem(
                access_key="testing", secret_key="testing", region="us-east-1", scheme="http",
                endpoint_override=endpoint, allow_bucket_creation=True,
            )  # fmt: skip
            for bucket in buckets or (BUCKET,):
                admin.create_dir(bucket)
            yield admin
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
        proc.stdout.close()
