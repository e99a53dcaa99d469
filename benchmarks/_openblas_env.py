"""OpenBLAS settings for benchmarks against NumPy: import this before NumPy loads.

- ``OPENBLAS_NUM_THREADS=1`` unless set: on the shared 2-core machines OpenBLAS's threaded
  QR / solve of 285² matrices ran 7-60x slower than one thread, and threaded OpenBLAS
  inside XLA's LAPACK calls deadlocked (benchmarks/README.md, the methane section).
- This workplace pins ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` for old OpenBLAS
  builds; they slow a current NumPy, which would flatter us against a NumPy baseline.
  Both are dropped for this process unless ``--keep-openblas-env`` is on the command
  line; :data:`PINNED` keeps what was there so the script can report it.
"""

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
PINNED = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
DROPPED = {} if "--keep-openblas-env" in sys.argv else PINNED
for _key in DROPPED:
    del os.environ[_key]
