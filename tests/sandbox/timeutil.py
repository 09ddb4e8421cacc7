"""ISO 8601 timestamps the way SP-API writes and reads them, and the clocks
the sandbox reads the time from."""

import threading
import time
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc)


class SystemClock:
    """The real time, which a sandbox follows unless it is given a ManualClock.

    monotonic() drives the quota buckets, time() (epoch seconds) the access
    token lifetimes, now() the order timestamps and the settle window.
    """

    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)
    now = staticmethod(utcnow)


class ManualClock:
    """A clock that stands still until advance() moves it.

    It starts at `start` (a datetime or ISO string; default: the real now,
    to the second, so that whole-second steps stay exact).
    time() and monotonic() give its epoch seconds, now() its UTC datetime,
    except with real_dates=True: then now() stays the real time, for a caller
    whose own "now" is real (an Odoo server under test) while the quotas and
    token lifetimes follow this clock. A ManualClock is also a plain callable
    giving epoch seconds, as the connector's limiters take, and sleep() moves
    it instead of waiting.
    """

    def __init__(self, start=None, real_dates=False):
        moment = floor_seconds(utcnow()) if start is None else as_datetime(start)
        self._seconds = moment.timestamp()
        self._real_dates = real_dates
        self._lock = threading.Lock()

    def time(self):
        with self._lock:
            return self._seconds

    monotonic = time
    __call__ = time

    def now(self):
        if self._real_dates:
            return utcnow()
        return datetime.fromtimestamp(self.time(), timezone.utc)

    def advance(self, seconds):
        """Move the clock forward; returns the new epoch seconds."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._seconds += float(seconds)
            return self._seconds

    sleep = advance


def floor_seconds(moment):
    return moment.replace(microsecond=0)


def format_time(moment):
    """UTC, second precision, with a trailing Z."""
    moment = moment.astimezone(timezone.utc).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    """Parse an ISO 8601 date-time; a value without offset is UTC.

    Raises ValueError for anything that is not a date-time.
    """
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def as_datetime(value):
    """Accept a datetime (naive means UTC) or an ISO string."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    return parse_time(value)
