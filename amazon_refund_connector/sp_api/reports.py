"""Amazon's settlement reports (Reports 2021-06-30), read as a stream.

Listing
-------
``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`` reports are made by Amazon
itself, about every 14 days per marketplace; they cannot be requested. They
are listed with ``getReports`` by report type and ``createdSince`` (Amazon
keeps reports 90 days); further pages are asked for with ``nextToken`` as the
only parameter, as the model requires. :func:`iter_reports` yields
:class:`ReportInfo` objects.

Downloading
-----------
``getReportDocument`` gives a presigned URL, valid five minutes, and
``compressionAlgorithm`` (``GZIP``) when the document is compressed.
:func:`download_document` streams the document into a file object (gzip
undone on the way), chunk by chunk, so that a report of any size takes the
same memory. Amazon sends these downloads without a charset: the charset of
the content type is used when there is one, else each line is read as UTF-8
until a line is not valid UTF-8, from which on the document is read as
Cp1252 (what Amazon's European stores write).

Parsing
-------
:class:`SettlementReader` reads the tab-separated flat file line by line:
the header names the columns (23 in Amazon's V2 layout, read by name, so a
column more or less does not matter), the first data row carries the
settlement's id, period, deposit date, ``total-amount`` and currency, and
every other row one amount. German stores write ``14.03.2023 07:49:55 UTC``
and ``1141,18``; others ``2023-03-14 07:49:55 UTC`` or ISO 8601 and
``1141.18``.

:func:`entries` groups the rows into the lines a bank statement shows: the
consecutive rows of one transaction (type, order id, adjustment id) give an
order's (or refund's) money in one line and its fees in another; every other
row is a line of its own. A row of a transaction or amount type this module
does not know becomes a line of kind ``unknown`` with its label.
"""

import codecs
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import httpx
from sp_api.api import Reports

from .client import _iso, _malformed
from .errors import AmazonInvalidInput, AmazonServerError

SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
LIST_OPERATION = "getReports"
DOCUMENT_OPERATION = "getReportDocument"
REPORT_RETENTION = timedelta(days=90)
MAX_PAGE_SIZE = 100
CHUNK = 64 * 1024

# Charset names Amazon writes that Python's codecs do not know.
CHARSET_ALIASES = {"windows-31j": "cp932", "ms932": "cp932", "x-sjis": "shift_jis"}

DONE = "DONE"
WAITING_STATUSES = ("IN_QUEUE", "IN_PROGRESS")
FAILED_STATUSES = ("FATAL", "CANCELLED")

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

# kinds of statement lines
SALE = "sale"
SALE_FEES = "sale_fees"
REFUND = "refund"
REFUND_FEES = "refund_fees"
SERVICE_FEE = "service_fee"
ADVERTISING = "advertising"
RESERVE = "reserve"
TRANSFER = "transfer"
OTHER = "other"
UNKNOWN = "unknown"
KINDS = (
    SALE,
    SALE_FEES,
    REFUND,
    REFUND_FEES,
    SERVICE_FEE,
    ADVERTISING,
    RESERVE,
    TRANSFER,
    OTHER,
    UNKNOWN,
)

# fee accounts a fee amount is booked to
COMMISSION = "commission"
FBA_FEE = "fba_fee"
REFUND_COMMISSION = "refund_commission"
SERVICE = "service"
ADVERTISING_FEE = "advertising"
FEE_ACCOUNTS = (COMMISSION, FBA_FEE, REFUND_COMMISSION, SERVICE, ADVERTISING_FEE)


def _norm(text):
    return re.sub(r"[\s_\-]", "", (text or "").lower())


ORDER_TYPES = frozenset({"order"})
REFUND_TYPES = frozenset(
    {"refund", "chargebackrefund", "atozguaranteeclaim", "guaranteeclaim"}
)
# amount types of an order's or refund's rows: the buyer's money or fees
MONEY_AMOUNT_TYPES = frozenset({"itemprice", "promotion"})
FEE_AMOUNT_TYPES = frozenset({"itemfees", "itemwithheldtax"})
_RESERVE = frozenset({"previousreserveamountbalance", "currentreserveamount"})
_TRANSFER = frozenset(
    {"transfer", "paymentretraction", "successfulcharge", "payabletoamazon"}
)
_SERVICE = frozenset(
    {
        "subscriptionfee",
        "servicefee",
        "storagefee",
        "fbastoragefee",
        "fbalongtermstoragefee",
        "storagerenewalbilling",
        "inboundtransportationfee",
        "fbainboundtransportationfee",
    }
)
_ADVERTISING = frozenset({"costofadvertising", "advertising", "sponsoredproducts"})
_OTHER = frozenset(
    {
        "fbainventoryreimbursement",
        "reimbursement",
        "adjustment",
        "otheradjustment",
        "balanceadjustment",
    }
)
OTHER_TRANSACTION_TYPES = frozenset(
    {"othertransaction", "servicefee", "costofadvertising", "adjustment"}
)


def fee_account(amount_description):
    """Which fee account an ``ItemFees`` amount goes to."""
    name = _norm(amount_description)
    if name == "refundcommission":
        return REFUND_COMMISSION
    if name.startswith("fba") or name in ("shippingchargeback", "giftwrapchargeback"):
        return FBA_FEE
    if name in (
        "commission",
        "referralfee",
        "variableclosingfee",
        "fixedclosingfee",
        "digitalservicesfee",
        "salestaxcollectionfee",
    ):
        return COMMISSION
    if name in _ADVERTISING:
        return ADVERTISING_FEE
    return SERVICE


def other_kind(row):
    """The kind of a row that belongs to no order: (kind, fee account)."""
    for name in (row.amount_description, row.amount_type, row.transaction_type):
        norm = _norm(name)
        if norm in _RESERVE:
            return RESERVE, None
        if norm in _TRANSFER:
            return TRANSFER, None
        if norm in _ADVERTISING:
            return ADVERTISING, ADVERTISING_FEE
        if norm in _SERVICE:
            return SERVICE_FEE, SERVICE
        if norm in _OTHER:
            return OTHER, SERVICE
    return UNKNOWN, None


# reports ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInfo:
    """One report of a getReports answer (times naive UTC)."""

    report_id: str
    report_type: str
    status: str
    created: datetime
    document_id: str = None
    data_start: datetime = None
    data_end: datetime = None
    marketplace_ids: tuple = ()

    @property
    def done(self):
        return self.status == DONE and bool(self.document_id)

    @property
    def waiting(self):
        return self.status in WAITING_STATUSES

    @property
    def failed(self):
        return self.status in FAILED_STATUSES or (
            self.status == DONE and not self.document_id
        )


def _utc(value, what, operation=LIST_OPERATION):
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise _malformed(operation, f"readable {what}")
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _malformed(operation, f"ISO 8601 {what}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def parse_report(raw, operation=LIST_OPERATION):
    """A :class:`ReportInfo` from the model's Report object."""
    if not isinstance(raw, dict):
        raise _malformed(operation, "report object")
    for name in ("reportId", "reportType", "processingStatus", "createdTime"):
        if not isinstance(raw.get(name), str) or not raw[name]:
            raise _malformed(operation, f"report {name}")
    marketplaces = raw.get("marketplaceIds") or ()
    return ReportInfo(
        report_id=raw["reportId"],
        report_type=raw["reportType"],
        status=raw["processingStatus"],
        created=_utc(raw["createdTime"], "createdTime", operation),
        document_id=raw.get("reportDocumentId") or None,
        data_start=_utc(raw.get("dataStartTime"), "dataStartTime", operation),
        data_end=_utc(raw.get("dataEndTime"), "dataEndTime", operation),
        marketplace_ids=tuple(m for m in marketplaces if isinstance(m, str)),
    )


def iter_reports(
    client,
    created_since,
    report_type=SETTLEMENT_REPORT_TYPE,
    marketplace_ids=None,
    created_until=None,
    page_size=MAX_PAGE_SIZE,
):
    """Yield every :class:`ReportInfo` of ``report_type`` created since
    ``created_since``, one getReports call per page.

    The first call carries the filters; the next ones ``nextToken`` alone.
    ``marketplace_ids`` is passed explicitly: sp_api would otherwise filter
    by its own default marketplace.
    """
    params = {
        "reportTypes": report_type,
        "createdSince": _iso(created_since),
        "pageSize": max(1, min(int(page_size), MAX_PAGE_SIZE)),
    }
    if marketplace_ids:
        params["marketplaceIds"] = ",".join(marketplace_ids)
    if created_until:
        params["createdUntil"] = _iso(created_until)
    seen_tokens = set()
    while True:
        response = client.call(LIST_OPERATION, Reports, "get_reports", **params)
        payload = response.payload
        reports = payload.get("reports") if isinstance(payload, dict) else None
        if not isinstance(reports, list):
            raise _malformed(LIST_OPERATION, "'reports' list")
        for raw in reports:
            yield parse_report(raw)
        token = response.next_token or payload.get("nextToken")
        if not token:
            return
        if not isinstance(token, str) or token in seen_tokens:
            raise _malformed(LIST_OPERATION, "new nextToken")
        seen_tokens.add(token)
        params = {"nextToken": token}


@dataclass(frozen=True)
class DocumentInfo:
    document_id: str
    url: str
    compression: str = None


def get_report_document(client, document_id):
    """getReportDocument: where the document is and how it is compressed."""
    response = client.call(
        DOCUMENT_OPERATION, Reports, "get_report_document", document_id
    )
    payload = response.payload
    url = payload.get("url") if isinstance(payload, dict) else None
    if not isinstance(url, str) or not url:
        raise _malformed(DOCUMENT_OPERATION, "document url")
    compression = payload.get("compressionAlgorithm") or None
    if compression not in (None, "GZIP"):
        raise AmazonInvalidInput(
            f"Report document {document_id} is compressed with {compression}, "
            "which Amazon's model does not name.",
            operation=DOCUMENT_OPERATION,
        )
    return DocumentInfo(
        payload.get("reportDocumentId") or document_id, url, compression
    )


def charset_of(content_type):
    """The charset a Content-Type names, or None."""
    match = re.search(r"charset\s*=\s*\"?([\w.:\-]+)", content_type or "", re.I)
    if not match:
        return None
    name = match.group(1).lower()
    try:
        return codecs.lookup(CHARSET_ALIASES.get(name, name)).name
    except LookupError:
        return None


def download_document(document, target, timeout=60.0):
    """Stream ``document`` (a :class:`DocumentInfo`) into the binary file
    object ``target``, gzip undone; returns the charset of its content type
    (or None). Memory stays one chunk whatever the document's size."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if document.compression else None
    try:
        with httpx.stream("GET", document.url, timeout=timeout) as response:
            if response.status_code != 200:
                raise AmazonServerError(
                    f"The report document {document.document_id} could not be "
                    f"downloaded (HTTP {response.status_code}).",
                    operation=DOCUMENT_OPERATION,
                    status=response.status_code,
                )
            charset = charset_of(response.headers.get("content-type"))
            for chunk in response.iter_raw(CHUNK):
                target.write(inflater.decompress(chunk) if inflater else chunk)
            if inflater:
                target.write(inflater.flush())
                if not inflater.eof:
                    raise zlib.error("incomplete gzip stream")
    except zlib.error as exc:
        raise AmazonServerError(
            f"The report document {document.document_id} is not the gzip "
            f"Amazon announced: {exc}.",
            operation=DOCUMENT_OPERATION,
            code="MalformedResponse",
        ) from None
    except httpx.TransportError as exc:
        raise AmazonServerError(
            f"The report document {document.document_id} could not be "
            f"downloaded: {type(exc).__name__}.",
            operation=DOCUMENT_OPERATION,
            code="Unreachable",
        ) from None
    return charset


def text_lines(binary, charset=None, fallback="cp1252"):
    """Yield the lines of a binary file object as text, without line ends.

    With no charset, UTF-8 (a BOM is dropped) until a line is not UTF-8;
    from that line on, ``fallback`` (Cp1252, what Amazon's European stores
    write).
    """
    encoding = charset
    first = True
    for raw in binary:
        if first:
            first = False
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
                encoding = encoding or "utf-8"
        if encoding:
            text = raw.decode(encoding, errors="replace")
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                encoding = fallback
                text = raw.decode(encoding, errors="replace")
        yield text.rstrip("\r\n")


# parsing -------------------------------------------------------------------------


class MalformedReport(ValueError):
    """A settlement document the connector cannot read as Amazon describes it."""


_DE_DATE = re.compile(
    r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
    r"\s*(?:UTC|GMT|Z)?$",
    re.I,
)
_ISO_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(UTC|GMT|Z|[+-]\d{2}:?\d{2})?$",
    re.I,
)


def parse_date(text, what="date"):
    """A naive UTC datetime from the report's date formats; None if empty."""
    value = (text or "").strip()
    if not value:
        return None
    match = _DE_DATE.match(value)
    offset = None
    if match:
        day, month, year, hour, minute, second = match.groups()
    else:
        match = _ISO_DATE.match(value)
        if not match:
            raise MalformedReport(f"{what} {value!r} is not a date")
        year, month, day, hour, minute, second, offset = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
        )
    except ValueError:
        raise MalformedReport(f"{what} {value!r} is not a date") from None
    if offset and offset.upper() not in ("UTC", "GMT", "Z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def parse_amount(text, what="amount"):
    """A Decimal from ``1141.18``, ``1,141.18``, ``1141,18`` or ``1.141,18``."""
    value = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if not value:
        return None
    if "," in value and "." in value:
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif "," in value:
        value = value.replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MalformedReport(f"{what} {text!r} is not a number") from None
    if not amount.is_finite():
        raise MalformedReport(f"{what} {text!r} is not a number")
    return amount


@dataclass(frozen=True)
class SettlementHeader:
    settlement_id: str
    start: datetime
    end: datetime
    deposit: datetime
    total: Decimal
    currency: str


@dataclass(frozen=True)
class SettlementRow:
    line: int
    transaction_type: str
    order_id: str
    adjustment_id: str
    shipment_id: str
    marketplace_name: str
    amount_type: str
    amount_description: str
    amount: Decimal
    fulfillment_id: str
    posted: datetime
    order_item_code: str
    merchant_adjustment_item_id: str
    sku: str
    quantity: int

    def transaction_key(self):
        return (_norm(self.transaction_type), self.order_id, self.adjustment_id)


class SettlementReader:
    """Reads a settlement flat file from an iterable of text lines.

    ``header`` is read at construction; :meth:`rows` yields the amount rows
    once. Raises :class:`MalformedReport` with the line number.
    """

    def __init__(self, lines):
        self._lines = iter(lines)
        self._number = 0
        names = self._next()
        if names is None:
            raise MalformedReport("the document is empty")
        self.columns = {name.strip().lower(): i for i, name in enumerate(names)}
        missing = [
            name
            for name in ("settlement-id", "total-amount", "currency", "amount")
            if name not in self.columns
        ]
        if missing:
            raise MalformedReport(
                "the document is not a settlement report: no column "
                + ", ".join(missing)
            )
        first = self._next()
        if first is None:
            raise MalformedReport("the document has no settlement row")
        self.header = self._header(first)

    def _next(self):
        for text in self._lines:
            self._number += 1
            if text.strip():
                return text.split("\t")
        return None

    def _get(self, cells, name):
        index = self.columns.get(name)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def _header(self, cells):
        where = f"line {self._number}"
        settlement_id = self._get(cells, "settlement-id")
        if not settlement_id:
            raise MalformedReport(f"{where}: no settlement-id")
        total = parse_amount(self._get(cells, "total-amount"), f"{where}: total-amount")
        currency = self._get(cells, "currency").upper()
        if total is None or not currency:
            raise MalformedReport(
                f"{where}: the first row carries no total-amount and currency"
            )
        return SettlementHeader(
            settlement_id=settlement_id,
            start=parse_date(
                self._get(cells, "settlement-start-date"), f"{where}: start date"
            ),
            end=parse_date(
                self._get(cells, "settlement-end-date"), f"{where}: end date"
            ),
            deposit=parse_date(self._get(cells, "deposit-date"), f"{where}: deposit"),
            total=total,
            currency=currency,
        )

    def rows(self):
        while True:
            cells = self._next()
            if cells is None:
                return
            yield self._row(cells)

    def _row(self, cells):
        where = f"line {self._number}"
        get = self._get
        settlement_id = get(cells, "settlement-id")
        if settlement_id and settlement_id != self.header.settlement_id:
            raise MalformedReport(
                f"{where}: settlement {settlement_id} in the report of "
                f"{self.header.settlement_id}"
            )
        amount = parse_amount(get(cells, "amount"), f"{where}: amount")
        if amount is None:
            raise MalformedReport(f"{where}: no amount")
        quantity = get(cells, "quantity-purchased")
        try:
            quantity = int(quantity) if quantity else 0
        except ValueError:
            raise MalformedReport(
                f"{where}: quantity {quantity!r} is not a number"
            ) from None
        return SettlementRow(
            line=self._number,
            transaction_type=get(cells, "transaction-type"),
            order_id=get(cells, "order-id"),
            adjustment_id=get(cells, "adjustment-id"),
            shipment_id=get(cells, "shipment-id"),
            marketplace_name=get(cells, "marketplace-name"),
            amount_type=get(cells, "amount-type"),
            amount_description=get(cells, "amount-description"),
            amount=amount,
            fulfillment_id=get(cells, "fulfillment-id"),
            posted=parse_date(get(cells, "posted-date"), f"{where}: posted-date"),
            order_item_code=get(cells, "order-item-code"),
            merchant_adjustment_item_id=get(cells, "merchant-adjustment-item-id"),
            sku=get(cells, "sku"),
            quantity=quantity,
        )


# statement lines ------------------------------------------------------------------


@dataclass
class Entry:
    """One statement line: rows of one kind of one transaction.

    ``fees`` maps fee accounts to amounts (fee lines); ``unknown`` lists the
    labels of rows of a type this module does not know.
    """

    kind: str
    transaction_type: str
    order_id: str = ""
    adjustment_id: str = ""
    posted: datetime = None
    amount: Decimal = Decimal(0)
    skus: list = field(default_factory=list)
    descriptions: list = field(default_factory=list)
    fees: dict = field(default_factory=dict)
    withheld: Decimal = Decimal(0)
    unknown: list = field(default_factory=list)
    rows: int = 0
    first_line: int = 0

    def add(self, row, fee=None):
        self.rows += 1
        self.first_line = self.first_line or row.line
        self.amount += row.amount
        if row.posted and (self.posted is None or row.posted < self.posted):
            self.posted = row.posted
        if row.sku and row.sku not in self.skus:
            self.skus.append(row.sku)
        label = " / ".join(
            part for part in (row.amount_type, row.amount_description) if part
        )
        if label and label not in self.descriptions:
            self.descriptions.append(label)
        if fee:
            self.fees[fee] = self.fees.get(fee, Decimal(0)) + row.amount
        elif self.kind in (SALE_FEES, REFUND_FEES):
            self.withheld += row.amount

    @property
    def sku(self):
        return ", ".join(self.skus)

    @property
    def label(self):
        return ", ".join(self.descriptions) or self.transaction_type


def _transaction_entries(rows):
    """The entries of the rows of one order or refund transaction."""
    first = rows[0]
    refund = _norm(first.transaction_type) in REFUND_TYPES
    money_kind, fee_kind = (REFUND, REFUND_FEES) if refund else (SALE, SALE_FEES)
    made = {}
    unknown = []
    for row in rows:
        amount_type = _norm(row.amount_type)
        if amount_type in MONEY_AMOUNT_TYPES:
            key, fee = money_kind, None
        elif amount_type == "itemfees":
            key, fee = fee_kind, fee_account(row.amount_description)
        elif amount_type == "itemwithheldtax":
            key, fee = fee_kind, None
        else:
            entry = Entry(
                UNKNOWN, row.transaction_type, row.order_id, row.adjustment_id
            )
            entry.add(row)
            entry.unknown.append(entry.label)
            unknown.append(entry)
            continue
        entry = made.get(key)
        if entry is None:
            entry = made[key] = Entry(
                key, first.transaction_type, first.order_id, first.adjustment_id
            )
        entry.add(row, fee)
    return [made[k] for k in (money_kind, fee_kind) if k in made] + unknown


def _row_entry(row):
    kind, fee = other_kind(row)
    entry = Entry(kind, row.transaction_type, row.order_id, row.adjustment_id)
    entry.add(row, fee)
    if kind == UNKNOWN:
        entry.unknown.append(entry.label)
    return entry


def entries(rows):
    """Yield the :class:`Entry` objects of settlement rows, in their order.

    Memory holds one transaction's rows at a time: Amazon lists the rows of a
    transaction together.
    """
    pending = []
    for row in rows:
        norm = _norm(row.transaction_type)
        grouped = bool(row.order_id) and (norm in ORDER_TYPES or norm in REFUND_TYPES)
        if pending and (
            not grouped or row.transaction_key() != pending[0].transaction_key()
        ):
            yield from _transaction_entries(pending)
            pending = []
        if grouped:
            pending.append(row)
        else:
            yield _row_entry(row)
    if pending:
        yield from _transaction_entries(pending)


def read_totals(reader):
    """``(rows, sum of the amounts)`` of a reader's rows, read once."""
    count, total = 0, Decimal(0)
    for row in reader.rows():
        count += 1
        total += row.amount
    return count, total
