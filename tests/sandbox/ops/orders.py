"""Orders API 2026-01-01: searchOrders and getOrder."""

import copy
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from ..marketplaces import MARKETPLACES
from ..routing import ApiError, Reply, Route, invalid_input
from ..timeutil import floor_seconds, format_time, parse_time

SEARCH = "searchOrders"
GET = "getOrder"

FULFILLMENT_STATUSES = (
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
)
FULFILLED_BY = ("MERCHANT", "AMAZON")
INCLUDED_DATA = (
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

# Which data set each optional property belongs to (from the properties'
# descriptions in the model); everything else is the base shape.
ORDER_DATA_SETS = {
    "buyer": "BUYER",
    "recipient": "RECIPIENT",
    "proceeds": "PROCEEDS",
    "payment": "PAYMENT",
    "tax": "TAX",
    "fulfillment": "FULFILLMENT",
    "packages": "PACKAGES",
    "fulfillmentOrders": "FULFILLMENT_ORDERS",
}
ITEM_DATA_SETS = {
    "proceeds": "PROCEEDS",
    "expense": "EXPENSE",
    "promotion": "PROMOTION",
    "cancellation": "CANCELLATION",
    "fulfillment": "FULFILLMENT",
    "tax": "TAX",
}

MAX_PAGE_SIZE = 100
MAX_MARKETPLACES = 50
PAGE_TOKEN_LIFETIME = 24 * 3600
ORDER_ID_PATTERN = re.compile(r"^\d{3}-\d{7}-\d{7}$")


def strip_order(order, included):
    """A copy of the order holding the base shape and the included data sets."""
    result = {}
    for key, value in order.items():
        data_set = ORDER_DATA_SETS.get(key)
        if data_set is not None and data_set not in included:
            continue
        if key == "orderItems" and isinstance(value, list):
            value = [
                _strip_item(item, included) if isinstance(item, dict) else item
                for item in value
            ]
        result[key] = copy.deepcopy(value)
    return result


def _strip_item(item, included):
    return {
        key: value
        for key, value in item.items()
        if ITEM_DATA_SETS.get(key) is None or ITEM_DATA_SETS[key] in included
    }


# request parsing -------------------------------------------------------------


def _single(request, name):
    values = request.values(name)
    if len(values) > 1:
        raise invalid_input(f"The parameter {name} may be given only once.", name)
    return values[0] if values else None


def _list(request, name, allowed=None, max_items=None):
    values = request.values(name)
    if not values:
        return None
    items = [
        part.strip() for value in values for part in value.split(",") if part.strip()
    ]
    if not items:
        raise invalid_input(f"The parameter {name} must not be empty.", name)
    if allowed is not None:
        wrong = [item for item in items if item not in allowed]
        if wrong:
            raise invalid_input(
                f"Invalid value {wrong[0]!r} for {name}; allowed values: "
                f"{', '.join(allowed)}.",
                name,
            )
    if max_items is not None and len(items) > max_items:
        raise invalid_input(
            f"The parameter {name} accepts at most {max_items} values.", name
        )
    return list(dict.fromkeys(items))


def _time(request, name):
    value = _single(request, name)
    if value is None:
        return None
    try:
        return floor_seconds(parse_time(value))
    except ValueError:
        raise invalid_input(
            f"{name} must be an ISO 8601 date-time, got {value!r}.", name
        ) from None


def _included(request):
    return set(_list(request, "includedData", INCLUDED_DATA) or ())


def _page_size(request):
    value = _single(request, "maxResultsPerPage")
    if value is None:
        return MAX_PAGE_SIZE
    try:
        size = int(value)
    except ValueError:
        raise invalid_input(
            "maxResultsPerPage must be an integer between 1 and 100.",
            "maxResultsPerPage",
        ) from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise invalid_input(
            "maxResultsPerPage must be an integer between 1 and 100.",
            "maxResultsPerPage",
        )
    return size


def _marketplaces(request, seller):
    ids = _list(request, "marketplaceIds", max_items=MAX_MARKETPLACES)
    if ids is None:
        return set(seller.marketplaces)
    for mid in ids:
        if mid not in MARKETPLACES:
            raise invalid_input(f"Invalid marketplace id {mid!r}.", "marketplaceIds")
        if mid not in seller.marketplaces:
            raise invalid_input(
                f"The seller does not participate in marketplace {mid}.",
                "marketplaceIds",
            )
    return set(ids)


@dataclass
class _Search:
    by_created: bool
    after: object
    before: object
    before_given: bool
    statuses: frozenset
    marketplaces: frozenset
    fulfilled_by: frozenset

    def signature(self):
        return (
            self.by_created,
            self.after,
            self.before if self.before_given else None,
            self.statuses,
            self.marketplaces,
            self.fulfilled_by,
        )


def _parse_search(server, request):
    created_after = _time(request, "createdAfter")
    created_before = _time(request, "createdBefore")
    updated_after = _time(request, "lastUpdatedAfter")
    updated_before = _time(request, "lastUpdatedBefore")
    if (created_after is None) == (updated_after is None):
        raise invalid_input(
            "Exactly one of createdAfter and lastUpdatedAfter must be provided.",
            "createdAfter, lastUpdatedAfter",
        )
    if created_after is not None and updated_before is not None:
        raise invalid_input(
            "lastUpdatedBefore cannot be combined with createdAfter.",
            "lastUpdatedBefore",
        )
    if updated_after is not None and created_before is not None:
        raise invalid_input(
            "createdBefore cannot be combined with lastUpdatedAfter.", "createdBefore"
        )
    by_created = created_after is not None
    after = created_after if by_created else updated_after
    before = created_before if by_created else updated_before
    after_name = "createdAfter" if by_created else "lastUpdatedAfter"
    before_name = "createdBefore" if by_created else "lastUpdatedBefore"
    latest = floor_seconds(server.now() - timedelta(seconds=server.settle_seconds))
    before_given = before is not None
    if before_given:
        if before < after:
            raise invalid_input(
                f"{before_name} must be equal to or after {after_name}.", before_name
            )
        if before > latest:
            raise invalid_input(
                f"{before_name} must be at least {server.settle_seconds} seconds "
                "before the time of the request.",
                before_name,
            )
    else:
        before = latest
        if after > before:
            raise invalid_input(
                f"{after_name} must be at least {server.settle_seconds} seconds "
                "before the time of the request.",
                after_name,
            )
    statuses = _list(request, "fulfillmentStatuses", FULFILLMENT_STATUSES)
    fulfilled_by = _list(request, "fulfilledBy", FULFILLED_BY)
    return _Search(
        by_created=by_created,
        after=after,
        before=before,
        before_given=before_given,
        statuses=frozenset(statuses or ()),
        marketplaces=frozenset(_marketplaces(request, request.seller)),
        fulfilled_by=frozenset(fulfilled_by or ()),
    )


def _matches(stored, search):
    moment = stored.created if search.by_created else stored.updated
    if not search.after <= moment <= search.before:
        return False
    order = stored.order
    channel = (
        order.get("salesChannel") if isinstance(order.get("salesChannel"), dict) else {}
    )
    if channel.get("marketplaceId") not in search.marketplaces:
        return False
    fulfillment = (
        order.get("fulfillment") if isinstance(order.get("fulfillment"), dict) else {}
    )
    if search.statuses and fulfillment.get("fulfillmentStatus") not in search.statuses:
        return False
    if (
        search.fulfilled_by
        and fulfillment.get("fulfilledBy") not in search.fulfilled_by
    ):
        return False
    return True


def _sort_key(stored, search, order_id):
    return (stored.created if search.by_created else stored.updated, order_id)


def _page_state(server, request, token):
    with server.state.lock:
        pages = server.state.pages
        now = time.time()
        for key in [key for key, page in pages.items() if page["expires"] < now]:
            del pages[key]
        page = pages.get(token)
    if page is None or page["seller_id"] != request.seller.seller_id:
        raise invalid_input("Invalid paginationToken.", "paginationToken")
    return page


# handlers --------------------------------------------------------------------


def search_orders(server, request):
    token = _single(request, "paginationToken")
    page = _page_state(server, request, token) if token is not None else None
    search = _parse_search(server, request)
    if page is not None:
        if page["signature"] != search.signature():
            raise invalid_input(
                "The request parameters do not match the paginationToken; only "
                "maxResultsPerPage and includedData may change between pages.",
                "paginationToken",
            )
        search.before = page["before"]
    size = _page_size(request)
    included = _included(request)

    seller_id = request.seller.seller_id
    with server.state.lock:
        stored = server.state.sellers[seller_id].orders
        found = sorted(
            (
                (_sort_key(item, search, oid), item)
                for oid, item in stored.items()
                if _matches(item, search)
            ),
            key=lambda pair: pair[0],
        )
    if page is not None:
        found = [pair for pair in found if pair[0] > page["last_key"]]
    chosen = found[:size]
    body = {"orders": [strip_order(item.order, included) for _, item in chosen]}
    if len(found) > size:
        next_token = secrets.token_urlsafe(24)
        with server.state.lock:
            server.state.pages[next_token] = {
                "seller_id": seller_id,
                "signature": search.signature(),
                "before": search.before,
                "last_key": chosen[-1][0],
                "expires": time.time() + PAGE_TOKEN_LIFETIME,
            }
        body["pagination"] = {"nextToken": next_token}
    body["createdBefore" if search.by_created else "lastUpdatedBefore"] = format_time(
        search.before
    )
    return Reply(200, body)


def get_order(server, request):
    order_id = request.path_params["orderId"]
    included = _included(request)
    with server.state.lock:
        stored = server.state.sellers[request.seller.seller_id].orders.get(order_id)
        order = strip_order(stored.order, included) if stored is not None else None
    if order is None:
        if not ORDER_ID_PATTERN.match(order_id):
            raise invalid_input(f"Invalid orderId {order_id!r}.", "orderId")
        raise ApiError(404, "NotFound", "The requested order was not found.", order_id)
    return Reply(200, {"order": order})


ROUTES = [
    Route(
        "GET", "/orders/2026-01-01/orders", SEARCH, search_orders, rate=0.0056, burst=20
    ),
    Route(
        "GET", "/orders/2026-01-01/orders/{orderId}", GET, get_order, rate=0.5, burst=30
    ),
]
