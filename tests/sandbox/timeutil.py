"""ISO 8601 timestamps the way SP-API writes and reads them."""

from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc)


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
