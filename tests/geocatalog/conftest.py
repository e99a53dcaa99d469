"""Shared fixtures for geocatalog tests: a real S3-compatible server (moto) on 127.0.0.1.

rasterio's window and bounds oracles are in ``tests/conftest.py``."""

import subprocess
import sys

import pyarrow.fs as pafs
import pytest

# The server runs in a child process: GDAL holds the GIL while it waits on HTTP, so a server
# thread inside the test process would deadlock.
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


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on a free port, ``AWS_*`` pointing at it and one empty bucket.

    One server per test module; the environment is restored when the module is done.
    Yields a pyarrow ``S3FileSystem`` on the server, for the tests' own checks.
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
            admin.create_dir(BUCKET)
            yield admin
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
        proc.stdout.close()
