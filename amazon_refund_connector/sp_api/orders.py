"""Read Orders API 2026-01-01 ``Order`` objects into exact, checked values.

Amounts are :class:`decimal.Decimal`. Anything the connector cannot rely on
raises :class:`MalformedOrder` with a sentence saying what is wrong, so that
the order concerned can be flagged while the rest of the batch goes on.

Amazon's item proceeds come as ``breakdowns`` of types ITEM, SHIPPING,
GIFT_WRAP, COD_FEE, OTHER, DISCOUNT and TAX (the TAX breakdown split by
``detailedBreakdowns`` subtypes). Whether the other amounts include the tax
depends on the marketplace (VAT marketplaces show prices with VAT): the
item's ``proceedsTotal`` tells which, and the marketplace's setting decides
when it is absent.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

FBA = "FBA"
FBM = "FBM"
# Charge kinds the connector turns into sale order lines, in line order.
CHARGE_KINDS = ("ITEM", "SHIPPING", "GIFT_WRAP", "COD_FEE", "OTHER", "DISCOUNT")
# Statuses the connector imports (Amazon's FulfillmentStatus values).
FBA_IMPORTED_STATUSES = ("SHIPPED", "CANCELLED")
FBM_IMPORTED_STATUSES = ("UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED")
ORDER_SYNC_INCLUDED_DATA = (
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
)


# Longest text kept of a buyer or address field. Amazon's models set no
# limit; these are beyond any real name or address (and beyond what carriers
# print on a label), so only junk is ever cut.
TEXT_LIMITS = {
    "buyerName": 128,
    "buyerEmail": 254,  # RFC 5321's longest address
    "buyerCompanyName": 128,
    "name": 128,
    "companyName": 128,
    "addressLine1": 128,
    "addressLine2": 128,
    "addressLine3": 128,
    "city": 64,
    "districtOrCounty": 64,
    "stateOrRegion": 64,
    "municipality": 64,
    "postalCode": 20,
    "countryCode": 2,
    "phone": 32,
}
# Format characters that reorder or hide text (bidirectional overrides and
# isolates, the byte order mark); other format characters (joiners used by
# many scripts) are kept.
_HIDDEN_FORMAT = {
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x200E,
    0x200F,
    0xFEFF,
}


@dataclass(frozen=True)
class TextIssue:
    """A buyer or address field Amazon sent that was not stored as it came.

    ``problem``: "control" (control characters removed), "too_long" (cut to
    ``limit``; ``length`` is what Amazon sent) or "invalid" (not text, or no
    country code: left out).
    """

    field: str
    problem: str
    length: int = 0
    limit: int = 0


class MalformedOrder(ValueError):
    """An order the connector cannot import as Amazon sent it."""


@dataclass
class Charge:
    """One charge of an item, with the promotion Amazon took off it.

    Amazon taxes the charge after the promotion: ``tax`` is the tax on
    ``amount + discount`` (``discount`` is zero or negative).
    """

    kind: str
    amount: Decimal
    tax: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)


@dataclass
class OrderItem:
    item_ref: str
    sku: str
    asin: str
    title: str
    quantity: int
    quantity_shipped: int
    charges: list = field(default_factory=list)
    promotion_ids: list = field(default_factory=list)
    tax_included: bool = False
    total: Decimal = None

    def charge(self, kind):
        return next((c for c in self.charges if c.kind == kind), None)


@dataclass
class Order:
    order_ref: str
    marketplace_ref: str
    channel: str
    status: str
    purchase_date: datetime
    last_update: datetime
    currency: str
    buyer_name: str
    buyer_email: str
    buyer_company: str
    address: dict
    items: list
    grand_total: Decimal
    # Charged apart from the items (Amazon: DELIVERY_TIP is not attributed
    # to any item).
    delivery_tip: Decimal = Decimal(0)
    # Buyer and address fields cleaned or cut (TextIssue), for a message.
    text_issues: list = field(default_factory=list)

    @property
    def is_cancelled(self):
        return self.status == "CANCELLED"

    @property
    def importable(self):
        allowed = (
            FBA_IMPORTED_STATUSES if self.channel == FBA else FBM_IMPORTED_STATUSES
        )
        return self.status in allowed


def clean_text(value, limit):
    """``(text, problems)``: ``value`` on one line, without control or hidden
    characters, cut to ``limit`` characters; ``problems`` names what changed
    ("control", "too_long")."""
    problems = []
    kept = []
    for char in value:
        category = unicodedata.category(char)
        if char in "\t\n\r\v\f\x85\u2028\u2029":
            kept.append(" ")
            problems.append("control")
        elif category in ("Cc", "Cs", "Co", "Cn") or ord(char) in _HIDDEN_FORMAT:
            problems.append("control")
        else:
            kept.append(char)
    text = " ".join("".join(kept).split()) if problems else "".join(kept).strip()
    if len(text) > limit:
        text = text[:limit].rstrip()
        problems.append("too_long")
    return text, list(dict.fromkeys(problems))


def _clean_fields(data, issues, prefix=""):
    """A copy of ``data`` with its known text fields cleaned; ``issues`` gets a
    :class:`TextIssue` for each one changed or left out."""
    cleaned = {}
    for key, value in data.items():
        limit = TEXT_LIMITS.get(key)
        if limit is None:
            cleaned[key] = value
            continue
        name = prefix + key
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            issues.append(TextIssue(name, "invalid"))
            continue
        original = str(value)
        if key == "countryCode":
            code = original.strip()
            if code and not (len(code) == 2 and code.isascii() and code.isalpha()):
                # Not an ISO 3166 code: cutting it would name another country.
                issues.append(TextIssue(name, "invalid"))
                continue
        text, problems = clean_text(original, limit)
        for problem in problems:
            issues.append(TextIssue(name, problem, len(original), limit))
        cleaned[key] = text
    return cleaned


def parse_datetime(value, what):
    """A naive UTC datetime from an ISO 8601 string."""
    if not isinstance(value, str) or not value:
        raise MalformedOrder(f"{what} is missing.")
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedOrder(f"{what} {value!r} is not an ISO 8601 date.") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def parse_money(money, what, currency=None):
    """``(Decimal amount, currency code)`` of an Amazon ``Money`` object."""
    if not isinstance(money, dict):
        raise MalformedOrder(f"{what} is not a money amount.")
    code = money.get("currencyCode")
    try:
        amount = Decimal(str(money.get("amount")))
    except (InvalidOperation, ValueError) as exc:
        raise MalformedOrder(
            f"{what} {money.get('amount')!r} is not a number."
        ) from exc
    if not amount.is_finite():
        raise MalformedOrder(f"{what} {money.get('amount')!r} is not a number.")
    if not isinstance(code, str) or len(code) != 3:
        raise MalformedOrder(f"{what} has no valid currency code.")
    if currency and code != currency:
        raise MalformedOrder(f"{what} is in {code} while the order is in {currency}.")
    return amount, code


def _fulfilled_by(order):
    fulfillment = order.get("fulfillment") or {}
    by = fulfillment.get("fulfilledBy")
    if by == "AMAZON":
        return FBA
    if by == "MERCHANT":
        return FBM
    raise MalformedOrder(
        f"Order {order.get('orderId')}: fulfilledBy {by!r} is neither AMAZON "
        "nor MERCHANT (ask Amazon for the FULFILLMENT data set)."
    )


def _order_currency(order):
    proceeds = order.get("proceeds") or {}
    if proceeds.get("grandTotal"):
        return parse_money(proceeds["grandTotal"], "The order total")[1]
    for item in order.get("orderItems") or []:
        proceeds = ((item or {}) if isinstance(item, dict) else {}).get(
            "proceeds"
        ) or {}
        amounts = [proceeds.get("proceedsTotal")] + [
            b.get("subtotal")
            for b in proceeds.get("breakdowns") or []
            if isinstance(b, dict)
        ]
        for amount in filter(None, amounts):
            return parse_money(amount, "An item amount")[1]
        price = ((item if isinstance(item, dict) else {}).get("product") or {}).get(
            "price"
        ) or {}
        if price.get("unitPrice"):
            return parse_money(price["unitPrice"], "A unit price")[1]
    return None


def _add(totals, kind, amount):
    totals[kind] = totals.get(kind, Decimal(0)) + amount


def _split_by_subtype(breakdown, amount, what, currency, totals):
    """Add a breakdown's amount to ``totals`` by the kinds its details name.

    What the details leave out (all of it when there are none, or when they
    do not add up) goes to the item.
    """
    detailed = Decimal(0)
    for detail in breakdown.get("detailedBreakdowns") or []:
        detail = detail if isinstance(detail, dict) else {}
        part, _ = parse_money(detail.get("value"), what, currency)
        _add(totals, detail.get("subtype") or "ITEM", part)
        detailed += part
    if detailed != amount:
        _add(totals, "ITEM", amount - detailed)


def _item_breakdowns(proceeds, item_ref, currency):
    """``(amounts, discounts, taxes)`` by charge kind of an item's proceeds.

    A DISCOUNT breakdown reduces the charges its details name (the item
    when it names none). Only when the TAX details name DISCOUNT does Amazon
    tax the promotion apart: it then stays a charge of its own.
    """
    amounts, discounts, taxes = {}, {}, {}
    promotions = []
    for breakdown in proceeds.get("breakdowns") or []:
        if not isinstance(breakdown, dict):
            raise MalformedOrder(
                f"Item {item_ref}: a proceeds breakdown is not an object."
            )
        kind = breakdown.get("type")
        amount, _ = parse_money(
            breakdown.get("subtotal"), f"Item {item_ref} {kind} amount", currency
        )
        if kind == "TAX":
            _split_by_subtype(
                breakdown, amount, f"Item {item_ref} tax detail", currency, taxes
            )
        elif kind == "DISCOUNT":
            promotions.append((breakdown, amount))
        else:
            _add(amounts, kind if kind in CHARGE_KINDS else "OTHER", amount)
    for breakdown, amount in promotions:
        if "DISCOUNT" in taxes:
            _add(amounts, "DISCOUNT", amount)
            continue
        _split_by_subtype(
            breakdown, amount, f"Item {item_ref} promotion detail", currency, discounts
        )
    for kind in list(taxes) + list(discounts):
        amounts.setdefault(kind, Decimal(0))
    return amounts, discounts, taxes


def _item_quantities(raw, item_ref):
    quantity = raw.get("quantityOrdered")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise MalformedOrder(
            f"Item {item_ref}: quantityOrdered {quantity!r} is not a whole number."
        )
    shipped = (raw.get("fulfillment") or {}).get("quantityFulfilled")
    if shipped is None:
        return quantity, None  # the order's status decides, see _parse_order
    if not isinstance(shipped, int) or isinstance(shipped, bool) or shipped < 0:
        raise MalformedOrder(
            f"Item {item_ref}: quantityFulfilled {shipped!r} is not a whole number."
        )
    if shipped > quantity:
        raise MalformedOrder(
            f"Item {item_ref}: {shipped} units fulfilled of {quantity} ordered."
        )
    return quantity, shipped


def _set_total(item, proceeds, amounts, tax_by_kind, currency, discounts):
    """Set the item's total, and whether its amounts include the tax.

    Amazon's ``proceedsTotal`` decides: it equals the charges alone where
    prices include the tax, and the charges plus the tax elsewhere.
    """
    total_tax = sum(tax_by_kind.values(), Decimal(0))
    charges = sum(amounts.values(), Decimal(0)) + sum(discounts.values(), Decimal(0))
    if not proceeds.get("proceedsTotal"):
        item.total = charges if item.tax_included else charges + total_tax
        return
    item.total, _ = parse_money(
        proceeds["proceedsTotal"], f"Item {item.item_ref} total", currency
    )
    if total_tax and item.total == charges:
        item.tax_included = True
    elif item.total == charges + total_tax:
        item.tax_included = item.tax_included and not total_tax
    else:
        raise MalformedOrder(
            f"Item {item.item_ref}: its breakdowns ({charges} + tax {total_tax}) "
            f"do not add up to its total {item.total}."
        )


def _item_price(item, product, currency, cancelled):
    """The item's charge from its unit price, when Amazon gave no proceeds.

    A cancelled order keeps its items at the price Amazon shows (0 when it
    shows none), so that cancelled demand is still counted.
    """
    price = (product.get("price") or {}).get("unitPrice")
    if not price:
        if cancelled:
            return Decimal(0)
        raise MalformedOrder(
            f"Item {item.item_ref} ({item.sku or item.asin}) has neither proceeds "
            "nor a unit price."
        )
    unit, _ = parse_money(price, f"Item {item.item_ref} unit price", currency)
    return unit * item.quantity


def _parse_item(raw, currency, tax_included_default, cancelled):
    if not isinstance(raw, dict):
        raise MalformedOrder("An order item is not an object.")
    item_ref = raw.get("orderItemId")
    if not item_ref:
        raise MalformedOrder("An order item has no orderItemId.")
    product = raw.get("product") or {}
    quantity, shipped = _item_quantities(raw, item_ref)
    item = OrderItem(
        item_ref=str(item_ref),
        sku=(product.get("sellerSku") or "").strip(),
        asin=product.get("asin") or "",
        title=product.get("title") or product.get("sellerSku") or str(item_ref),
        quantity=quantity,
        quantity_shipped=shipped,
        promotion_ids=[
            p.get("promotionId")
            for p in ((raw.get("promotion") or {}).get("breakdowns") or [])
            if isinstance(p, dict) and p.get("promotionId")
        ],
        tax_included=tax_included_default,
    )
    proceeds = raw.get("proceeds") or {}
    amounts, discounts, tax_by_kind = _item_breakdowns(proceeds, item_ref, currency)
    if "ITEM" not in amounts:
        amounts["ITEM"] = _item_price(item, product, currency, cancelled)
    _set_total(item, proceeds, amounts, tax_by_kind, currency, discounts)
    item.charges = [
        Charge(
            kind,
            amounts[kind],
            tax_by_kind.get(kind, Decimal(0)),
            discounts.get(kind, Decimal(0)),
        )
        for kind in CHARGE_KINDS
        if kind in amounts
    ]
    return item


def parse_order(raw, tax_included_default=False):
    """An :class:`Order` from an Amazon ``Order`` dict; raises MalformedOrder."""
    if not isinstance(raw, dict):
        raise MalformedOrder("The order is not an object.")
    order_ref = raw.get("orderId")
    if not order_ref or not isinstance(order_ref, str):
        raise MalformedOrder("The order has no orderId.")
    try:
        return _parse_order(raw, order_ref, tax_included_default)
    except MalformedOrder as exc:
        text = str(exc)
        if order_ref not in text:
            text = f"Order {order_ref}: {text}"
        raise MalformedOrder(text) from None


def _parse_order(raw, order_ref, tax_included_default):
    channel = raw.get("salesChannel") or {}
    marketplace_ref = channel.get("marketplaceId")
    if not marketplace_ref:
        raise MalformedOrder("salesChannel.marketplaceId is missing.")
    fulfillment = raw.get("fulfillment") or {}
    status = fulfillment.get("fulfillmentStatus")
    if not status:
        raise MalformedOrder("fulfillmentStatus is missing.")
    items_raw = raw.get("orderItems")
    if not isinstance(items_raw, list) or not items_raw:
        raise MalformedOrder("it has no orderItems.")
    # A cancelled order may come without any amount (proceeds and prices are
    # optional): its currency is then the marketplace's, set by the caller.
    currency = _order_currency(raw)
    cancelled = status == "CANCELLED"
    if not currency and not cancelled:
        raise MalformedOrder("no amount tells its currency.")
    items = [
        _parse_item(item, currency, tax_included_default, cancelled)
        for item in items_raw
    ]
    for item in items:
        if item.quantity_shipped is None:
            # quantityFulfilled is optional: a shipped order shipped it all.
            item.quantity_shipped = item.quantity if status == "SHIPPED" else 0
    refs = [i.item_ref for i in items]
    if len(set(refs)) != len(refs):
        raise MalformedOrder("two items share one orderItemId.")
    proceeds = raw.get("proceeds") or {}
    delivery_tip = Decimal(0)
    for breakdown in proceeds.get("breakdowns") or []:
        if isinstance(breakdown, dict) and breakdown.get("type") == "DELIVERY_TIP":
            delivery_tip += parse_money(
                breakdown.get("subtotal"), "The delivery tip", currency
            )[0]
    grand_total = sum((i.total for i in items), delivery_tip)
    if proceeds.get("grandTotal"):
        grand_total, _ = parse_money(
            proceeds["grandTotal"], "The order total", currency
        )
    buyer = raw.get("buyer") or {}
    if not isinstance(buyer, dict):
        raise MalformedOrder("the buyer is not an object.")
    recipient = raw.get("recipient") or {}
    address = recipient.get("deliveryAddress") or {}
    if not isinstance(address, dict):
        raise MalformedOrder("the delivery address is not an object.")
    # Amazon's models allow any text: what no address holds is never stored.
    text_issues = []
    buyer = _clean_fields(buyer, text_issues, "buyer.")
    address = _clean_fields(address, text_issues, "deliveryAddress.")
    return Order(
        order_ref=order_ref,
        marketplace_ref=marketplace_ref,
        channel=_fulfilled_by(raw),
        status=status,
        purchase_date=parse_datetime(raw.get("createdTime"), "createdTime"),
        last_update=parse_datetime(raw.get("lastUpdatedTime"), "lastUpdatedTime"),
        currency=currency,
        buyer_name=buyer.get("buyerName") or "",
        buyer_email=(buyer.get("buyerEmail") or "").lower(),
        buyer_company=buyer.get("buyerCompanyName") or "",
        address={k: v.strip() if isinstance(v, str) else v for k, v in address.items()},
        items=items,
        grand_total=grand_total,
        delivery_tip=delivery_tip,
        text_issues=text_issues,
    )
