"""Injected faults: queued per operation, consumed one per request, in order.

server_error, server_error_html, throttle, expired_token and reset answer in
place of the operation, which does not run; slow waits `delay` seconds before
running it; malformed runs it and cuts its answer. reset_after_apply and
slow_after_apply run the operation (its changes are kept) and then drop the
connection without an answer, or wait `delay` seconds before answering: a
client sees a reset or a timeout for a call that Amazon did apply.

On the Login with Amazon token endpoint (operation getAccessToken),
server_error and throttle answer as an OAuth 2.0 server does: a JSON body
with "error" ("server_error", "slow_down") and "error_description".
"""

import threading
from collections import deque
from dataclasses import dataclass

FAULT_KINDS = (
    "server_error",
    "server_error_html",
    "malformed",
    "slow",
    "throttle",
    "expired_token",
    "reset",
    "reset_after_apply",
    "slow_after_apply",
)

ANY_OPERATION = "*"


@dataclass(frozen=True)
class Fault:
    kind: str
    delay: float = 0.0
    status: int | None = None


class FaultQueue:
    def __init__(self):
        self._lock = threading.Lock()
        self._queues = {}

    def add(self, operation, kind, count=1, delay=0.0, status=None):
        if kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}"
            )
        if count < 1:
            raise ValueError("count must be at least 1")
        if status is not None and kind not in ("server_error", "server_error_html"):
            raise ValueError(
                "status applies to server_error and server_error_html only"
            )
        if delay < 0:
            raise ValueError("delay must not be negative")
        fault = Fault(kind, float(delay), status)
        with self._lock:
            self._queues.setdefault(operation, deque()).extend([fault] * int(count))

    def next(self, operation):
        """Pop the next fault for the operation (or for any operation)."""
        with self._lock:
            for key in (operation, ANY_OPERATION):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
        return None

    def pending(self, operation=None):
        with self._lock:
            if operation is None:
                return sum(len(queue) for queue in self._queues.values())
            return len(self._queues.get(operation, ()))

    def clear(self):
        with self._lock:
            self._queues.clear()
