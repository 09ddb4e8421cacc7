"""Finances 2024-06-19: listTransactions, and the sandbox's refund controls.

GET /finances/2024-06-19/transactions lists the transactions posted for the
seller's orders (see ledger.py for their shapes and amounts), oldest first,
as the model describes the query:

- postedAfter: on or after (ISO 8601; the model's examples give plain dates,
  taken as midnight UTC); required unless a related identifier is given; it
  must lie at least settle_seconds (two minutes) before the request.
- postedBefore: before, not on; later than postedAfter and at least two
  minutes before the request; default: two minutes before the request. When
  postedAfter and postedBefore are more than 180 days apart the answer is
  empty, as the model says (no error).
- marketplaceId: one marketplace; as the model warns, US merchant-fulfilled
  (MFN) transactions are left out when the US marketplace is given.
- transactionStatus: DEFERRED, RELEASED or DEFERRED_RELEASED.
- relatedIdentifierName and relatedIdentifierValue, together: ORDER_ID or
  FINANCIAL_EVENT_GROUP_ID, the only names Amazon filters by.
- nextToken: from the previous page, with the same other parameters.

Unknown parameters are ignored (python-amazon-sp-api adds MarketplaceId,
MarketplaceIds, marketplace_ids and marketplaceIds to every GET). A bad
request answers 400 with one InvalidInput error per bad parameter. A
transaction is listed once the clock reaches its first listing time, which
for a late posting lies after its postedDate.
"""

import copy
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..ledger import (
    REFUND_KINDS,
    STATUSES,
    US,
    amounts_entries,
    lag_seconds,
    numeric_id,
    order_marketplace,
    order_network,
    planted_transaction,
    refund_entries,
    refund_transaction,
    rng_for,
    shipment_transaction,
)
from ..marketplaces import MARKETPLACES, resolve_marketplace
from ..routing import Reply, Route, invalid_input
from ..timeutil import as_datetime, floor_seconds, parse_time

LIST = "listTransactions"
PATH = "/finances/2024-06-19/transactions"
PARAMETERS = (
    "postedAfter",
    "postedBefore",
    "marketplaceId",
    "transactionStatus",
    "relatedIdentifierName",
    "relatedIdentifierValue",
    "nextToken",
)
FILTER_IDENTIFIERS = ("ORDER_ID", "FINANCIAL_EVENT_GROUP_ID")
RELATED_IDENTIFIERS = (
    "ORDER_ID",
    "SHIPMENT_ID",
    "FINANCIAL_EVENT_GROUP_ID",
    "REFUND_ID",
    "INVOICE_ID",
    "DISBURSEMENT_ID",
    "TRANSFER_ID",
    "DEFERRED_TRANSACTION_ID",
    "RELEASE_TRANSACTION_ID",
    "SETTLEMENT_ID",
)
MAX_WINDOW = timedelta(days=180)
TOKEN_LIFETIME = timedelta(hours=24)
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MISSING = object()


def _problem(name, message):
    return {"code": "InvalidInput", "message": message, "details": name}


def _single(request, name, problems):
    values = request.values(name)
    if len(values) > 1:
        problems.append(_problem(name, f"The parameter {name} may be given only once."))
    return values[0] if values else None


def parse_moment(text):
    """A date-time, or a plain date taken as midnight UTC; ValueError else."""
    value = text.strip()
    if DATE_ONLY.match(value):
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return parse_time(value)


def _moment(request, name, problems):
    value = _single(request, name, problems)
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError:
        problems.append(
            _problem(
                name,
                f"{name} must be an ISO 8601 date-time such as "
                f"2026-01-31T15:00:00Z, got {value!r}.",
            )
        )
        return None


@dataclass
class _Query:
    after: object
    before: object
    before_given: bool
    marketplace_id: str
    status: str
    identifier: tuple

    def signature(self):
        return (
            self.after,
            self.before if self.before_given else None,
            self.marketplace_id,
            self.status,
            self.identifier,
        )


def _settle_text(seconds):
    if seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"


def _parse(server, request):
    problems = []
    after = _moment(request, "postedAfter", problems)
    before = _moment(request, "postedBefore", problems)
    marketplace_id = _single(request, "marketplaceId", problems)
    status = _single(request, "transactionStatus", problems)
    name = _single(request, "relatedIdentifierName", problems)
    value = _single(request, "relatedIdentifierValue", problems)
    settle = server.state.finances.settle_seconds
    latest = server.now() - timedelta(seconds=settle)
    wait = _settle_text(settle)

    identifier = None
    if name is not None and name not in FILTER_IDENTIFIERS:
        known = (
            "is not a related identifier"
            if name not in RELATED_IDENTIFIERS
            else ("cannot be used for filtering")
        )
        problems.append(
            _problem(
                "relatedIdentifierName",
                f"relatedIdentifierName {name!r} {known}; use ORDER_ID or "
                "FINANCIAL_EVENT_GROUP_ID.",
            )
        )
    elif name is not None and not (value or "").strip():
        problems.append(
            _problem(
                "relatedIdentifierValue",
                "relatedIdentifierValue is required with relatedIdentifierName "
                f"{name}.",
            )
        )
    elif name is None and value is not None:
        problems.append(
            _problem(
                "relatedIdentifierName",
                "relatedIdentifierName is required with relatedIdentifierValue.",
            )
        )
    elif name is not None:
        identifier = (name, value.strip())

    if after is None and "postedAfter" not in {p["details"] for p in problems}:
        if identifier is None and not request.values("relatedIdentifierName"):
            problems.append(
                _problem(
                    "postedAfter",
                    "Start date cannot be null: postedAfter is required unless "
                    "relatedIdentifierName and relatedIdentifierValue are given.",
                )
            )
    if after is not None and after > latest:
        problems.append(
            _problem(
                "postedAfter",
                f"postedAfter must be at least {wait} before the time of the request.",
            )
        )
    before_given = before is not None
    if before is not None:
        if after is not None and before <= after:
            problems.append(
                _problem("postedBefore", "postedBefore must be later than postedAfter.")
            )
        elif before > latest:
            problems.append(
                _problem(
                    "postedBefore",
                    f"postedBefore must be at least {wait} before the time of the "
                    "request.",
                )
            )
    else:
        before = latest
    if marketplace_id is not None:
        if marketplace_id not in MARKETPLACES:
            problems.append(
                _problem("marketplaceId", f"Invalid marketplaceId {marketplace_id!r}.")
            )
        elif marketplace_id not in request.seller.marketplaces:
            problems.append(
                _problem(
                    "marketplaceId",
                    f"The seller does not participate in marketplace {marketplace_id}.",
                )
            )
    if status is not None and status not in STATUSES:
        problems.append(
            _problem(
                "transactionStatus",
                f"Invalid transactionStatus {status!r}; allowed values: "
                f"{', '.join(STATUSES)}.",
            )
        )
    query = _Query(after, before, before_given, marketplace_id, status, identifier)
    return query, problems


# the seller's transactions ------------------------------------------------------


def seller_transactions(server, seller_id):
    """Every transaction posted for the seller (listed or not yet)."""
    state = server.state
    with state.lock:
        data = state.sellers[seller_id]
        found = list(data.transactions)
        for order_id, events in data.shipments.items():
            for index, event in enumerate(events):
                key = (order_id, event["key"])
                built = data.shipment_transactions.get(key, _MISSING)
                if built is _MISSING:
                    built = _build_shipment(state, data, order_id, events, index)
                    data.shipment_transactions[key] = built
                if built is not None:
                    found.append(built)
    return found


def _build_shipment(state, data, order_id, events, index):
    stored = data.orders.get(order_id)
    if stored is None:
        return None
    try:
        return shipment_transaction(
            data.seller.seller_id,
            stored.order,
            events[index],
            events[:index],
            state.finances,
        )
    except (ArithmeticError, AttributeError, KeyError, TypeError, ValueError):
        return None


def _raw_status(transaction):
    body = transaction.body if isinstance(transaction.body, dict) else {}
    status = body.get("transactionStatus")
    return status.upper() if isinstance(status, str) else None


def _matches(transaction, query, now):
    if transaction.visible > now:
        return False
    if query.after is not None and transaction.posted < query.after:
        return False
    if transaction.posted >= query.before:
        return False
    if query.marketplace_id is not None:
        if transaction.marketplace_id != query.marketplace_id:
            return False
        if query.marketplace_id == US and transaction.network == "MFN":
            return False
    if query.status is not None:
        status = (
            _raw_status(transaction) if transaction.raw else transaction.status(now)
        )
        if status != query.status:
            return False
    if query.identifier is not None:
        name, value = query.identifier
        found = transaction.order_id if name == "ORDER_ID" else transaction.group_id
        if found != value:
            return False
    return True


# pages ----------------------------------------------------------------------------


def _page_state(server, seller_id, token, now):
    with server.state.lock:
        pages = server.state.transaction_pages
        for key in [key for key, page in pages.items() if page["expires"] < now]:
            del pages[key]
        page = pages.get(token)
    if page is None or page["seller_id"] != seller_id:
        raise invalid_input("Invalid nextToken.", "nextToken")
    return page


def _save_page(server, seller_id, query, last_key, empty_left, now):
    token = secrets.token_urlsafe(24)
    with server.state.lock:
        server.state.transaction_pages[token] = {
            "seller_id": seller_id,
            "signature": query.signature(),
            "before": query.before,
            "last_key": last_key,
            "empty_left": empty_left,
            "expires": now + TOKEN_LIFETIME,
        }
    return token


def list_transactions(server, request):
    query, problems = _parse(server, request)
    token = _single(request, "nextToken", problems)
    if problems:
        return Reply(400, {"errors": problems})
    seller_id = request.seller.seller_id
    options = server.state.finances
    now = server.now()
    page = None
    if token is not None:
        page = _page_state(server, seller_id, token, now)
        if page["signature"] != query.signature():
            raise invalid_input(
                "The request parameters do not match the nextToken: call again "
                "with the same arguments as the call that produced it.",
                "nextToken",
            )
        query.before = page["before"]
    if query.after is not None and query.before - query.after > MAX_WINDOW:
        return Reply(200, {"payload": {"transactions": []}})
    last_key = page["last_key"] if page else None
    empty_left = page["empty_left"] if page else options.empty_pages
    if empty_left > 0:
        token = _save_page(server, seller_id, query, last_key, empty_left - 1, now)
        return Reply(200, {"payload": {"transactions": [], "nextToken": token}})
    found = sorted(
        (t for t in seller_transactions(server, seller_id) if _matches(t, query, now)),
        key=lambda t: t.sort_key(),
    )
    if last_key is not None:
        found = [t for t in found if t.sort_key() > last_key]
    size = options.page_size
    chosen = found[:size]
    body = {"transactions": [t.served(now) for t in chosen]}
    if len(found) > size:
        body["nextToken"] = _save_page(
            server, seller_id, query, chosen[-1].sort_key(), 0, now
        )
    return Reply(200, {"payload": body})


# controls -----------------------------------------------------------------------------


def configure(server, **options):
    with server.state.lock:
        return server.state.finances.update(**options).as_dict()


def _posting(server, posted, *parts):
    moment = floor_seconds(as_datetime(posted) if posted is not None else server.now())
    visible = moment + timedelta(
        seconds=lag_seconds(server.state.finances.listing_lag, "listing", *parts)
    )
    return moment, visible


def _wanted_units(items, amounts, by_id, order_id):
    """{order item id: units or None} that a refund_order call asks for."""
    if items is None:
        chosen = {item_id: None for item_id in (amounts or by_id)}
    elif isinstance(items, dict):
        chosen = {str(k): (None if v is None else int(v)) for k, v in items.items()}
    else:
        chosen = {str(item_id): None for item_id in items}
    for item_id in chosen:
        if item_id not in by_id:
            raise ValueError(f"{item_id} is not an item of order {order_id}")
    for item_id in amounts or ():
        if item_id not in chosen:
            raise ValueError(f"amounts name item {item_id}, which is not refunded")
    return chosen


def refund_order(
    server,
    order_id,
    items=None,
    kind="RETURN",
    amounts=None,
    seller_id=None,
    posted=None,
    reason=None,
):
    if kind not in REFUND_KINDS:
        raise ValueError(
            f"unknown refund kind {kind!r}; expected one of {REFUND_KINDS}"
        )
    state = server.state
    with state.lock:
        owner, stored = state.stored(order_id, seller_id)
        data = state.sellers[owner]
        order = stored.order
        marketplace_id = order_marketplace(order)
        currency = MARKETPLACES[marketplace_id]["currency"]
        by_id = {item["orderItemId"]: item for item in order.get("orderItems") or ()}
        shipped = {
            item_id: (item.get("fulfillment") or {}).get("quantityFulfilled") or 0
            for item_id, item in by_id.items()
        }
        amounts = {str(k): v for k, v in (amounts or {}).items()}
        chosen = _wanted_units(items, amounts, by_id, order_id)
        count = len(data.transactions)
        rng = rng_for("refund", owner, order_id, count)
        lines, refunded = [], {}
        for item_id, units in chosen.items():
            item = by_id[item_id]
            done = data.refunded.get((order_id, item_id), 0)
            if kind == "GOODWILL":
                units = int(item["quantityOrdered"]) if units is None else units
            else:
                left = shipped[item_id] - done
                if units is None:
                    if left <= 0 and items is None and item_id not in amounts:
                        continue
                    units = left
                if not 1 <= units <= left:
                    raise ValueError(
                        f"item {item_id} of order {order_id} has {left} shipped "
                        f"unit(s) left to refund, not {units}"
                    )
                refunded[item_id] = done + units
            if item_id in amounts:
                entries = amounts_entries(amounts[item_id], currency)
            else:
                entries = refund_entries(order, item, done, units, kind)
            adjustment = state.unique_id(lambda: numeric_id(14, "item", rng.random()))
            lines.append((item, units, entries, adjustment))
        if not lines:
            raise ValueError(f"order {order_id} has nothing left to refund")
        refund_id = state.unique_id(lambda: numeric_id(13, "refund", rng.random()))
        moment, visible = _posting(server, posted, owner, refund_id)
        transaction = refund_transaction(
            owner,
            order_id,
            marketplace_id,
            order_network(order),
            lines,
            kind,
            refund_id,
            moment,
            visible,
            state.finances,
            description=reason,
        )
        data.transactions.append(transaction)
        for item_id, units in refunded.items():
            data.refunded[(order_id, item_id)] = units
        return transaction.served(server.now())


def post_refund(
    server,
    order_id,
    marketplace,
    items,
    kind="RETURN",
    seller_id=None,
    posted=None,
    reason=None,
    network="MFN",
):
    """A refund of any order id, known to the seller's orders or not, with
    the items and amounts given: items are {"sellerSku", "quantity",
    "amounts": {charge type: amount}, "asin", "title"} dicts."""
    if network not in ("AFN", "MFN"):
        raise ValueError("network is AFN (fulfilled by Amazon) or MFN")
    state = server.state
    marketplace_id = resolve_marketplace(marketplace)
    currency = MARKETPLACES[marketplace_id]["currency"]
    with state.lock:
        seller = state.seller(seller_id)
        data = state.sellers[seller.seller_id]
        count = len(data.transactions)
        rng = rng_for("posted-refund", seller.seller_id, order_id, count)
        lines = []
        for index, given in enumerate(items or ()):
            item = {
                "orderItemId": str(given.get("orderItemId") or f"line-{index}"),
                "product": {
                    "asin": given.get("asin") or "",
                    "title": given.get("title") or "",
                    "sellerSku": given.get("sellerSku") or "",
                },
            }
            entries = amounts_entries(given.get("amounts") or {}, currency)
            adjustment = state.unique_id(lambda: numeric_id(14, "item", rng.random()))
            lines.append((item, int(given.get("quantity", 1)), entries, adjustment))
        refund_id = state.unique_id(lambda: numeric_id(13, "refund", rng.random()))
        moment, visible = _posting(server, posted, seller.seller_id, refund_id)
        transaction = refund_transaction(
            seller.seller_id,
            order_id,
            marketplace_id,
            network,
            lines,
            kind,
            refund_id,
            moment,
            visible,
            state.finances,
            description=reason,
        )
        data.transactions.append(transaction)
        return transaction.served(server.now())


def add_transaction(server, transaction, seller_id=None, posted=None):
    state = server.state
    with state.lock:
        seller = state.seller(seller_id)
        stored = planted_transaction(transaction, posted, server.now())
        state.sellers[seller.seller_id].transactions.append(stored)
        return copy.deepcopy(stored.body)


def clear_refunds(server, seller_id=None):
    """Forget the seller's refunds and planted transactions (the units they
    refunded become refundable again); shipments stay."""
    state = server.state
    with state.lock:
        data = state.sellers[state.seller(seller_id).seller_id]
        data.transactions.clear()
        data.refunded.clear()


def transactions_of(server, seller_id=None, order_id=None):
    """Every transaction of the seller (of one order), listed yet or not, as
    served now, oldest first."""
    seller = server.state.seller(seller_id)
    now = server.now()
    found = sorted(
        (
            t
            for t in seller_transactions(server, seller.seller_id)
            if order_id is None or t.order_id == order_id
        ),
        key=lambda t: t.sort_key(),
    )
    return [t.served(now) for t in found]


ROUTES = [
    Route("GET", PATH, LIST, list_transactions, rate=0.5, burst=10),
]
