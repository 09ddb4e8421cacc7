"""Rate limits of the SP-API operations the connector uses.

Amazon applies a token bucket per selling partner and operation: ``rate``
requests per second are added up to ``burst``. The rates below are the
default usage plans published in each operation's model description; the
``x-amzn-RateLimit-Limit`` header of an answer carries the rate Amazon really
applies, and a limiter adopts it.

A limiter never sleeps in a loop: :meth:`RateLimiter.acquire` either takes a
token or says how long to wait, and the caller decides (wait once for an
interactive call, re-schedule a job).
"""

import threading
import time
from dataclasses import dataclass

# operation id: (requests per second, burst), from Amazon's models (their usage
# plans are kept in tests/schemas, and a test checks this table against them)
OPERATION_LIMITS = {
    "getMarketplaceParticipations": (0.016, 15),
    "getAccount": (0.016, 15),
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "getOrderAddress": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeeds": (0.0222, 10),
    "createFeedDocument": (0.5, 15),
    "getFeedDocument": (0.0222, 10),
    "listFinancialEvents": (0.5, 30),
    "listFinancialEventsByOrderId": (0.5, 30),
    "listTransactions": (0.5, 10),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReports": (0.0222, 10),
    "getReportDocument": (0.0167, 15),
}
DEFAULT_LIMIT = (0.5, 10)


def default_limit(operation):
    return OPERATION_LIMITS.get(operation, DEFAULT_LIMIT)


@dataclass
class BucketState:
    """Stored state of one bucket: tokens left at ``stamp`` (epoch seconds)."""

    rate: float
    burst: int
    tokens: float
    stamp: float


def take_token(state, now):
    """Refill ``state`` up to ``now`` and try to take one token.

    Returns ``(new_state, wait)``: ``wait`` is 0 when a token was taken, else
    the seconds until one is available (the state is then only refilled).
    """
    elapsed = max(now - state.stamp, 0.0)
    tokens = min(float(state.burst), state.tokens + elapsed * state.rate)
    if tokens >= 1.0:
        return BucketState(state.rate, state.burst, tokens - 1.0, now), 0.0
    wait = (1.0 - tokens) / state.rate if state.rate > 0 else 60.0
    return BucketState(state.rate, state.burst, tokens, now), wait


def drain(state, now, rate=None):
    """The bucket after Amazon answered 429: empty, at the rate it announced."""
    rate = rate if rate and rate > 0 else state.rate
    return BucketState(rate, state.burst, 0.0, now)


def parse_rate_header(headers):
    """Rate announced in ``x-amzn-RateLimit-Limit``, or None."""
    if not headers:
        return None
    value = None
    for key in ("x-amzn-RateLimit-Limit", "x-amzn-ratelimit-limit"):
        try:
            value = headers.get(key)
        except AttributeError:
            return None
        if value:
            break
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return None
    return rate if rate > 0 else None


def parse_retry_after(headers):
    """Seconds from a ``Retry-After`` header given in seconds, or None."""
    if not headers:
        return None
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
        return max(float(value), 0.0) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


class RateLimiter:
    """Interface of a limiter; see :class:`MemoryRateLimiter`."""

    def acquire(self, operation):
        """Take a token for ``operation``: 0.0, or the seconds to wait."""
        raise NotImplementedError

    def throttled(self, operation, rate=None):
        """Amazon answered 429: empty the bucket; return the seconds to wait."""
        raise NotImplementedError

    def observe(self, operation, rate):
        """Amazon announced ``rate`` for ``operation`` in a successful answer."""
        raise NotImplementedError


class MemoryRateLimiter(RateLimiter):
    """Buckets kept in this process; for scripts and Odoo-free tests.

    Odoo keeps the buckets in PostgreSQL instead so that every worker shares
    them (``amazon.rate.limit``).
    """

    def __init__(self, clock=time.time):
        self._clock = clock
        self._buckets = {}
        self._lock = threading.Lock()

    def _state(self, operation):
        state = self._buckets.get(operation)
        if state is None:
            rate, burst = default_limit(operation)
            state = BucketState(rate, burst, float(burst), self._clock())
        return state

    def acquire(self, operation):
        with self._lock:
            state, wait = take_token(self._state(operation), self._clock())
            self._buckets[operation] = state
            return wait

    def throttled(self, operation, rate=None):
        with self._lock:
            state = drain(self._state(operation), self._clock(), rate)
            self._buckets[operation] = state
            return 1.0 / state.rate

    def observe(self, operation, rate):
        if not rate:
            return
        with self._lock:
            state = self._state(operation)
            self._buckets[operation] = BucketState(
                rate, state.burst, state.tokens, state.stamp
            )
