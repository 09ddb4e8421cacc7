"""Amazon's order history reports (Reports 2021-06-30), read as a stream.

A long history costs searchOrders hours of quota (20 pages at once, then one
page of 100 orders every few minutes); one flat-file report gives the same
orders in a handful of calls:

1. ``createReport`` of ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``
   (orders updated in the window) or ``..._BY_ORDER_DATE_GENERAL`` (orders
   placed in it), for one marketplace and at most 30 days;
2. ``getReport``, polled until Amazon has made it: ``IN_QUEUE``,
   ``IN_PROGRESS``, then ``DONE`` with a ``reportDocumentId``, ``CANCELLED``
   when the window holds no order, ``FATAL`` when Amazon failed;
3. ``getReportDocument`` and the download, streamed (:mod:`.reports`).

The document is tab-separated, a header then one row per order item, the
columns read by name. Amazon writes it in UTF-8, in Cp1252 for some European
stores and in windows-31j for Amazon.co.jp; the download's content type
names the charset when Amazon says it, else each line is read as UTF-8 and,
when it is not, in the marketplace's legacy charset.

:func:`order_from_rows` turns the rows of one order into an Orders API
2026-01-01 ``Order`` dict holding what the report has (no buyer, and of the
address only the city, region, postal code and country), so that the
connector books a report's order exactly as a searchOrders one.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sp_api.api import Reports

from .client import _iso, _malformed
from .errors import AmazonInvalidInput
from .reports import MalformedReport, parse_amount, parse_date, parse_report

ORDERS_BY_LAST_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
ORDERS_BY_ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
ORDER_REPORT_TYPES = (ORDERS_BY_LAST_UPDATE, ORDERS_BY_ORDER_DATE)
CREATE_OPERATION = "createReport"
GET_OPERATION = "getReport"
# Amazon gives these reports for at most 30 days each.
MAX_WINDOW = timedelta(days=30)

# Charset of the lines that are not UTF-8, by marketplace.
LEGACY_CHARSETS = {"A1VC38T7YXB528": "cp932"}  # Amazon.co.jp: windows-31j
DEFAULT_LEGACY_CHARSET = "cp1252"

REQUIRED_COLUMNS = (
    "amazon-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sku",
    "quantity",
)
HISTORY_ITEM_PREFIX = "report:"

_STATUSES = {
    "pending": "PENDING",
    "pendingavailability": "PENDING_AVAILABILITY",
    "unshipped": "UNSHIPPED",
    "partiallyshipped": "PARTIALLY_SHIPPED",
    # FBA: some units on their way, others not yet.
    "shipping": "PARTIALLY_SHIPPED",
    "shipped": "SHIPPED",
    "cancelled": "CANCELLED",
    "canceled": "CANCELLED",
    "unfulfillable": "UNFULFILLABLE",
}


def legacy_charset(marketplace_ref):
    return LEGACY_CHARSETS.get(marketplace_ref, DEFAULT_LEGACY_CHARSET)


# -- calls ----------------------------------------------------------------------


def create_report(client, report_type, marketplace_ref, start, end):
    """createReport for one marketplace and window: Amazon's reportId."""
    if report_type not in ORDER_REPORT_TYPES:
        raise AmazonInvalidInput(f"{report_type} is not an order report type.")
    if not start or not end or start >= end:
        raise AmazonInvalidInput("An order report needs a window that starts first.")
    if end - start > MAX_WINDOW:
        raise AmazonInvalidInput(
            f"Amazon makes order reports of at most {MAX_WINDOW.days} days."
        )
    response = client.call(
        CREATE_OPERATION,
        Reports,
        "create_report",
        reportType=report_type,
        marketplaceIds=[marketplace_ref],
        dataStartTime=_iso(start),
        dataEndTime=_iso(end),
    )
    payload = response.payload
    report_id = payload.get("reportId") if isinstance(payload, dict) else None
    if not isinstance(report_id, str) or not report_id:
        raise _malformed(CREATE_OPERATION, "reportId")
    return report_id


def get_report(client, report_id):
    """getReport: a :class:`~.reports.ReportInfo`."""
    response = client.call(GET_OPERATION, Reports, "get_report", report_id)
    return parse_report(response.payload, GET_OPERATION)


def poll_delay(polls):
    """Seconds before the next getReport: 30, 60, 120, then every 5 minutes."""
    return min(30 * 2 ** max(polls, 0), 300)


# -- rows -------------------------------------------------------------------------


@dataclass
class ReportRow:
    number: int
    cells: dict

    def get(self, name):
        return (self.cells.get(name) or "").strip()

    @property
    def order_ref(self):
        return self.get("amazon-order-id")


class OrderReportReader:
    """The rows of an order report document, from its text lines."""

    def __init__(self, lines):
        self._lines = iter(lines)
        self.columns = None
        for line in self._lines:
            if line.strip():
                self.columns = [c.strip().lower() for c in line.split("\t")]
                break
        if self.columns is None:
            self.columns = []
            return
        missing = [c for c in REQUIRED_COLUMNS if c not in self.columns]
        if missing:
            raise MalformedReport(
                "The order report lacks the columns " + ", ".join(missing) + "."
            )

    def rows(self, start=0):
        """Yield :class:`ReportRow` objects numbered from 1; rows up to
        ``start`` are skipped (read, not parsed)."""
        number = 0
        width = len(self.columns)
        for line in self._lines:
            if not line.strip():
                continue
            number += 1
            if number <= start:
                continue
            cells = line.split("\t")
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            yield ReportRow(number, dict(zip(self.columns, cells, strict=False)))


# -- one order ----------------------------------------------------------------------


def fulfillment_status(text):
    """Amazon's FulfillmentStatus of a report's order-status (its detailed
    variants, such as ``Shipped - Delivered to Buyer``, included)."""
    key = re.sub(r"[\s_-]+", "", (text or "").split(" - ")[0]).lower()
    status = _STATUSES.get(key)
    if not status:
        raise MalformedReport(f"order-status {text!r} is unknown to the connector")
    return status


def _money(amount, currency):
    return {"amount": str(amount), "currencyCode": currency}


def _amount(row, name):
    return parse_amount(row.get(name), name) or Decimal(0)


def _item(row, index, order_ref, currency, status):
    sku = row.get("sku")
    quantity_text = row.get("quantity") or "0"
    try:
        quantity = int(Decimal(quantity_text))
    except ArithmeticError:
        raise MalformedReport(f"quantity {quantity_text!r} is not a number") from None
    if quantity < 0:
        raise MalformedReport(f"quantity {quantity_text!r} is negative")
    item_status = row.get("item-status").lower()
    if item_status.startswith("shipped") or (status == "SHIPPED" and not item_status):
        shipped = quantity
    else:
        shipped = 0
    breakdowns, tax_details, discount_details = [], [], []
    for kind, price, tax in (
        ("ITEM", "item-price", "item-tax"),
        ("SHIPPING", "shipping-price", "shipping-tax"),
        ("GIFT_WRAP", "gift-wrap-price", "gift-wrap-tax"),
    ):
        if row.get(price):
            breakdowns.append(
                {"type": kind, "subtotal": _money(_amount(row, price), currency)}
            )
        if row.get(tax) and _amount(row, tax):
            tax_details.append(
                {"subtype": kind, "value": _money(_amount(row, tax), currency)}
            )
    for kind, name in (
        ("ITEM", "item-promotion-discount"),
        ("SHIPPING", "ship-promotion-discount"),
    ):
        # Amazon writes promotions as negative amounts, some stores without
        # the sign: a promotion always lowers the charge.
        discount = -abs(_amount(row, name))
        if discount:
            discount_details.append(
                {"subtype": kind, "value": _money(discount, currency)}
            )
    for kind, details in (("TAX", tax_details), ("DISCOUNT", discount_details)):
        if details:
            total = sum(parse_amount(d["value"]["amount"]) for d in details)
            breakdowns.append(
                {
                    "type": kind,
                    "subtotal": _money(total, currency),
                    "detailedBreakdowns": details,
                }
            )
    item = {
        # The report has no orderItemId: a key of the connector's until a
        # searchOrders answer or a refund names Amazon's.
        "orderItemId": f"{HISTORY_ITEM_PREFIX}{order_ref}:{index}",
        "quantityOrdered": quantity,
        "fulfillment": {"quantityFulfilled": shipped},
        "product": {
            "sellerSku": sku,
            "asin": row.get("asin"),
            "title": row.get("product-name") or sku,
        },
    }
    if breakdowns:
        item["proceeds"] = {"breakdowns": breakdowns}
    promotions = [p.strip() for p in row.get("promotion-ids").split(",") if p.strip()]
    if promotions:
        item["promotion"] = {"breakdowns": [{"promotionId": p} for p in promotions]}
    return item


def order_from_rows(rows, marketplace_ref, currency=None):
    """An Orders API ``Order`` dict from the rows of one order.

    ``currency`` is the marketplace's, used when the rows name none (a
    cancelled order may have no amount). Raises :class:`MalformedReport`.
    """
    first = rows[0]
    order_ref = first.order_ref
    currency = first.get("currency") or next(
        (r.get("currency") for r in rows if r.get("currency")), currency
    )
    status = fulfillment_status(first.get("order-status"))
    channel = first.get("fulfillment-channel").lower()
    if channel not in ("amazon", "merchant", "afn", "mfn"):
        raise MalformedReport(
            f"fulfillment-channel {first.get('fulfillment-channel')!r} is neither "
            "Amazon nor Merchant"
        )
    sales_channel = first.get("sales-channel").lower()
    created = parse_date(first.get("purchase-date"), "purchase-date")
    updated = parse_date(first.get("last-updated-date"), "last-updated-date")
    if not created or not updated:
        raise MalformedReport("the order has no purchase-date or last-updated-date")
    address = {
        key: first.get(column)
        for key, column in (
            ("city", "ship-city"),
            ("stateOrRegion", "ship-state"),
            ("postalCode", "ship-postal-code"),
            ("countryCode", "ship-country"),
        )
        if first.get(column)
    }
    order = {
        "orderId": order_ref,
        "createdTime": _iso(created),
        "lastUpdatedTime": _iso(updated),
        "salesChannel": {
            "marketplaceId": marketplace_ref,
            "channelName": "NON_AMAZON"
            if sales_channel.startswith("non")
            else "AMAZON",
        },
        "fulfillment": {
            "fulfillmentStatus": status,
            "fulfilledBy": "AMAZON" if channel in ("amazon", "afn") else "MERCHANT",
        },
        "orderItems": [
            _item(row, index, order_ref, currency, status)
            for index, row in enumerate(rows, start=1)
        ],
    }
    if address:
        order["recipient"] = {"deliveryAddress": address}
    return order


def is_history_item(item_ref):
    return bool(item_ref) and item_ref.startswith(HISTORY_ITEM_PREFIX)
