"""Reports 2021-06-30: Amazon's settlement reports of the sandbox's money,
and the listing, lookup and documents of every report (the order reports a
seller requests are made in ops.order_reports).

Amazon makes a ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`` report per
marketplace every 14 days (the periods of the financial event groups, see
ledger.event_group_id); it cannot be requested. The report of a period is
created an hour after the period ends and names a deposit two days after
the end. Its rows are the Finances transactions posted in the period (the
shipments and refunds listTransactions serves), amount by amount, so the
settlement, the orders and the Finances transactions agree to the cent; a
period with orders also carries a subscription fee, the reserve Amazon
holds back (5 % of what the buyers paid) and the release of the previous
period's reserve. ``total-amount`` is the sum of the rows.

GET /reports/2021-06-30/reports lists them and the requested order reports
newest first by reportTypes, processingStatuses, marketplaceIds,
createdSince (default 90 days ago), createdUntil and pageSize (1-100,
default 10); nextToken must come alone. GET /reports/2021-06-30/reports/{id}
gives one report. GET /reports/2021-06-30/documents/{id} gives a URL on the
sandbox (served without a token, as a presigned URL is) and
``compressionAlgorithm`` GZIP when documents are compressed.

Controls (Python and /_sandbox/settlements...): the document format
(gzip, Cp1252 with German dates and decimals, a charset in the content type
or not), a page size, and per settlement: rows planted (unknown types, an
order the seller's books lack), a total that the rows do not add up to, a
processing status (IN_PROGRESS, FATAL, ...), and a second report listing
the same settlement.
"""

import gzip
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from ..catalogue import PRICE_FACTORS
from ..ledger import EVENT_GROUP_DAYS, EVENT_GROUP_EPOCH, numeric_id, opaque_id
from ..marketplaces import MARKETPLACES
from ..money import decimals, quantize
from ..routing import ApiError, Reply, Route, invalid_input
from ..timeutil import as_datetime, format_time, parse_time
from . import order_reports
from .finances import seller_transactions

REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
LIST = "getReports"
GET = "getReport"
DOCUMENT = "getReportDocument"
PATH = "/reports/2021-06-30/reports"
REPORT_PATH = "/reports/2021-06-30/reports/{reportId}"
DOCUMENT_PATH = "/reports/2021-06-30/documents/{reportDocumentId}"
DOWNLOAD_PATH = "/_sandbox/report-documents/{reportDocumentId}"
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
PERIOD = timedelta(days=EVENT_GROUP_DAYS)
CREATED_AFTER_END = timedelta(hours=1)
DEPOSIT_AFTER_END = timedelta(days=2)
RETENTION = timedelta(days=90)
RESERVE_RATE = Decimal("0.05")
SUBSCRIPTION_USD = Decimal("39.99")
TOKEN_LIFETIME = timedelta(hours=24)

COLUMNS = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)

TRANSACTION_TYPES = {
    "Shipment": "Order",
    "Refund": "Refund",
    "GuaranteeClaim": "A-to-z Guarantee Claim",
    "Chargeback": "Chargeback Refund",
}
# Finances breakdown type -> (amount-type, amount-description)
AMOUNT_TYPES = {
    "OurPricePrincipal": ("ItemPrice", "Principal"),
    "OurPriceTax": ("ItemPrice", "Tax"),
    "ShippingPrincipal": ("ItemPrice", "Shipping"),
    "ShippingTax": ("ItemPrice", "ShippingTax"),
    "GiftwrapPrincipal": ("ItemPrice", "GiftWrap"),
    "GiftwrapTax": ("ItemPrice", "GiftWrapTax"),
    "GoodwillPrincipal": ("ItemPrice", "Goodwill"),
    "RestockingDeductionPrincipal": ("ItemPrice", "RestockingFee"),
    "RestockingDeductionTax": ("ItemPrice", "RestockingFeeTax"),
    "OurPriceDiscount": ("Promotion", "Principal"),
    "ShippingDiscount": ("Promotion", "Shipping"),
    "TaxDiscount": ("Promotion", "TaxDiscount"),
    "ShippingTaxDiscount": ("Promotion", "ShippingTaxDiscount"),
    "MarketplaceFacilitatorTax-Principal": (
        "ItemWithheldTax",
        "MarketplaceFacilitatorTax-Principal",
    ),
    "MarketplaceFacilitatorTax-Shipping": (
        "ItemWithheldTax",
        "MarketplaceFacilitatorTax-Shipping",
    ),
    "MarketplaceFacilitatorTax-Other": (
        "ItemWithheldTax",
        "MarketplaceFacilitatorTax-Other",
    ),
    "Commission": ("ItemFees", "Commission"),
    "RefundCommission": ("ItemFees", "RefundCommission"),
    "FBAPerUnitFulfillmentFee": ("ItemFees", "FBAPerUnitFulfillmentFee"),
    "ShippingChargeback": ("ItemFees", "ShippingChargeback"),
    "GiftwrapChargeback": ("ItemFees", "GiftwrapChargeback"),
}
BUYER_AMOUNT_TYPES = ("ItemPrice", "Promotion")


@dataclass
class Plant:
    """What a test planted on one settlement."""

    rows: list = field(default_factory=list)
    total_delta: Decimal = Decimal(0)
    status: str = None
    listed_twice: bool = False


@dataclass
class ReportOptions:
    compression: str = None  # None or "GZIP"
    encoding: str = "utf-8"  # or "cp1252"
    german: bool = False  # dd.mm.yyyy dates and decimal commas
    charset_header: bool = False  # Amazon sends none
    page_size: int = 10


@dataclass
class Settlement:
    seller_id: str
    marketplace_id: str
    period: int
    settlement_id: str
    start: datetime
    end: datetime
    transactions: list

    @property
    def created(self):
        return self.end + CREATED_AFTER_END

    @property
    def deposit(self):
        return self.end + DEPOSIT_AFTER_END

    @property
    def currency(self):
        return MARKETPLACES[self.marketplace_id]["currency"]


class _Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.options = {}
        self.plants = {}
        self.pages = {}


_STORES_LOCK = threading.Lock()


def _store(server):
    with _STORES_LOCK:
        store = getattr(server.state, "settlement_reports", None)
        if store is None:
            store = server.state.settlement_reports = _Store()
        return store


def options_of(server, seller_id):
    store = _store(server)
    with store.lock:
        return store.options.setdefault(seller_id, ReportOptions())


# settlements -------------------------------------------------------------------------


def period_of(moment):
    return (as_datetime(moment) - EVENT_GROUP_EPOCH) // PERIOD


def period_bounds(period):
    start = EVENT_GROUP_EPOCH + period * PERIOD
    return start, start + PERIOD


def settlement_id_of(seller_id, marketplace_id, period):
    return numeric_id(11, "settlement", seller_id, marketplace_id, period)


def settlements_of(server, seller_id, now=None):
    """The seller's settlements made by ``now`` (default: the clock), oldest
    first; each holds the transactions posted in its period."""
    now = now or server.now()
    groups = {}
    for transaction in seller_transactions(server, seller_id):
        if transaction.raw or not transaction.marketplace_id:
            continue
        key = (transaction.marketplace_id, period_of(transaction.posted))
        groups.setdefault(key, []).append(transaction)
    found = []
    for (marketplace_id, period), transactions in groups.items():
        start, end = period_bounds(period)
        settlement = Settlement(
            seller_id,
            marketplace_id,
            period,
            settlement_id_of(seller_id, marketplace_id, period),
            start,
            end,
            sorted(transactions, key=lambda t: t.sort_key()),
        )
        if settlement.created <= now:
            found.append(settlement)
    found.sort(key=lambda s: (s.created, s.settlement_id))
    return found


def _identifier(body, name):
    for entry in body.get("relatedIdentifiers") or ():
        if entry.get("relatedIdentifierName") == name:
            return entry.get("relatedIdentifierValue")
    return ""


def _item_identifier(item, name):
    for entry in item.get("relatedIdentifiers") or ():
        if entry.get("itemRelatedIdentifierName") == name:
            return entry.get("itemRelatedIdentifierValue")
    return ""


def _leaves(nodes):
    for node in nodes or ():
        children = node.get("breakdowns") or []
        names = {c.get("breakdownType") for c in children}
        if children and not names <= {"Base", "Tax"}:
            yield from _leaves(children)
        else:
            yield node


def _context(item):
    for context in item.get("contexts") or ():
        if context.get("contextType") == "ProductContext":
            return context
    return {}


def transaction_rows(transaction):
    """The settlement rows of one Finances transaction: dicts by column."""
    body = transaction.body
    kind = TRANSACTION_TYPES.get(body.get("transactionType"), body["transactionType"])
    refund = kind != "Order"
    rows = []
    for item in body.get("items") or ():
        context = _context(item)
        item_ref = _item_identifier(item, "ORDER_ADJUSTMENT_ITEM_ID")
        first = True
        for leaf in _leaves(item.get("breakdowns")):
            name = leaf["breakdownType"]
            amount_type, description = AMOUNT_TYPES.get(name, ("Other", name))
            amount = Decimal(str(leaf["breakdownAmount"]["currencyAmount"]))
            rows.append(
                {
                    "transaction-type": kind,
                    "order-id": _identifier(body, "ORDER_ID"),
                    "adjustment-id": _identifier(body, "REFUND_ID") if refund else "",
                    "shipment-id": "" if refund else _identifier(body, "SHIPMENT_ID"),
                    "amount-type": amount_type,
                    "amount-description": description,
                    "amount": amount,
                    "fulfillment-id": context.get("fulfillmentNetwork") or "",
                    "posted-date": transaction.posted,
                    "order-item-code": "" if refund else item_ref,
                    "merchant-adjustment-item-id": item_ref if refund else "",
                    "sku": context.get("sku") or "",
                    "quantity-purchased": (
                        context.get("quantityShipped") if first and not refund else ""
                    ),
                }
            )
            first = False
    return rows


def _buyer_paid(rows):
    return sum(
        (
            r["amount"]
            for r in rows
            if r["transaction-type"] == "Order"
            and r["amount-type"] in BUYER_AMOUNT_TYPES
        ),
        Decimal(0),
    )


def _reserve(rows, currency):
    return quantize(max(_buyer_paid(rows), Decimal(0)) * RESERVE_RATE, currency)


def _other_row(description, amount, posted, transaction_type="other-transaction"):
    return {
        "transaction-type": transaction_type,
        "amount-type": "other-transaction",
        "amount-description": description,
        "amount": amount,
        "posted-date": posted,
    }


def settlement_rows(server, settlement):
    """Every row of a settlement, the planted ones included, in Amazon's order."""
    currency = settlement.currency
    rows = []
    for transaction in settlement.transactions:
        rows += transaction_rows(transaction)
    factor = Decimal(PRICE_FACTORS.get(currency, "1"))
    last = settlement.end - timedelta(seconds=1)
    rows.append(
        _other_row(
            "Subscription Fee",
            -quantize(SUBSCRIPTION_USD * factor, currency),
            settlement.start,
        )
    )
    previous = _previous(server, settlement)
    if previous is not None:
        released = _reserve(
            [r for t in previous.transactions for r in transaction_rows(t)], currency
        )
        if released:
            rows.append(
                _other_row(
                    "Previous Reserve Amount Balance", released, settlement.start
                )
            )
    held = _reserve(rows, currency)
    if held:
        rows.append(_other_row("Current Reserve Amount", -held, last))
    plant = _plant(server, settlement.settlement_id)
    for planted in plant.rows if plant else ():
        row = dict(planted)
        row["amount"] = Decimal(str(row["amount"]))
        row.setdefault("posted-date", last)
        rows.append(row)
    return rows


def _previous(server, settlement):
    start, _end = period_bounds(settlement.period - 1)
    transactions = [
        t
        for t in seller_transactions(server, settlement.seller_id)
        if not t.raw
        and t.marketplace_id == settlement.marketplace_id
        and period_of(t.posted) == settlement.period - 1
    ]
    if not transactions:
        return None
    return Settlement(
        settlement.seller_id,
        settlement.marketplace_id,
        settlement.period - 1,
        settlement_id_of(
            settlement.seller_id, settlement.marketplace_id, settlement.period - 1
        ),
        start,
        start + PERIOD,
        transactions,
    )


def settlement_total(server, settlement, rows=None):
    rows = settlement_rows(server, settlement) if rows is None else rows
    total = sum((r["amount"] for r in rows), Decimal(0))
    plant = _plant(server, settlement.settlement_id)
    if plant:
        total += plant.total_delta
    return quantize(total, settlement.currency)


# formats ----------------------------------------------------------------------


def _date_text(moment, german):
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = parse_time(moment)
    moment = as_datetime(moment)
    if german:
        return moment.strftime("%d.%m.%Y %H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _amount_text(amount, currency, german):
    text = str(quantize(amount, currency)) if decimals(currency) else str(int(amount))
    return text.replace(".", ",") if german else text


def document_text(server, settlement, options):
    """The flat file of a settlement (str)."""
    german = options.german
    currency = settlement.currency
    rows = settlement_rows(server, settlement)
    total = settlement_total(server, settlement, rows)
    marketplace = MARKETPLACES[settlement.marketplace_id]["name"]
    lines = ["\t".join(COLUMNS)]
    first = dict.fromkeys(COLUMNS, "")
    first.update(
        {
            "settlement-id": settlement.settlement_id,
            "settlement-start-date": _date_text(settlement.start, german),
            "settlement-end-date": _date_text(settlement.end, german),
            "deposit-date": _date_text(settlement.deposit, german),
            "total-amount": _amount_text(total, currency, german),
            "currency": currency,
        }
    )
    lines.append("\t".join(first[c] for c in COLUMNS))
    for row in rows:
        cells = dict.fromkeys(COLUMNS, "")
        cells["settlement-id"] = settlement.settlement_id
        cells["marketplace-name"] = marketplace
        for name, value in row.items():
            if name == "amount":
                cells[name] = _amount_text(value, currency, german)
            elif name == "posted-date":
                cells[name] = _date_text(value, german)
            elif name in cells:
                cells[name] = "" if value is None else str(value)
        lines.append("\t".join(cells[c] for c in COLUMNS))
    return "\n".join(lines) + "\n"


# reports ----------------------------------------------------------------------


def _plant(server, settlement_id):
    store = _store(server)
    with store.lock:
        return store.plants.get(settlement_id)


def _report_id(settlement_id, copy):
    return numeric_id(11, "report", settlement_id, copy)


def _document_id(settlement_id, copy):
    digest = opaque_id("report-document", settlement_id, copy)
    return "amzn1.spdoc.1.4.eu." + re.sub(r"[^A-Za-z0-9]", "0", digest)[:36]


def reports_of(server, seller_id, now=None):
    """[(report dict, settlement)] of the seller, newest first."""
    found = []
    for settlement in settlements_of(server, seller_id, now):
        plant = _plant(server, settlement.settlement_id)
        copies = 2 if plant and plant.listed_twice else 1
        for copy in range(copies):
            status = (plant.status if plant else None) or "DONE"
            created = settlement.created + timedelta(minutes=5 * copy)
            report = {
                "reportType": REPORT_TYPE,
                "processingEndTime": format_time(created),
                "processingStatus": status,
                "marketplaceIds": [settlement.marketplace_id],
                "reportId": _report_id(settlement.settlement_id, copy),
                "dataEndTime": format_time(settlement.end),
                "createdTime": format_time(created),
                "processingStartTime": format_time(created),
                "dataStartTime": format_time(settlement.start),
            }
            if status == "DONE":
                report["reportDocumentId"] = _document_id(
                    settlement.settlement_id, copy
                )
            else:
                report.pop("processingEndTime")
                if status in ("IN_QUEUE",):
                    report.pop("processingStartTime")
            found.append((report, settlement))
    found.sort(key=lambda pair: (pair[0]["createdTime"], pair[0]["reportId"]))
    found.reverse()
    return found


def _moment(request, name, problems):
    values = request.values(name)
    if not values:
        return None
    try:
        return parse_time(values[0])
    except ValueError:
        problems.append(
            {
                "code": "InvalidInput",
                "message": f"{name} must be an ISO 8601 date-time.",
                "details": name,
            }
        )
        return None


def _csv(request, name):
    values = []
    for value in request.values(name):
        values += [v.strip() for v in value.split(",") if v.strip()]
    return values


def get_reports(server, request):
    seller_id = request.seller.seller_id
    store = _store(server)
    now = server.now()
    token = (request.values("nextToken") or [None])[0]
    if token is not None:
        others = {
            name
            for name, _value in request.query
            if name in ("reportTypes", "processingStatuses", "pageSize")
            or name in ("createdSince", "createdUntil")
        }
        if others:
            raise invalid_input(
                "nextToken must be the only parameter of the request.", "nextToken"
            )
        with store.lock:
            page = store.pages.get(token)
        if page is None or page["seller_id"] != seller_id or page["expires"] < now:
            raise invalid_input("Invalid nextToken.", "nextToken")
        return _page(server, store, seller_id, page["reports"], page["size"], now)
    problems = []
    types = _csv(request, "reportTypes")
    if not types:
        problems.append(
            {
                "code": "InvalidInput",
                "message": "reportTypes or nextToken is required.",
                "details": "reportTypes",
            }
        )
    statuses = _csv(request, "processingStatuses")
    for status in statuses:
        if status not in STATUSES:
            problems.append(
                {
                    "code": "InvalidInput",
                    "message": f"Invalid processingStatuses value {status!r}.",
                    "details": "processingStatuses",
                }
            )
    marketplaces = _csv(request, "marketplaceIds")
    since = _moment(request, "createdSince", problems) or now - RETENTION
    until = _moment(request, "createdUntil", problems) or now
    size = options_of(server, seller_id).page_size
    given = request.values("pageSize")
    if given:
        try:
            size = int(given[0])
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            problems.append(
                {
                    "code": "InvalidInput",
                    "message": "pageSize must be between 1 and 100.",
                    "details": "pageSize",
                }
            )
    if problems:
        return Reply(400, {"errors": problems})
    candidates = [report for report, _settlement in reports_of(server, seller_id, now)]
    candidates += order_reports.listed(server, seller_id)
    candidates.sort(key=lambda r: (r["createdTime"], r["reportId"]), reverse=True)
    reports = []
    for report in candidates:
        created = parse_time(report["createdTime"])
        if report["reportType"] not in types:
            continue
        if statuses and report["processingStatus"] not in statuses:
            continue
        if marketplaces and not set(report["marketplaceIds"]) & set(marketplaces):
            continue
        if created < max(since, now - RETENTION) or created > until:
            continue
        reports.append(report)
    return _page(server, store, seller_id, reports, size, now)


def _page(server, store, seller_id, reports, size, now):
    body = {"reports": reports[:size]}
    if len(reports) > size:
        token = secrets.token_urlsafe(24)
        with store.lock:
            store.pages[token] = {
                "seller_id": seller_id,
                "reports": reports[size:],
                "size": size,
                "expires": now + TOKEN_LIFETIME,
            }
        body["nextToken"] = token
    return Reply(200, body)


def _find_document(server, document_id, seller_id=None):
    sellers = [seller_id] if seller_id else list(server.state.sellers)
    for sid in sellers:
        for report, settlement in reports_of(server, sid):
            if report.get("reportDocumentId") == document_id:
                return settlement
    return None


def get_report(server, request):
    report_id = request.path_params["reportId"]
    seller_id = request.seller.seller_id
    found = order_reports.report_of(server, seller_id, report_id)
    if found is None:
        settled = (report for report, _settlement in reports_of(server, seller_id))
        found = next((r for r in settled if r["reportId"] == report_id), None)
    if found is None:
        raise ApiError(404, "NotFound", "The report was not found.", report_id)
    return Reply(200, found)


def get_report_document(server, request):
    document_id = request.path_params["reportDocumentId"]
    seller_id = request.seller.seller_id
    requested = order_reports.document_body(server, seller_id, document_id)
    if requested is not None:
        return Reply(200, requested)
    settlement = _find_document(server, document_id, seller_id)
    if settlement is None:
        raise ApiError(404, "NotFound", "The report document was not found.", "")
    options = options_of(server, seller_id)
    body = {
        "reportDocumentId": document_id,
        "url": f"{server.url}/_sandbox/report-documents/{document_id}",
    }
    if options.compression:
        body["compressionAlgorithm"] = options.compression
    return Reply(200, body)


def download(server, request):
    document_id = request.path_params["reportDocumentId"]
    requested = order_reports.download(server, document_id)
    if requested is not None:
        return requested
    settlement = _find_document(server, document_id)
    if settlement is None:
        return Reply(404, raw=b"NoSuchKey", content_type="application/xml")
    options = options_of(server, settlement.seller_id)
    # What the charset cannot write becomes "?", as in Amazon's own files.
    data = document_text(server, settlement, options).encode(
        options.encoding, errors="replace"
    )
    if options.compression:
        data = gzip.compress(data)
    content_type = "text/plain"
    if options.charset_header:
        content_type += f"; charset={options.encoding}"
    return Reply(200, raw=data, content_type=content_type)


# controls ----------------------------------------------------------------------


def configure(server, seller_id=None, **changes):
    seller = server.state.seller(seller_id)
    options = options_of(server, seller.seller_id)
    for name, value in changes.items():
        if not hasattr(options, name):
            raise TypeError(f"unknown report option {name!r}")
        if name == "compression" and value not in (None, "GZIP"):
            raise ValueError("compression is None or GZIP")
        if name == "encoding":
            "".encode(value)
        if name == "page_size" and not 1 <= int(value) <= 100:
            raise ValueError("page_size is 1 to 100")
        setattr(options, name, value)
    return dict(options.__dict__)


def plant(
    server, settlement_id, rows=None, total_delta=None, status=None, listed_twice=None
):
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown processing status {status!r}")
    store = _store(server)
    with store.lock:
        found = store.plants.setdefault(settlement_id, Plant())
        if rows:
            for row in rows:
                unknown = set(row) - set(COLUMNS)
                if unknown:
                    raise ValueError(f"unknown column(s) {sorted(unknown)}")
                Decimal(str(row["amount"]))
            found.rows.extend(dict(r) for r in rows)
        if total_delta is not None:
            found.total_delta += Decimal(str(total_delta))
        if status is not None:
            found.status = status
        if listed_twice is not None:
            found.listed_twice = bool(listed_twice)
        return found


def clear(server):
    store = _store(server)
    with store.lock:
        store.plants.clear()
        store.pages.clear()
        store.options.clear()


def summaries(server, seller_id=None, now=None):
    seller = server.state.seller(seller_id)
    result = []
    for settlement in settlements_of(server, seller.seller_id, now):
        rows = settlement_rows(server, settlement)
        result.append(
            {
                "settlementId": settlement.settlement_id,
                "marketplaceId": settlement.marketplace_id,
                "currency": settlement.currency,
                "start": format_time(settlement.start),
                "end": format_time(settlement.end),
                "deposit": format_time(settlement.deposit),
                "created": format_time(settlement.created),
                "total": str(settlement_total(server, settlement, rows)),
                "rows": len(rows),
                "transactions": [t.transaction_id for t in settlement.transactions],
                "orderIds": sorted(
                    {t.order_id for t in settlement.transactions if t.order_id}
                ),
            }
        )
    return result


ROUTES = [
    Route("GET", PATH, LIST, get_reports, rate=0.0222, burst=10),
    Route("GET", REPORT_PATH, GET, get_report, rate=2.0, burst=15),
    Route("GET", DOCUMENT_PATH, DOCUMENT, get_report_document, rate=0.0167, burst=15),
    Route(
        "GET",
        DOWNLOAD_PATH,
        "control.downloadReportDocument",
        download,
        kind="control",
    ),
]
