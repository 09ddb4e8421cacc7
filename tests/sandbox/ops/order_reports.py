"""Reports 2021-06-30: the order history reports a seller requests.

POST /reports/2021-06-30/reports (createReport) takes ``reportType``,
``marketplaceIds`` (the seller's, 1 to 25), ``dataStartTime`` and
``dataEndTime`` (default: now; an end in the future becomes now, the window
is at most 30 days) for

- ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``: the orders whose
  lastUpdatedTime lies in the window,
- ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL``: the orders whose
  createdTime (purchase date) does,

and answers 202 with the reportId. Any other type is refused with 400, the
settlement reports too (Amazon makes them itself). The report holds the
seller's stored orders as they are when it is requested.

GET /reports/2021-06-30/reports/{reportId} (getReport, in ops.reports, which
also lists these reports in getReports) shows it IN_QUEUE for
``queue_seconds`` of sandbox time, IN_PROGRESS for ``processing_seconds``,
then DONE with a reportDocumentId, CANCELLED without one when the window
holds no order, or FATAL (with the id of a small JSON error document) when
the seller's options said so at creation.

The document (getReportDocument and the presigned download of ops.reports)
is Amazon's tab-separated flat file: a header line, then a row per order
item, the rows of an order together, the orders by purchase date. Its money
is the order's searchOrders proceeds to the cent: item-price is the item's
ITEM breakdown (the whole quantity), shipping-price and gift-wrap-price the
SHIPPING and GIFT_WRAP ones (VAT included where the marketplace's prices
include it), the taxes the TAX breakdown's details of the same subtypes,
and the two promotion discounts the DISCOUNT breakdown's ITEM and SHIPPING
details, negative. A cell the order has no amount for is empty. The ship-to
columns are the recipient's city, region, postal code and country; the
buyer's name, street and e-mail are not in the report.

It is UTF-8, except for Amazon.co.jp (windows-31j, i.e. cp932); the seller's
options can name another charset (cp1252 for the European stores that write
it), leave the charset out of the Content-Type, or compress the document
with gzip. Options are read when a report is requested.

Controls (Python: server.configure_order_reports(), server.order_reports();
HTTP: /_sandbox/order-reports).
"""

import codecs
import gzip
import hashlib
import itertools
import json
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from ..ledger import numeric_id, opaque_id
from ..marketplaces import MARKETPLACES
from ..money import format_amount
from ..routing import Reply, Route, invalid_input
from ..timeutil import floor_seconds, format_time, parse_time

CREATE = "createReport"
PATH = "/reports/2021-06-30/reports"
BY_LAST_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
BY_ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
REPORT_TYPES = (BY_LAST_UPDATE, BY_ORDER_DATE)
# Amazon makes these on its own schedule; createReport refuses them.
MADE_BY_AMAZON = (
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
    "GET_V2_SETTLEMENT_REPORT_DATA_XML",
)
MAX_WINDOW = timedelta(days=30)
MAX_MARKETPLACES = 25
ERROR_DETAILS = (
    "The report could not be generated because of an internal error. "
    "Request the report again."
)

COLUMNS = (
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "url",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
)

ORDER_STATUSES = {
    "PENDING_AVAILABILITY": "Pending",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Cancelled",
    "UNFULFILLABLE": "Unfulfillable",
}
# What Amazon's flat file says of a shipped order once the carrier reports
# on it, with the share of orders (in percent) the sandbox gives each.
SHIPPED_STATUSES = (
    ("Shipped", 45),
    ("Shipped - Delivered to Buyer", 40),
    ("Shipped - Out for Delivery", 6),
    ("Shipped - Picked Up", 5),
    ("Shipped - Returned to Seller", 2),
    ("Shipped - Rejected by Buyer", 2),
)
FULFILLMENT_CHANNELS = {"AMAZON": "Amazon", "MERCHANT": "Merchant"}
SERVICE_LEVELS = {
    "STANDARD": "Standard",
    "EXPEDITED": "Expedited",
    "NEXT_DAY": "NextDay",
    "SECOND_DAY": "SecondDay",
    "SAME_DAY": "SameDay",
    "SCHEDULED": "Scheduled",
    "PRIORITY": "Priority",
    "FREE_ECONOMY": "FreeEconomy",
}
REGIONS = {"NA": "na", "EU": "eu", "FE": "fe"}
# How Amazon names the charsets in the Content-Type of a download.
CHARSET_LABELS = {
    "utf-8": "UTF-8",
    "cp1252": "Cp1252",
    "cp932": "windows-31j",
    "shift_jis": "Shift_JIS",
    "iso8859-1": "ISO-8859-1",
}
CODEC_ALIASES = {"windows-31j": "cp932", "ms932": "cp932"}


@dataclass
class OrderReportOptions:
    queue_seconds: float = 30.0
    processing_seconds: float = 60.0
    fatal: bool = False
    encoding: str = None  # None: per marketplace (windows-31j for JP, else UTF-8)
    charset_header: bool = True
    compression: str = None  # None or "GZIP"
    # {order id: {column: text}}: cells written as given, to test how a
    # reader copes with values Amazon's documentation does not foresee.
    corrupt: dict = field(default_factory=dict)


@dataclass
class OrderReport:
    seller_id: str
    report_id: str
    report_type: str
    marketplace_ids: list
    start: datetime
    end: datetime
    created: float  # sandbox clock seconds
    queue_seconds: float
    processing_seconds: float
    fatal: bool
    codec: str
    charset: str  # the Content-Type's charset, None when left out
    compression: str
    rows: list = field(default_factory=list)
    order_ids: list = field(default_factory=list)
    document_id: str = None
    error_document_id: str = None

    def status(self, now):
        elapsed = now - self.created
        if elapsed < self.queue_seconds:
            return "IN_QUEUE"
        if elapsed < self.queue_seconds + self.processing_seconds:
            return "IN_PROGRESS"
        if self.fatal:
            return "FATAL"
        return "DONE" if self.rows else "CANCELLED"


class _Book:
    def __init__(self):
        self.lock = threading.RLock()
        self.options = {}
        self.reports = {}  # seller id -> {report id: OrderReport}
        self.documents = {}  # document id -> (OrderReport, is the error document)
        self.counter = 0


_BOOKS_LOCK = threading.Lock()


def _book(server):
    with _BOOKS_LOCK:
        found = getattr(server.state, "order_reports", None)
        if found is None:
            found = server.state.order_reports = _Book()
        return found


def options_of(server, seller_id):
    book = _book(server)
    with book.lock:
        return book.options.setdefault(seller_id, OrderReportOptions())


def _moment(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc)


# the flat file -------------------------------------------------------------------


def _date_text(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return [entry for entry in value if isinstance(entry, dict)] if value else []


def _amount(money):
    try:
        return Decimal(str(_dict(money)["amount"]))
    except (KeyError, InvalidOperation):
        return None


def _parts(breakdown):
    """{subtype: amount} of a breakdown's details; an amount the details do
    not account for is put to ITEM, so that the parts add up to the subtotal."""
    if breakdown is None:
        return {}
    parts = {}
    for detail in _list(breakdown.get("detailedBreakdowns")):
        amount = _amount(detail.get("value"))
        if amount is not None:
            subtype = detail.get("subtype")
            parts[subtype] = parts.get(subtype, Decimal(0)) + amount
    subtotal = _amount(breakdown.get("subtotal"))
    if subtotal is not None:
        rest = subtotal - sum(parts.values(), Decimal(0))
        if rest or not parts:
            parts["ITEM"] = parts.get("ITEM", Decimal(0)) + rest
    return parts


def item_money(item):
    """The money columns of an order item: {column: Decimal or None}."""
    breakdowns = {}
    for breakdown in _list(_dict(item.get("proceeds")).get("breakdowns")):
        breakdowns.setdefault(breakdown.get("type"), breakdown)
    tax = _parts(breakdowns.get("TAX"))
    discount = _parts(breakdowns.get("DISCOUNT"))

    def subtotal(kind):
        found = breakdowns.get(kind)
        return None if found is None else _amount(found.get("subtotal"))

    return {
        "item-price": subtotal("ITEM"),
        "item-tax": tax.get("ITEM"),
        "shipping-price": subtotal("SHIPPING"),
        "shipping-tax": tax.get("SHIPPING"),
        "gift-wrap-price": subtotal("GIFT_WRAP"),
        "gift-wrap-tax": tax.get("GIFT_WRAP"),
        "item-promotion-discount": discount.get("ITEM"),
        "ship-promotion-discount": discount.get("SHIPPING"),
    }


def _shipped_status(order_id):
    roll = int.from_bytes(hashlib.sha256(order_id.encode()).digest()[:4], "big") % 100
    for status, share in SHIPPED_STATUSES:
        if roll < share:
            return status
        roll -= share
    return "Shipped"


def order_status(order):
    """The order-status of Amazon's flat file."""
    fulfillment = _dict(order.get("fulfillment"))
    status = fulfillment.get("fulfillmentStatus")
    if status == "SHIPPED":
        return _shipped_status(str(order.get("orderId") or ""))
    if status == "PARTIALLY_SHIPPED" and fulfillment.get("fulfilledBy") == "AMAZON":
        return "Shipping"
    return ORDER_STATUSES.get(status, status or "")


def _item_status(order, item):
    if _dict(order.get("fulfillment")).get("fulfillmentStatus") == "CANCELLED":
        return "Cancelled"
    fulfilled = _dict(item.get("fulfillment")).get("quantityFulfilled") or 0
    ordered = item.get("quantityOrdered") or 0
    return "Shipped" if ordered and fulfilled >= ordered else "Unshipped"


def _camel(value):
    """BUSINESS_PRICE -> BusinessPrice."""
    return "".join(part.capitalize() for part in str(value).split("_"))


def _merchant_order_id(order):
    for alias in _list(order.get("orderAliases")):
        if alias.get("aliasType") == "SELLER_ORDER_ID":
            return alias.get("aliasId") or ""
    return ""


def order_rows(stored):
    """The rows of one stored order: dicts by column, money as Decimal."""
    order = stored.order
    channel = _dict(order.get("salesChannel"))
    marketplace = MARKETPLACES.get(channel.get("marketplaceId"), {})
    fulfillment = _dict(order.get("fulfillment"))
    address = _dict(_dict(order.get("recipient")).get("deliveryAddress"))
    level = fulfillment.get("fulfillmentServiceLevel") or ""
    programs = order.get("programs") or ()
    common = {
        "amazon-order-id": order.get("orderId") or "",
        "merchant-order-id": _merchant_order_id(order),
        "purchase-date": _date_text(stored.created),
        "last-updated-date": _date_text(stored.updated),
        "order-status": order_status(order),
        "fulfillment-channel": FULFILLMENT_CHANNELS.get(
            fulfillment.get("fulfilledBy"), ""
        ),
        "sales-channel": marketplace.get("name") or channel.get("marketplaceName", ""),
        "ship-service-level": SERVICE_LEVELS.get(level, _camel(level) if level else ""),
        "ship-city": address.get("city") or "",
        "ship-state": address.get("stateOrRegion") or "",
        "ship-postal-code": address.get("postalCode") or "",
        "ship-country": address.get("countryCode") or "",
        "is-business-order": "true" if "AMAZON_BUSINESS" in programs else "false",
        "purchase-order-number": _dict(order.get("buyer")).get(
            "buyerPurchaseOrderNumber"
        )
        or "",
    }
    rows = []
    for item in _list(order.get("orderItems")):
        product = _dict(item.get("product"))
        designation = _dict(product.get("price")).get("priceDesignation")
        promotions = [
            p.get("promotionId")
            for p in _list(_dict(item.get("promotion")).get("breakdowns"))
            if p.get("promotionId")
        ]
        row = dict(common)
        row.update(
            {
                "product-name": product.get("title") or "",
                "sku": product.get("sellerSku") or "",
                "asin": product.get("asin") or "",
                "item-status": _item_status(order, item),
                "quantity": item.get("quantityOrdered", ""),
                "currency": marketplace.get("currency", ""),
                "promotion-ids": ",".join(promotions),
                "price-designation": _camel(designation) if designation else "",
            }
        )
        row.update(item_money(item))
        rows.append(row)
    return rows


def _cell(value, currency):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_amount(value, currency)
    return re.sub(r"[\t\r\n]+", " ", str(value))


def document_text(report):
    lines = ["\t".join(COLUMNS)]
    for row in report.rows:
        currency = row.get("currency")
        lines.append("\t".join(_cell(row.get(c), currency) for c in COLUMNS))
    return "\n".join(lines) + "\n"


# requests ----------------------------------------------------------------------


def _body(request):
    try:
        body = request.json()
    except ValueError:
        raise invalid_input("The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise invalid_input("The request body must be a JSON object.")
    return body


def _report_type(body):
    report_type = body.get("reportType")
    if not isinstance(report_type, str) or not report_type.strip():
        raise invalid_input("reportType is required.", "reportType")
    if report_type in MADE_BY_AMAZON:
        raise invalid_input(
            f"Report type {report_type} cannot be requested; Amazon creates it "
            "on its own schedule.",
            "reportType",
        )
    if report_type not in REPORT_TYPES:
        raise invalid_input(f"Invalid reportType {report_type!r}.", "reportType")
    return report_type


def _marketplaces(body, seller):
    ids = body.get("marketplaceIds")
    if not isinstance(ids, list) or not ids:
        raise invalid_input("marketplaceIds is required.", "marketplaceIds")
    if len(ids) > MAX_MARKETPLACES:
        raise invalid_input(
            f"marketplaceIds accepts at most {MAX_MARKETPLACES} values.",
            "marketplaceIds",
        )
    for mid in ids:
        if not isinstance(mid, str) or mid not in MARKETPLACES:
            raise invalid_input(f"Invalid marketplace id {mid!r}.", "marketplaceIds")
        if mid not in seller.marketplaces:
            raise invalid_input(
                f"The seller does not participate in marketplace {mid}.",
                "marketplaceIds",
            )
    return list(dict.fromkeys(ids))


def _time(body, name, default):
    value = body.get(name)
    if value is None:
        return default
    try:
        return floor_seconds(parse_time(value))
    except ValueError:
        raise invalid_input(
            f"{name} must be an ISO 8601 date-time, got {value!r}.", name
        ) from None


def _window(server, body):
    now = floor_seconds(server.now())
    start = _time(body, "dataStartTime", now)
    end = _time(body, "dataEndTime", now)
    if start > end:
        raise invalid_input(
            "dataStartTime must be before or equal to dataEndTime.", "dataStartTime"
        )
    if start > now:
        raise invalid_input(
            "dataStartTime must be before or equal to the current time.",
            "dataStartTime",
        )
    end = min(end, now)
    if end - start > MAX_WINDOW:
        raise invalid_input(
            "The date range of this report type is at most 30 days.",
            "dataStartTime, dataEndTime",
        )
    return start, end


def _report_options(body):
    options = body.get("reportOptions")
    if options is None:
        return
    if not isinstance(options, dict) or not all(
        isinstance(v, str) for v in options.values()
    ):
        raise invalid_input("reportOptions must map names to strings.", "reportOptions")


def codec_of(encoding, marketplace_ids):
    """(Python codec, Content-Type charset) of a document."""
    if encoding is None:
        japanese = all(
            MARKETPLACES[mid]["countryCode"] == "JP" for mid in marketplace_ids
        )
        encoding = "cp932" if japanese else "utf-8"
    name = codecs.lookup(CODEC_ALIASES.get(encoding.lower(), encoding)).name
    return name, CHARSET_LABELS.get(name, encoding)


def _document_id(report, kind):
    region = REGIONS[MARKETPLACES[report.marketplace_ids[0]]["region"]]
    digest = opaque_id("order-report", report.seller_id, report.report_id, kind)
    return f"amzn1.spdoc.1.4.{region}." + re.sub(r"[^A-Za-z0-9]", "0", digest)[:36]


def _rows(server, seller_id, report_type, marketplace_ids, start, end):
    """(rows, order ids) of the seller's orders in the window, by purchase date."""
    wanted = set(marketplace_ids)
    by_created = report_type == BY_ORDER_DATE
    with server.state.lock:
        found = []
        for stored in server.state.sellers[seller_id].orders.values():
            moment = stored.created if by_created else stored.updated
            channel = _dict(stored.order.get("salesChannel"))
            if start <= moment <= end and channel.get("marketplaceId") in wanted:
                found.append(stored)
        found.sort(key=lambda s: (s.created, str(s.order.get("orderId"))))
        rows = [row for stored in found for row in order_rows(stored)]
        return rows, [stored.order.get("orderId") for stored in found]


def create_report(server, request):
    body = _body(request)
    seller = request.seller
    report_type = _report_type(body)
    marketplace_ids = _marketplaces(body, seller)
    _report_options(body)
    start, end = _window(server, body)
    options = options_of(server, seller.seller_id)
    codec, charset = codec_of(options.encoding, marketplace_ids)
    rows, order_ids = _rows(
        server, seller.seller_id, report_type, marketplace_ids, start, end
    )
    if options.corrupt:
        rows = [dict(r, **options.corrupt.get(r["amazon-order-id"], {})) for r in rows]
    book = _book(server)
    with book.lock:
        book.counter += 1
        number, attempts = book.counter, itertools.count()
        report_id = server.state.unique_id(
            lambda: numeric_id(
                11, "order-report", seller.seller_id, number, next(attempts)
            )
        )
        report = OrderReport(
            seller_id=seller.seller_id,
            report_id=report_id,
            report_type=report_type,
            marketplace_ids=marketplace_ids,
            start=start,
            end=end,
            created=float(int(server.clock.time())),
            queue_seconds=options.queue_seconds,
            processing_seconds=options.processing_seconds,
            fatal=options.fatal,
            codec=codec,
            charset=charset if options.charset_header else None,
            compression=options.compression,
            rows=rows,
            order_ids=order_ids,
        )
        if report.fatal:
            report.error_document_id = _document_id(report, "error")
            book.documents[report.error_document_id] = (report, True)
        elif report.rows:
            report.document_id = _document_id(report, "report")
            book.documents[report.document_id] = (report, False)
        book.reports.setdefault(seller.seller_id, {})[report_id] = report
    return Reply(202, {"reportId": report_id})


# what ops.reports serves -----------------------------------------------------------


def report_body(report, now):
    """The Report object of the model, as it stands at ``now`` (clock seconds)."""
    status = report.status(now)
    body = {
        "reportType": report.report_type,
        "processingEndTime": format_time(
            _moment(report.created + report.queue_seconds + report.processing_seconds)
        ),
        "processingStatus": status,
        "marketplaceIds": list(report.marketplace_ids),
        "reportId": report.report_id,
        "dataEndTime": format_time(report.end),
        "createdTime": format_time(_moment(report.created)),
        "processingStartTime": format_time(
            _moment(report.created + report.queue_seconds)
        ),
        "dataStartTime": format_time(report.start),
    }
    if status in ("IN_QUEUE", "IN_PROGRESS"):
        body.pop("processingEndTime")
    if status == "IN_QUEUE":
        body.pop("processingStartTime")
    if status == "DONE":
        body["reportDocumentId"] = report.document_id
    elif status == "FATAL":
        body["reportDocumentId"] = report.error_document_id
    return body


def listed(server, seller_id):
    """The Report objects of the seller's order reports, as they stand now."""
    book = _book(server)
    now = server.clock.time()
    with book.lock:
        found = list(book.reports.get(seller_id, {}).values())
    return [report_body(report, now) for report in found]


def report_of(server, seller_id, report_id):
    """The Report object of one of the seller's order reports, or None."""
    book = _book(server)
    with book.lock:
        report = book.reports.get(seller_id, {}).get(report_id)
    return None if report is None else report_body(report, server.clock.time())


def _ready_document(server, document_id, seller_id=None):
    """(report, is the error document) of a document that exists by now."""
    book = _book(server)
    with book.lock:
        found = book.documents.get(document_id)
    if found is None:
        return None
    report, _error = found
    if seller_id is not None and report.seller_id != seller_id:
        return None
    if report.status(server.clock.time()) not in ("DONE", "FATAL"):
        return None
    return found


def document_body(server, seller_id, document_id):
    """getReportDocument's answer for an order report's document, or None."""
    found = _ready_document(server, document_id, seller_id)
    if found is None:
        return None
    report, error = found
    body = {
        "reportDocumentId": document_id,
        "url": f"{server.url}/_sandbox/report-documents/{document_id}",
    }
    if report.compression and not error:
        body["compressionAlgorithm"] = report.compression
    return body


def download(server, document_id):
    """The download of an order report's document (a Reply), or None."""
    found = _ready_document(server, document_id)
    if found is None:
        return None
    report, error = found
    if error:
        data = json.dumps({"errorDetails": ERROR_DETAILS}).encode("utf-8")
        return Reply(200, raw=data, content_type="application/json; charset=UTF-8")
    # What the charset cannot write becomes "?", as in Amazon's own files.
    data = document_text(report).encode(report.codec, errors="replace")
    if report.compression:
        data = gzip.compress(data)
    content_type = "text/plain"
    if report.charset:
        content_type += f"; charset={report.charset}"
    return Reply(200, raw=data, content_type=content_type)


# controls ----------------------------------------------------------------------


def _seconds_option(name, value):
    seconds = float(value)
    if seconds < 0:
        raise ValueError(f"{name} is 0 or more seconds")
    return seconds


def configure(server, seller_id=None, **changes):
    """Set the seller's options for the order reports it requests from now
    on; ``gzip=True`` is ``compression="GZIP"``. Returns the options."""
    seller = server.state.seller(seller_id)
    options = options_of(server, seller.seller_id)
    if "gzip" in changes:
        changes["compression"] = "GZIP" if changes.pop("gzip") else None
    for name, value in changes.items():
        if not hasattr(options, name):
            raise TypeError(f"unknown order report option {name!r}")
        if name in ("queue_seconds", "processing_seconds"):
            value = _seconds_option(name, value)
        elif name in ("fatal", "charset_header"):
            value = bool(value)
        elif name == "corrupt":
            value = {str(k): dict(v) for k, v in (value or {}).items()}
        elif name == "compression" and value not in (None, "GZIP"):
            raise ValueError("compression is None or GZIP")
        elif name == "encoding" and value is not None:
            try:
                codecs.lookup(CODEC_ALIASES.get(str(value).lower(), str(value)))
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}") from None
        setattr(options, name, value)
    return asdict(options)


def summaries(server, seller_id=None):
    """The seller's order reports, oldest first, with what they hold."""
    seller = server.state.seller(seller_id)
    book = _book(server)
    now = server.clock.time()
    with book.lock:
        found = list(book.reports.get(seller.seller_id, {}).values())
    result = []
    for report in found:
        body = report_body(report, now)
        body.update(
            {
                "orderIds": list(report.order_ids),
                "rows": len(report.rows),
                "encoding": report.codec,
                "charset": report.charset,
                "compression": report.compression,
                "documentId": report.document_id,
                "errorDocumentId": report.error_document_id,
            }
        )
        result.append(body)
    return result


ROUTES = [
    Route("POST", PATH, CREATE, create_report, rate=0.0167, burst=15),
]
