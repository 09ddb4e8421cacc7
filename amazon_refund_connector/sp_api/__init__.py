"""The connector's SP-API layer: plain Python, no Odoo imports."""

from .client import (
    ORDER_FULFILLMENT_STATUSES,
    ORDER_INCLUDED_DATA,
    REGION_ENDPOINTS,
    AmazonClient,
    Credentials,
)
from .errors import (
    AmazonAuthError,
    AmazonError,
    AmazonInvalidInput,
    AmazonNotFound,
    AmazonServerError,
    AmazonThrottled,
    redact,
)
from .logs import protect_sp_api_loggers, scrub
from .ratelimit import (
    OPERATION_LIMITS,
    BucketState,
    MemoryRateLimiter,
    RateLimiter,
    default_limit,
    drain,
    parse_rate_header,
    take_token,
)

__all__ = [
    "OPERATION_LIMITS",
    "ORDER_FULFILLMENT_STATUSES",
    "ORDER_INCLUDED_DATA",
    "REGION_ENDPOINTS",
    "AmazonAuthError",
    "AmazonClient",
    "AmazonError",
    "AmazonInvalidInput",
    "AmazonNotFound",
    "AmazonServerError",
    "AmazonThrottled",
    "BucketState",
    "Credentials",
    "MemoryRateLimiter",
    "RateLimiter",
    "default_limit",
    "drain",
    "parse_rate_header",
    "protect_sp_api_loggers",
    "redact",
    "scrub",
    "take_token",
]
