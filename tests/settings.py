"""Settings for the test run: PayFlow's own, with a fast password hasher and, under parallel
workers, one Redis prefix per worker.

The variable is set before PayFlow's settings load, so server processes the tests start
(which inherit the environment) verify the same hashes.
"""

import os

os.environ.setdefault("PAYFLOW_TEST_FAST_PASSWORD_HASHER", "1")

# Parallel workers (pytest-xdist) share one Redis database: each keeps its cache keys, chaos
# state and channel-layer groups under its own prefix, as do the servers it starts. Each
# worker already has its own test database.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ["REDIS_PREFIX"] = f"{os.environ.get('REDIS_PREFIX', 'payflow')}-{_worker}"

from payflow.settings import *  # noqa: E402, F403
