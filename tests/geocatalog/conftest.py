"""Shared fixtures for geocatalog tests: a real S3-compatible server (moto) on 127.0.0.1.

rasterio's window and bounds oracles are in ``tests/conftest.py``."""

import pytest

from tests._s3 import BUCKET, s3_server

__all__ = ["BUCKET"]


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on a free port, ``AWS_*`` pointing at it and one empty bucket.

    One server per test module; the environment is restored when the module is done.
    Yields a pyarrow ``S3FileSystem`` on the server, for the tests' own checks.
    """
    yield from s3_server(BUCKET)
