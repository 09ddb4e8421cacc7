"""The connector's SP-API layer: plain Python, no Odoo imports."""

from .client import (
    ORDER_FULFILLMENT_STATUSES,
    ORDER_INCLUDED_DATA,
    REGION_ENDPOINTS,
    AmazonClient,
    Credentials,
    check_endpoint,
    endpoint_problem,
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
    "check_endpoint",
    "default_limit",
    "drain",
    "endpoint_problem",
    "parse_rate_header",
    "protect_sp_api_loggers",
    "redact",
    "scrub",
    "take_token",
]
