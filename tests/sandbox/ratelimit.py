"""Token buckets per (seller, operation), the way SP-API usage plans work."""

import threading
import time
from decimal import Decimal


def format_rate(rate):
    """A rate as Amazon's x-amzn-RateLimit-Limit writes it: plain decimal."""
    rounded = Decimal(format(float(rate), ".12g"))
    return format(rounded.normalize(), "f")


class TokenBucket:
    def __init__(self, rate, burst, now):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def refill(self, now):
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.updated = now

    def take(self, now):
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimiter:
    """Buckets start full; they refill at rate * time_scale tokens a second of
    `clock` (a callable giving seconds)."""

    def __init__(self, time_scale=1.0, clock=time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self._time_scale = float(time_scale)
        self._plans = {}
        self._buckets = {}

    @property
    def clock(self):
        return self._clock

    @clock.setter
    def clock(self, clock):
        """Read the time from `clock` from now on; every bucket keeps the
        tokens it has earned by the old clock's time."""
        with self._lock:
            before = self._clock()
            for bucket in self._buckets.values():
                bucket.refill(before)
            self._clock = clock
            now = clock()
            for bucket in self._buckets.values():
                bucket.updated = now

    @property
    def time_scale(self):
        return self._time_scale

    @time_scale.setter
    def time_scale(self, value):
        with self._lock:
            now = self._clock()
            for bucket in self._buckets.values():
                bucket.refill(now)
            self._time_scale = float(value)
            for (_, operation), bucket in self._buckets.items():
                bucket.rate = self._plans[operation][0] * self._time_scale

    def set_plan(self, operation, rate, burst):
        """Set an operation's usage plan; its buckets start over, full."""
        with self._lock:
            self._plans[operation] = (float(rate), int(burst))
            for key in [key for key in self._buckets if key[1] == operation]:
                del self._buckets[key]

    def plan(self, operation):
        return self._plans.get(operation)

    def scaled_rate(self, operation):
        rate = self._plans[operation][0]
        return Decimal(str(rate)) * Decimal(str(self._time_scale))

    def header(self, operation):
        return format_rate(self.scaled_rate(operation))

    def allow(self, seller_id, operation):
        """Take a token for the seller's call; False when the bucket is empty."""
        if operation not in self._plans:
            return True
        with self._lock:
            now = self._clock()
            key = (seller_id, operation)
            bucket = self._buckets.get(key)
            if bucket is None:
                rate, burst = self._plans[operation]
                bucket = self._buckets[key] = TokenBucket(
                    rate * self._time_scale, burst, now
                )
            return bucket.take(now)

    def reset(self):
        """Refill every bucket."""
        with self._lock:
            self._buckets.clear()
