"""SP-API access for one Amazon seller account, through ``python-amazon-sp-api``.

This module is the only place that talks to Amazon. It imports nothing from
Odoo: models call it with plain values and get plain Python data back, or one
of the errors of :mod:`.errors`.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timezone
from json import JSONDecodeError
from urllib.parse import urlsplit

import httpx
from sp_api.api import OrdersV20260101, Sellers
from sp_api.auth import AccessTokenClient
from sp_api.auth import access_token_client as sp_token_module
from sp_api.auth._core import build_cache_key
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import Marketplaces
from sp_api.base import exceptions as sp_exceptions
from sp_api.base._transport_httpx import HttpxTransport

from .errors import (
    AmazonAuthError,
    AmazonError,
    AmazonInvalidInput,
    AmazonNotFound,
    AmazonServerError,
    AmazonThrottled,
    redact,
)
from .logs import protect_sp_api_loggers
from .ratelimit import MemoryRateLimiter, parse_rate_header, parse_retry_after

_logger = logging.getLogger(__name__)

REGION_ENDPOINTS = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}
# sp_api clients are built for a marketplace; any one of the region will do
# because the layer always passes the marketplace ids explicitly.
_REGION_MARKETPLACE = {
    "NA": Marketplaces.US,
    "EU": Marketplaces.DE,
    "FE": Marketplaces.JP,
}

ORDER_FULFILLMENT_STATUSES = (
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
)
ORDER_INCLUDED_DATA = (
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
)
SEARCH_ORDERS_MAX_PAGE = 100
# 429 answers a call may wait out (within max_wait) before giving up.
MAX_THROTTLED_RETRIES = 2


@dataclass(frozen=True)
class Credentials:
    """What the layer needs to know about one seller account."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    region: str = "NA"
    # Technical overrides (tests, the demo): SP-API base URL and LWA token URL.
    endpoint: str = None
    lwa_endpoint: str = None

    @property
    def secrets(self):
        return (self.client_secret, self.refresh_token)

    @property
    def base_url(self):
        if self.endpoint:
            return check_endpoint(self.endpoint, "SP-API endpoint").rstrip("/")
        try:
            return REGION_ENDPOINTS[self.region]
        except KeyError as exc:
            raise AmazonInvalidInput(
                f"Unknown SP-API region {self.region!r}: expected NA, EU or FE."
            ) from exc


# Why an endpoint override is refused: code -> sentence.
ENDPOINT_PROBLEMS = {
    "empty": "it is empty",
    "spaces": "it contains spaces or control characters",
    "port": "its port is not a number between 1 and 65535",
    "scheme": "it does not start with http:// or https://",
    "host": "it names no host",
    "query": "it has a query or a fragment",
}


def endpoint_problem(url):
    """Why ``url`` cannot be an endpoint override (a code of
    :data:`ENDPOINT_PROBLEMS`), or None when it can.

    An override is an absolute http(s) URL with a host (and a port, if any,
    that is a number), without spaces, query or fragment.
    """
    text = url or ""
    if not text.strip():
        return "empty"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return "spaces"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return "port"
    if parts.scheme not in ("http", "https"):
        return "scheme"
    if not parts.hostname:
        return "host"
    if parts.query or parts.fragment:
        return "query"
    if port == 0:
        return "port"
    return None


def check_endpoint(url, what):
    """``url`` if it is a usable endpoint override; else AmazonInvalidInput."""
    problem = endpoint_problem(url)
    if problem:
        raise AmazonInvalidInput(
            f"The {what} {url!r} is not a valid http(s) URL: "
            f"{ENDPOINT_PROBLEMS[problem]}.",
            code="InvalidEndpoint",
        )
    return url


def _token_client_class(lwa_endpoint, timeout):
    """An ``AccessTokenClient`` posting to ``lwa_endpoint`` (or Amazon's) and
    giving up after ``timeout`` seconds, like the SP-API calls.

    sp_api builds its token client with httpx's default timeout of 5 s, so a
    Login with Amazon that hangs would otherwise not be seen as an outage at
    the timeout the account is given.
    """
    attributes = {"__init__": _token_client_init(timeout)}
    if lwa_endpoint:
        parts = urlsplit(check_endpoint(lwa_endpoint, "LWA endpoint"))
        attributes.update(
            scheme=f"{parts.scheme}://",
            host=parts.netloc,
            path=parts.path or AccessTokenClient.path,
        )
    return type("ConnectorAccessTokenClient", (AccessTokenClient,), attributes)


def _token_client_init(timeout):
    def __init__(self, refresh_token=None, credentials=None, proxies=None, verify=True):
        AccessTokenClient.__init__(self, refresh_token, credentials, proxies, verify)
        self._transport.close()
        self._transport = HttpxTransport(
            timeout=timeout, proxies=proxies, verify=verify
        )

    return __init__


class AmazonClient:
    """Calls SP-API operations for one account, within its rate limits.

    ``max_wait`` is how long a call may wait for a rate-limit token: an
    interactive call may wait a little; a job passes 0 and is re-scheduled
    when :class:`AmazonThrottled` tells it how long to wait.
    """

    def __init__(
        self, credentials, limiter=None, *, max_wait=0.0, timeout=20.0, sleep=time.sleep
    ):
        if not (
            credentials.client_id
            and credentials.client_secret
            and credentials.refresh_token
        ):
            raise AmazonAuthError(
                "The LWA client id, client secret and refresh token are required."
            )
        protect_sp_api_loggers(credentials.secrets)
        self.credentials = credentials
        self.limiter = limiter or MemoryRateLimiter()
        self.max_wait = max_wait
        self.timeout = timeout
        self._sleep = sleep
        self._apis = {}
        self.calls = 0

    # -- building sp_api clients ------------------------------------------

    def _api(self, api_class):
        api = self._apis.get(api_class)
        if api is None:
            creds = self.credentials
            api = api_class(
                _REGION_MARKETPLACE.get(creds.region, Marketplaces.US),
                refresh_token=creds.refresh_token,
                credentials={
                    "refresh_token": creds.refresh_token,
                    "lwa_app_id": creds.client_id,
                    "lwa_client_secret": creds.client_secret,
                },
                timeout=self.timeout,
                auth_token_client_class=_token_client_class(
                    creds.lwa_endpoint, self.timeout
                ),
            )
            api.endpoint = creds.base_url
            self._apis[api_class] = api
        return api

    def forget_access_token(self):
        """Drop the cached LWA access token of this account.

        sp_api caches tokens at module level by refresh token alone, for
        ``SP_API_AUTH_CACHE_TTL`` whatever their real lifetime; a token Amazon
        calls expired must be dropped or every later call fails too.
        """
        key = build_cache_key(self.credentials.refresh_token, "")
        sp_token_module.cache.pop(key, None)

    def close(self):
        for api in self._apis.values():
            api.close()
        self._apis.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the call wrapper ---------------------------------------------------

    def _take_token(self, operation):
        wait = self.limiter.acquire(operation)
        if wait and wait <= self.max_wait:
            self._sleep(wait)
            wait = self.limiter.acquire(operation)
        if wait:
            raise AmazonThrottled(
                f"The quota of {operation} is used up; next call possible in "
                f"{wait:.1f} s.",
                retry_after=wait,
                operation=operation,
                code="QuotaExceeded",
                status=429,
            )

    def call(self, operation, api_class, method, *args, **kwargs):
        """Call ``api_class().method(*args, **kwargs)`` as ``operation``.

        Returns the ``ApiResponse``; raises an :class:`AmazonError`.
        """
        token_retried = False
        throttled = 0
        while True:
            self._take_token(operation)
            try:
                self.calls += 1
                response = getattr(self._api(api_class), method)(*args, **kwargs)
            except sp_exceptions.SellingApiRequestThrottledException as exc:
                throttled += 1
                self._on_throttled(
                    operation, exc, final=throttled > MAX_THROTTLED_RETRIES
                )
                continue
            except sp_exceptions.SellingApiForbiddenException as exc:
                if not token_retried and _is_token_problem(exc):
                    token_retried = True
                    self.forget_access_token()
                    continue
                raise self._translate(operation, exc) from None
            except Exception as exc:
                raise self._translate(operation, exc) from None
            self._observe(operation, response)
            return response

    def _observe(self, operation, response):
        """Adopt the rate Amazon announced; never lose its answer over it.

        Amazon has answered (and may have applied the call): a failure to
        note its rate only costs the rate update, logged here.
        """
        try:
            self.limiter.observe(operation, parse_rate_header(response.headers))
        except Exception:  # bookkeeping after the answer
            _logger.warning(
                "Could not record the rate Amazon announced for %s",
                operation,
                exc_info=True,
            )

    def _on_throttled(self, operation, exc, final=False):
        headers = getattr(exc, "headers", None)
        announced = parse_rate_header(headers)
        try:
            wait = self.limiter.throttled(operation, announced)
        except Exception:  # the 429 is reported anyway
            _logger.warning(
                "Could not record that Amazon throttled %s", operation, exc_info=True
            )
            wait = 1.0 / announced if announced else 60.0
        retry_after = max(parse_retry_after(headers) or 0.0, wait)
        if final or retry_after > self.max_wait:
            raise AmazonThrottled(
                f"Amazon throttled {operation}; retry in {retry_after:.1f} s.",
                retry_after=retry_after,
                operation=operation,
                code=getattr(exc, "amzn_code", None) or "QuotaExceeded",
                status=429,
            ) from None
        self._sleep(retry_after)

    def _translate(self, operation, exc):
        """Turn whatever sp_api, httpx or LWA raised into an AmazonError."""
        secrets = self.credentials.secrets
        if isinstance(exc, AmazonError):
            return exc
        if isinstance(exc, AuthorizationError):
            text = redact(exc.message or exc.error_code or "", secrets)
            status = exc.status_code
            if not isinstance(status, int) or status >= 500 or status in (408, 429):
                # LWA itself is down or busy: the credentials were not judged.
                return AmazonServerError(
                    f"Amazon could not be reached: Login with Amazon failed to "
                    f"issue an access token for {operation} (HTTP {status})"
                    + (f": {text}." if text else "."),
                    code="LwaUnavailable",
                    operation=operation,
                    status=status,
                )
            return AmazonAuthError(
                f"Login with Amazon refused the credentials ({exc.error_code}): {text}",
                code=exc.error_code,
                operation=operation,
                status=exc.status_code,
            )
        if isinstance(exc, sp_exceptions.SellingApiException):
            return _from_selling_api_exception(operation, exc, secrets)
        if isinstance(exc, httpx.TimeoutException):
            return AmazonServerError(
                f"Amazon could not be reached: it did not answer {operation} "
                f"within {self.timeout:g} s.",
                operation=operation,
                code="Timeout",
            )
        if isinstance(exc, httpx.TransportError):
            return AmazonServerError(
                f"Amazon could not be reached for {operation}: "
                f"{redact(str(exc), secrets) or type(exc).__name__}.",
                operation=operation,
                code="Unreachable",
            )
        if isinstance(exc, JSONDecodeError):
            return AmazonServerError(
                f"Amazon could not be reached: Login with Amazon returned an "
                f"unreadable answer to {operation}.",
                operation=operation,
                code="MalformedResponse",
            )
        _logger.exception("Unexpected error calling %s", operation)
        return AmazonServerError(
            f"Unexpected error calling {operation}: {type(exc).__name__}.",
            operation=operation,
        )

    # -- operations -----------------------------------------------------------

    def get_marketplace_participations(self):
        """Sellers getMarketplaceParticipations: a list of participation dicts."""
        response = self.call(
            "getMarketplaceParticipations", Sellers, "get_marketplace_participation"
        )
        payload = response.payload
        if not isinstance(payload, list):
            raise _malformed("getMarketplaceParticipations", "a list of participations")
        return payload

    def search_orders_page(
        self,
        *,
        marketplace_ids,
        last_updated_after=None,
        created_after=None,
        before=None,
        fulfillment_statuses=None,
        fulfilled_by=None,
        included_data=None,
        pagination_token=None,
        page_size=SEARCH_ORDERS_MAX_PAGE,
    ):
        """One call of Orders 2026-01-01 searchOrders.

        Returns ``{"orders": [...], "next_token": str|None, "before": str|None}``
        where ``before`` is the upper bound of the search Amazon applied.
        """
        if bool(last_updated_after) == bool(created_after):
            raise AmazonInvalidInput(
                "searchOrders needs exactly one of lastUpdatedAfter and createdAfter."
            )
        if not marketplace_ids:
            raise AmazonInvalidInput("searchOrders needs at least one marketplace.")
        params = {
            # Passed explicitly: sp_api otherwise limits a GET to its default
            # marketplace. Lists go comma-separated.
            "marketplaceIds": ",".join(marketplace_ids),
            "maxResultsPerPage": max(1, min(int(page_size), SEARCH_ORDERS_MAX_PAGE)),
        }
        if last_updated_after:
            params["lastUpdatedAfter"] = _iso(last_updated_after)
            if before:
                params["lastUpdatedBefore"] = _iso(before)
        else:
            params["createdAfter"] = _iso(created_after)
            if before:
                params["createdBefore"] = _iso(before)
        if fulfillment_statuses:
            params["fulfillmentStatuses"] = ",".join(fulfillment_statuses)
        if fulfilled_by:
            params["fulfilledBy"] = ",".join(fulfilled_by)
        if included_data:
            params["includedData"] = ",".join(included_data)
        if pagination_token:
            params["paginationToken"] = pagination_token
        response = self.call("searchOrders", OrdersV20260101, "search_orders", **params)
        payload = response.payload
        orders = payload.get("orders") if isinstance(payload, dict) else None
        if not isinstance(orders, list):
            raise _malformed("searchOrders", "an 'orders' list")
        pagination = response.pagination or payload.get("pagination") or {}
        return {
            "orders": orders,
            "next_token": response.next_token or pagination.get("nextToken"),
            "before": payload.get("lastUpdatedBefore") or payload.get("createdBefore"),
        }

    def iter_search_orders(self, **kwargs):
        """Every page of a searchOrders query, one call per page."""
        token = None
        while True:
            page = self.search_orders_page(pagination_token=token, **kwargs)
            yield page
            token = page["next_token"]
            if not token:
                return

    def get_order(self, order_id, included_data=None):
        """Orders 2026-01-01 getOrder: the order dict."""
        params = {}
        if included_data:
            params["includedData"] = ",".join(included_data)
        response = self.call(
            "getOrder", OrdersV20260101, "get_order", order_id, **params
        )
        payload = response.payload
        order = payload.get("order") if isinstance(payload, dict) else None
        if not isinstance(order, dict):
            raise _malformed("getOrder", "an 'order' object")
        return order


def _is_token_problem(exc):
    text = " ".join(
        str(part or "")
        for err in (getattr(exc, "error", None) or [])
        if isinstance(err, dict)
        for part in (err.get("code"), err.get("message"), err.get("details"))
    ).lower()
    return "expired" in text or "unauthorized" in text


def _amazon_error_text(exc, secrets):
    errors = getattr(exc, "error", None) or []
    texts = []
    for err in errors if isinstance(errors, list) else [errors]:
        if isinstance(err, dict):
            part = err.get("message") or err.get("code") or ""
            if err.get("details"):
                part = f"{part} ({err['details']})"
            texts.append(part)
        else:
            texts.append(str(err))
    return redact("; ".join(t for t in texts if t), secrets)


def _from_selling_api_exception(operation, exc, secrets):
    text = _amazon_error_text(exc, secrets) or "no details given"
    code = getattr(exc, "amzn_code", None)
    status = getattr(exc, "code", None)
    if isinstance(exc, sp_exceptions.SellingApiForbiddenException):
        return AmazonAuthError(
            f"Amazon denied access to {operation}: {text}",
            code=code,
            operation=operation,
            status=status,
        )
    if isinstance(exc, sp_exceptions.SellingApiNotFoundException):
        return AmazonNotFound(
            f"Amazon found nothing for {operation}: {text}",
            code=code,
            operation=operation,
            status=status,
        )
    if status and 400 <= status < 500:
        return AmazonInvalidInput(
            f"Amazon refused {operation}: {text}",
            code=code,
            operation=operation,
            status=status,
        )
    return AmazonServerError(
        f"Amazon failed to process {operation} (HTTP {status}): {text}",
        code=code,
        operation=operation,
        status=status,
    )


def _malformed(operation, expected):
    # sp_api hands back an empty payload for a body that is not JSON (even
    # for a 503), so a missing key is all that is left of such an answer.
    return AmazonServerError(
        f"Amazon's answer to {operation} was unreadable: it holds no {expected}.",
        operation=operation,
        code="MalformedResponse",
    )


def _iso(value):
    """An ISO 8601 UTC string for a datetime (naive means UTC) or a string."""
    if isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"
