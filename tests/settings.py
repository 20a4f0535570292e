"""Settings for the test run: PayFlow's own, with a fast password hasher.

The variable is set before PayFlow's settings load, so server processes the tests start
(which inherit the environment) verify the same hashes.
"""

import os

os.environ.setdefault("PAYFLOW_TEST_FAST_PASSWORD_HASHER", "1")

from payflow.settings import *  # noqa: E402, F403
