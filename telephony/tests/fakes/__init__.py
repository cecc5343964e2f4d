"""Protocol-level fakes of Asterisk: a real AMI TCP server and a real ARI HTTP server.

Tests drive our real clients against them; nothing of ours is patched.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], timeout: float = 3.0) -> None:
    """Poll until predicate() is truthy; fail the test with AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)
