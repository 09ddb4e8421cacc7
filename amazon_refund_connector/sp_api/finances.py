"""Amazon's financial transactions (Finances 2024-06-19) and the refunds among them.

Reading
-------
:func:`iter_transactions` reads ``listTransactions`` page by page, one call
per page, following Amazon's rules: ``postedBefore`` at least two minutes
before now (and by default exactly that), windows of at most 180 days (Amazon
answers an empty page, without an error, for a longer one, so a longer span
is read as several windows), ``nextToken`` sent back with the same
arguments, empty pages that still carry a token. Postings appear up to about
48 hours late with their real ``postedDate``: a reader re-reads an overlap
and relies on :func:`line_key` to skip what it already has.

The US marketplace is never sent as ``marketplaceId``: Amazon then leaves
out the merchant-fulfilled transactions of the US store, so the page is
filtered here instead.

Refunds
-------
:func:`is_refund` tells the refund transactions (``Refund``, and
``GuaranteeClaim`` and ``Chargeback`` for A-to-z claims and chargebacks) from
the others (``Shipment``, ``ServiceFee``, ...). :func:`parse_refund` reads one
into a :class:`Refund` with exact :class:`~decimal.Decimal` amounts in
Amazon's signs: from the seller's side, so what goes back to the buyer is
negative (:attr:`Refund.refunded` is that amount as a positive number).

Each item's breakdowns become :class:`RefundLine` objects. The buyer's lines
(``side`` "buyer") are the credit note's; the lines of Amazon's money
(``side`` "amazon": fees given back or kept, tax Amazon withheld) belong on
the refunds overview only. Amazon's breakdown types, matched without regard
to case, spaces or dashes, give these kinds:

============================================  ====================  =========
Amazon breakdown type                         kind                  side
============================================  ====================  =========
OurPricePrincipal, Principal (the model's     PRINCIPAL             buyer
example: Principle)
OurPriceTax                                   TAX                   buyer
ShippingPrincipal, ShippingCharge             SHIPPING              buyer
ShippingTax                                   SHIPPING_TAX          buyer
GiftwrapPrincipal, GiftwrapCharge             GIFT_WRAP             buyer
GiftwrapTax                                   GIFT_WRAP_TAX         buyer
OurPriceDiscount, ShippingDiscount,           PROMOTION             buyer
GiftwrapDiscount, PromoRebates
TaxDiscount, OurPriceTaxDiscount,             PROMOTION_TAX         buyer
ShippingTaxDiscount
GoodwillPrincipal                             GOODWILL              buyer
RestockingDeductionPrincipal, RestockingFee   RESTOCKING_FEE        buyer
RestockingDeductionTax                        RESTOCKING_FEE_TAX    buyer
Commission, ReferralFee                       COMMISSION            amazon
RefundCommission                              REFUND_COMMISSION     amazon
FBA...Fee (FBAPerUnitFulfillmentFee, ...)     FBA_FEE               amazon
ShippingChargeback                            SHIPPING_CHARGEBACK   amazon
GiftwrapChargeback                            GIFT_WRAP_CHARGEBACK  amazon
MarketplaceFacilitatorTax-..., -VAT-...,      TAX_WITHHELD          amazon
LowValueGoodsTax-...
DigitalServicesFee, VariableClosingFee,       AMAZON_FEE            amazon
FixedClosingFee
any other type                                OTHER                 see below
============================================  ====================  =========

Breakdowns group the types under categories: ProductCharges, Shipping,
Giftwrap, Tax, Promo (the buyer's), AmazonFees, FBAFees, TaxWithheld
(Amazon's), themselves under Sales and Expenses at the transaction level. A
plain Principal, Base or Tax under a category takes the category's kind
(Principal under Shipping is SHIPPING, Tax under it SHIPPING_TAX); a fee
with Base and Tax parts is one line whose ``tax`` is the Tax part. A type
this table does not know is kept as kind OTHER under its own name, on the
side of its category, or on side "unknown" outside any category: it is
neither the buyer's nor Amazon's money until someone looks at it.

A refund is refused with :class:`MalformedTransaction` when its amounts do
not add up: each item's total against its lines, the transaction's total
against its items, and each category of the transaction's own breakdowns
against the same category of its items (so what Amazon says the buyer got
is what the buyer lines add up to).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from sp_api.api import FinancesV20240619

from .client import _iso
from .errors import AmazonInvalidInput, AmazonServerError

OPERATION = "listTransactions"
# Amazon: postedBefore (and postedAfter) more than two minutes before the
# request; postedAfter and postedBefore at most 180 days apart.
SETTLE = timedelta(minutes=2)
MAX_WINDOW = timedelta(days=180)
FILTER_IDENTIFIERS = ("ORDER_ID", "FINANCIAL_EVENT_GROUP_ID")
US_MARKETPLACE = "ATVPDKIKX0DER"
REFUND_TRANSACTION_TYPES = ("Refund", "GuaranteeClaim", "Chargeback")
_REFUND_TYPES = frozenset(name.lower() for name in REFUND_TRANSACTION_TYPES)

BUYER = "buyer"
AMAZON = "amazon"
UNKNOWN = "unknown"

PRINCIPAL = "PRINCIPAL"
TAX = "TAX"
SHIPPING = "SHIPPING"
SHIPPING_TAX = "SHIPPING_TAX"
GIFT_WRAP = "GIFT_WRAP"
GIFT_WRAP_TAX = "GIFT_WRAP_TAX"
PROMOTION = "PROMOTION"
PROMOTION_TAX = "PROMOTION_TAX"
GOODWILL = "GOODWILL"
RESTOCKING_FEE = "RESTOCKING_FEE"
RESTOCKING_FEE_TAX = "RESTOCKING_FEE_TAX"
COMMISSION = "COMMISSION"
REFUND_COMMISSION = "REFUND_COMMISSION"
FBA_FEE = "FBA_FEE"
SHIPPING_CHARGEBACK = "SHIPPING_CHARGEBACK"
GIFT_WRAP_CHARGEBACK = "GIFT_WRAP_CHARGEBACK"
TAX_WITHHELD = "TAX_WITHHELD"
AMAZON_FEE = "AMAZON_FEE"
OTHER = "OTHER"

BUYER_KINDS = (
    PRINCIPAL,
    TAX,
    SHIPPING,
    SHIPPING_TAX,
    GIFT_WRAP,
    GIFT_WRAP_TAX,
    PROMOTION,
    PROMOTION_TAX,
    GOODWILL,
    RESTOCKING_FEE,
    RESTOCKING_FEE_TAX,
)
AMAZON_KINDS = (
    COMMISSION,
    REFUND_COMMISSION,
    FBA_FEE,
    SHIPPING_CHARGEBACK,
    GIFT_WRAP_CHARGEBACK,
    TAX_WITHHELD,
    AMAZON_FEE,
)

_TYPE_KINDS = {
    "ourpriceprincipal": PRINCIPAL,
    "principal": PRINCIPAL,
    "principle": PRINCIPAL,
    "ourpricetax": TAX,
    "shippingprincipal": SHIPPING,
    "shippingcharge": SHIPPING,
    "shippingtax": SHIPPING_TAX,
    "giftwrapprincipal": GIFT_WRAP,
    "giftwrapcharge": GIFT_WRAP,
    "giftwraptax": GIFT_WRAP_TAX,
    "ourpricediscount": PROMOTION,
    "shippingdiscount": PROMOTION,
    "giftwrapdiscount": PROMOTION,
    "promorebates": PROMOTION,
    "taxdiscount": PROMOTION_TAX,
    "ourpricetaxdiscount": PROMOTION_TAX,
    "shippingtaxdiscount": PROMOTION_TAX,
    "goodwillprincipal": GOODWILL,
    "restockingdeductionprincipal": RESTOCKING_FEE,
    "restockingfee": RESTOCKING_FEE,
    "restockingdeductiontax": RESTOCKING_FEE_TAX,
    "commission": COMMISSION,
    "referralfee": COMMISSION,
    "refundcommission": REFUND_COMMISSION,
    "shippingchargeback": SHIPPING_CHARGEBACK,
    "giftwrapchargeback": GIFT_WRAP_CHARGEBACK,
    "digitalservicesfee": AMAZON_FEE,
    "variableclosingfee": AMAZON_FEE,
    "fixedclosingfee": AMAZON_FEE,
}
_WITHHELD_PREFIXES = (
    "marketplacefacilitatortax",
    "marketplacefacilitatorvat",
    "lowvaluegoodstax",
)
# category: (side, kind of its principal, kind of its tax)
_CATEGORIES = {
    "productcharges": (BUYER, PRINCIPAL, TAX),
    "shipping": (BUYER, SHIPPING, SHIPPING_TAX),
    "giftwrap": (BUYER, GIFT_WRAP, GIFT_WRAP_TAX),
    "tax": (BUYER, TAX, TAX),
    "promo": (BUYER, PROMOTION, PROMOTION_TAX),
    "promotion": (BUYER, PROMOTION, PROMOTION_TAX),
    "promotions": (BUYER, PROMOTION, PROMOTION_TAX),
    "goodwill": (BUYER, GOODWILL, GOODWILL),
    "restockingdeduction": (BUYER, RESTOCKING_FEE, RESTOCKING_FEE_TAX),
    "amazonfees": (AMAZON, AMAZON_FEE, AMAZON_FEE),
    "fees": (AMAZON, AMAZON_FEE, AMAZON_FEE),
    "fbafees": (AMAZON, FBA_FEE, FBA_FEE),
    "taxwithheld": (AMAZON, TAX_WITHHELD, TAX_WITHHELD),
    "itemwithheldtax": (AMAZON, TAX_WITHHELD, TAX_WITHHELD),
}
# Where a type stands when Amazon lists it outside any category.
_KIND_CATEGORY = {
    PRINCIPAL: "productcharges",
    GOODWILL: "productcharges",
    RESTOCKING_FEE: "productcharges",
    TAX: "tax",
    SHIPPING_TAX: "tax",
    GIFT_WRAP_TAX: "tax",
    RESTOCKING_FEE_TAX: "tax",
    SHIPPING: "shipping",
    GIFT_WRAP: "giftwrap",
    PROMOTION: "promo",
    PROMOTION_TAX: "promo",
    COMMISSION: "amazonfees",
    REFUND_COMMISSION: "amazonfees",
    FBA_FEE: "amazonfees",
    SHIPPING_CHARGEBACK: "amazonfees",
    GIFT_WRAP_CHARGEBACK: "amazonfees",
    AMAZON_FEE: "amazonfees",
    TAX_WITHHELD: "taxwithheld",
}
_GENERIC_PRINCIPAL = ("principal", "principle", "base")
_GENERIC_TAX = ("tax",)
_PARTS = frozenset(("base", "tax"))


class MalformedTransaction(ValueError):
    """A transaction the connector cannot import as Amazon sent it."""


# reading -------------------------------------------------------------------------


@dataclass
class TransactionPage:
    """One answer of listTransactions.

    ``posted_after``/``posted_before`` bound the window the page belongs to
    (naive UTC); ``last`` is true on the last page of the whole read, after
    which everything posted before ``posted_before`` of that window has been
    seen (as far as Amazon had posted it).
    """

    transactions: list
    posted_after: datetime
    posted_before: datetime
    next_token: str = None
    last: bool = False


def _utc(value, what="A date"):
    """A naive UTC datetime from a datetime (naive means UTC) or ISO string."""
    if isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise AmazonInvalidInput(
                f"{what} {value!r} is not an ISO 8601 date."
            ) from exc
    if not isinstance(value, datetime):
        raise AmazonInvalidInput(f"{what} {value!r} is not a date.")
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def read_bounds(posted_after, posted_before=None, now=None):
    """``(start, end)`` of a read, naive UTC to the second: ``end`` is
    ``posted_before`` capped at two minutes before ``now``."""
    now = _utc(now, "now") if now is not None else _utc(datetime.now(timezone.utc))
    latest = (now - SETTLE).replace(microsecond=0)
    start = _utc(posted_after, "postedAfter").replace(microsecond=0)
    end = latest
    if posted_before is not None:
        end = min(_utc(posted_before, "postedBefore").replace(microsecond=0), latest)
    return start, end


def windows(start, end):
    """``[(after, before)]`` covering ``start``..``end``, 180 days at most each."""
    spans = []
    after = start
    while after < end:
        before = min(after + MAX_WINDOW, end)
        spans.append((after, before))
        after = before
    return spans


def _malformed(expected):
    # sp_api hands back an empty payload for a body that is not JSON (even
    # for a 5xx), so a missing key is all that is left of such an answer.
    return AmazonServerError(
        f"Amazon's answer to {OPERATION} was unreadable: it holds no {expected}.",
        operation=OPERATION,
        code="MalformedResponse",
    )


def _page_content(response):
    payload = response.payload
    transactions = payload.get("transactions") if isinstance(payload, dict) else None
    if not isinstance(transactions, list):
        raise _malformed("'transactions' list")
    if not all(isinstance(t, dict) for t in transactions):
        raise _malformed("list of transaction objects")
    token = response.next_token
    if token is None and isinstance(payload, dict):
        token = payload.get("nextToken")
    if token is not None and not isinstance(token, str):
        raise _malformed("readable nextToken")
    return transactions, token or None


def transaction_marketplace(transaction):
    for key in ("marketplaceDetails", "sellingPartnerMetadata"):
        data = transaction.get(key)
        if isinstance(data, dict) and data.get("marketplaceId"):
            return data["marketplaceId"]
    return None


def iter_transactions(
    client,
    posted_after,
    posted_before=None,
    marketplace_id=None,
    related_identifier=None,
    now=None,
):
    """Yield the :class:`TransactionPage` objects of transactions posted from
    ``posted_after`` until ``posted_before`` (default and at most: two minutes
    before ``now``, which defaults to the current time).

    ``related_identifier``: ``(name, value)`` with name ORDER_ID or
    FINANCIAL_EVENT_GROUP_ID. Raises the layer's errors (AmazonThrottled,
    AmazonServerError with code MalformedResponse, ...) at the page where
    they happen; the pages yielded before stay valid.
    """
    start, end = read_bounds(posted_after, posted_before, now)
    extra = {}
    if marketplace_id and marketplace_id != US_MARKETPLACE:
        extra["marketplaceId"] = marketplace_id
    if related_identifier:
        name, value = related_identifier
        if name not in FILTER_IDENTIFIERS:
            raise AmazonInvalidInput(
                f"Amazon filters transactions by {' or '.join(FILTER_IDENTIFIERS)} "
                f"only, not by {name}."
            )
        extra["relatedIdentifierName"] = name
        extra["relatedIdentifierValue"] = str(value)
    spans = windows(start, end)
    for index, (after, before) in enumerate(spans):
        token = None
        while True:
            params = {"postedAfter": _iso(after), "postedBefore": _iso(before), **extra}
            if token:
                params["nextToken"] = token
            response = client.call(
                OPERATION, FinancesV20240619, "list_transactions", **params
            )
            transactions, next_token = _page_content(response)
            if next_token is not None and next_token == token:
                raise _malformed("new nextToken (the same one came back)")
            if marketplace_id == US_MARKETPLACE:
                transactions = [
                    t
                    for t in transactions
                    if transaction_marketplace(t) == US_MARKETPLACE
                ]
            last = next_token is None and index == len(spans) - 1
            yield TransactionPage(transactions, after, before, next_token, last)
            if next_token is None:
                break
            token = next_token


# refunds ------------------------------------------------------------------------------


@dataclass
class RefundLine:
    """One amount of a refunded item, in Amazon's sign (seller's side).

    ``tax`` is the part of ``amount`` that is tax, when Amazon splits it
    (a fee's Base and Tax); ``path`` names the breakdowns from the item down
    to this one ("ProductCharges/OurPricePrincipal").
    """

    kind: str
    amazon_type: str
    amount: Decimal
    tax: Decimal = Decimal(0)
    side: str = BUYER
    path: str = ""
    category: str = None


@dataclass
class RefundItem:
    """A refunded item: Amazon's adjustment item id (``item_ref``), the SKU
    and units it names, its lines; ``order_item_id`` is set by
    :func:`match_order_items` (Amazon's refund items carry no order item id).
    """

    item_ref: str
    sku: str
    asin: str
    quantity: int
    network: str
    description: str
    total: Decimal
    lines: list = field(default_factory=list)
    order_item_id: str = None

    @property
    def channel(self):
        return {"AFN": "FBA", "MFN": "FBM"}.get(self.network)

    def lines_of(self, side):
        return [line for line in self.lines if line.side == side]

    @property
    def buyer_lines(self):
        return self.lines_of(BUYER)

    @property
    def amazon_lines(self):
        return self.lines_of(AMAZON)

    @property
    def unknown_lines(self):
        return self.lines_of(UNKNOWN)

    @property
    def buyer_total(self):
        return sum((line.amount for line in self.buyer_lines), Decimal(0))


@dataclass
class Refund:
    """A refund transaction. ``posted`` and ``maturity`` are naive UTC;
    ``status`` is DEFERRED, RELEASED or DEFERRED_RELEASED (upper case)."""

    refund_id: str
    transaction_id: str
    transaction_type: str
    order_id: str
    marketplace_id: str
    posted: datetime
    currency: str
    status: str
    description: str
    total: Decimal
    items: list
    group_id: str = None
    maturity: datetime = None

    def lines(self):
        """``(item, line)`` for every line of every item."""
        return [(item, line) for item in self.items for line in item.lines]

    def _sum(self, side):
        return sum(
            (line.amount for _, line in self.lines() if line.side == side), Decimal(0)
        )

    @property
    def buyer_total(self):
        """The buyer's lines added up (negative: money back to the buyer)."""
        return self._sum(BUYER)

    @property
    def refunded(self):
        """What Amazon refunded to the buyer, as a positive amount."""
        return -self.buyer_total

    @property
    def amazon_total(self):
        """Amazon's money: fees given back (positive) or kept (negative)."""
        return self._sum(AMAZON)

    @property
    def unknown_total(self):
        return self._sum(UNKNOWN)

    @property
    def has_unknown(self):
        return any(line.side == UNKNOWN for _, line in self.lines())

    def keys(self):
        return [line_key(self, item, line) for item, line in self.lines()]


def line_key(refund, item, line):
    """The unique key of one imported refund line (per account): Amazon's
    refund id, adjustment item id, the line's kind and where Amazon lists
    its type. Reading the same refund again gives the same keys."""
    return (refund.refund_id, item.item_ref, line.kind, line.path)


def is_refund(transaction):
    """Whether a listTransactions transaction gives a buyer money back."""
    kind = transaction.get("transactionType") if isinstance(transaction, dict) else None
    return isinstance(kind, str) and _norm(kind) in _REFUND_TYPES


def _norm(text):
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _type_kind(norm):
    kind = _TYPE_KINDS.get(norm)
    if kind is not None:
        return kind
    if norm.startswith(_WITHHELD_PREFIXES):
        return TAX_WITHHELD
    if norm.startswith("fba") and "fee" in norm:
        return FBA_FEE
    return None


def _side_of(kind):
    if kind in BUYER_KINDS:
        return BUYER
    if kind in AMAZON_KINDS:
        return AMAZON
    return UNKNOWN


def _children(node, what):
    children = node.get("breakdowns")
    if children is None:
        return []
    if isinstance(children, dict):
        # The model's own Transaction example wraps the list in an object.
        children = children.get("breakdowns") or []
    if not isinstance(children, list):
        raise MalformedTransaction(f"{what}: breakdowns are neither a list nor empty.")
    return children


class _Reader:
    """Reads the amounts of one transaction, all in one currency."""

    def __init__(self, where):
        self.where = where
        self.currency = None

    def money(self, value, what):
        if not isinstance(value, dict):
            raise MalformedTransaction(f"{self.where}: {what} is not an amount.")
        raw = value.get("currencyAmount")
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise MalformedTransaction(f"{self.where}: {what} {raw!r} is not a number.")
        try:
            amount = Decimal(str(raw))
        except (InvalidOperation, ValueError) as exc:
            raise MalformedTransaction(
                f"{self.where}: {what} {raw!r} is not a number."
            ) from exc
        if not amount.is_finite():
            raise MalformedTransaction(f"{self.where}: {what} {raw!r} is not a number.")
        code = value.get("currencyCode")
        if not isinstance(code, str) or len(code) != 3:
            raise MalformedTransaction(f"{self.where}: {what} has no currency code.")
        if self.currency is None:
            self.currency = code
        elif code != self.currency:
            raise MalformedTransaction(
                f"{self.where}: {what} is in {code} while the refund is in "
                f"{self.currency}."
            )
        return amount

    def node(self, node, what):
        if not isinstance(node, dict):
            raise MalformedTransaction(f"{self.where}: {what} is not an object.")
        name = node.get("breakdownType")
        if not isinstance(name, str) or not _norm(name):
            raise MalformedTransaction(f"{self.where}: {what} has no breakdownType.")
        return name, _children(node, f"{self.where}: {name}")

    def leaves_sum(self, node, what):
        """(amount, tax part) of a node: its leaves added up, its own amount
        when it has none."""
        name, children = self.node(node, what)
        if not children:
            amount = self.money(node.get("breakdownAmount"), f"the {name} amount")
            return amount, amount if _norm(name) in _GENERIC_TAX else Decimal(0)
        amount = tax = Decimal(0)
        for child in children:
            part, part_tax = self.leaves_sum(child, f"a breakdown of {name}")
            amount += part
            tax += part_tax
        if node.get("breakdownAmount") is not None:
            stated = self.money(node["breakdownAmount"], f"the {name} amount")
            if stated != amount:
                raise MalformedTransaction(
                    f"{self.where}: {name} is {stated} while its parts add up to "
                    f"{amount}."
                )
        return amount, tax


def _item_lines(reader, breakdowns, where):
    lines = {}

    def add(line):
        found = lines.get(line.path)
        if found is None:
            lines[line.path] = line
        else:
            found.amount += line.amount
            found.tax += line.tax

    def walk(nodes, category, path):
        for node in nodes:
            name, children = reader.node(node, f"a breakdown of {where}")
            norm = _norm(name)
            here = (*path, name)
            kind = _type_kind(norm)
            folded = kind is not None or (
                children
                and all(
                    isinstance(c, dict)
                    and isinstance(c.get("breakdownType"), str)
                    and _norm(c["breakdownType"]) in _PARTS
                    for c in children
                )
            )
            if children and not folded:
                inner = category or (norm if norm in _CATEGORIES else None)
                walk(children, inner, here)
                continue
            amount, tax = reader.leaves_sum(node, f"a breakdown of {where}")
            if not children:
                tax = Decimal(0)
            add(_line(name, norm, kind, category, amount, tax, here))

    walk(breakdowns, None, ())
    return list(lines.values())


def _line(name, norm, kind, category, amount, tax, path):
    rule = _CATEGORIES.get(category) if category else None
    own = _CATEGORIES.get(norm)
    if rule is not None and norm in _GENERIC_PRINCIPAL:
        kind = rule[1]
    elif rule is not None and norm in _GENERIC_TAX:
        kind = rule[2]
    elif kind is None and own is not None:
        kind = own[1]
    side = _side_of(kind)
    if kind is None:
        kind = OTHER
        side = rule[0] if rule is not None else UNKNOWN
    where = category or _KIND_CATEGORY.get(kind) or norm
    return RefundLine(
        kind, name, amount, tax, side=side, path="/".join(path), category=where
    )


def _transaction_categories(reader, nodes, sums, where):
    """Amounts of the transaction's own breakdowns by category."""
    for node in nodes:
        name, children = reader.node(node, f"a breakdown of {where}")
        norm = _norm(name)
        kind = _type_kind(norm)
        if norm in _CATEGORIES or kind is not None:
            key = norm if norm in _CATEGORIES else _KIND_CATEGORY[kind]
            amount, _ = reader.leaves_sum(node, f"a breakdown of {where}")
            sums[key] = sums.get(key, Decimal(0)) + amount
        elif children:
            _transaction_categories(reader, children, sums, where)


def _identifiers(entries, name_key, value_key, where):
    found = {}
    if entries is None:
        return found
    if not isinstance(entries, list):
        raise MalformedTransaction(f"{where}: relatedIdentifiers is not a list.")
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get(name_key), str):
            value = entry.get(value_key)
            if value not in (None, ""):
                found.setdefault(entry[name_key], str(value))
    return found


def _product_context(contexts):
    for context in contexts if isinstance(contexts, list) else ():
        if isinstance(context, dict) and context.get("contextType") == "ProductContext":
            return context
    for context in contexts if isinstance(contexts, list) else ():
        if isinstance(context, dict) and ("sku" in context or "asin" in context):
            return context
    return {}


def _maturity(contexts, where):
    for context in contexts if isinstance(contexts, list) else ():
        if (
            isinstance(context, dict)
            and context.get("contextType") == "DeferredContext"
        ):
            if context.get("maturityDate"):
                return _date(context["maturityDate"], f"{where}: the maturity date")
    return None


def _date(value, what):
    if not isinstance(value, str) or not value.strip():
        raise MalformedTransaction(f"{what} is missing.")
    try:
        return _utc(value)
    except AmazonInvalidInput as exc:
        raise MalformedTransaction(
            f"{what} {value!r} is not an ISO 8601 date."
        ) from exc


def _quantity(context, where):
    quantity = context.get("quantityShipped")
    if quantity is None:
        return None
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise MalformedTransaction(
            f"{where}: quantityShipped {quantity!r} is not a whole number."
        )
    return abs(quantity)


def _parse_item(reader, raw, index, where):
    if not isinstance(raw, dict):
        raise MalformedTransaction(f"{where}: item {index + 1} is not an object.")
    identifiers = _identifiers(
        raw.get("relatedIdentifiers"),
        "itemRelatedIdentifierName",
        "itemRelatedIdentifierValue",
        where,
    )
    context = _product_context(raw.get("contexts"))
    sku = context.get("sku") or ""
    item_ref = identifiers.get("ORDER_ADJUSTMENT_ITEM_ID") or f"{index + 1}:{sku}"
    label = f"{where}, item {item_ref}"
    breakdowns = _children(raw, label)
    if not breakdowns:
        raise MalformedTransaction(f"{label} has no breakdowns of its amount.")
    lines = _item_lines(reader, breakdowns, label)
    summed = sum((line.amount for line in lines), Decimal(0))
    total = summed
    if raw.get("totalAmount") is not None:
        total = reader.money(raw["totalAmount"], f"the total of item {item_ref}")
        if total != summed:
            raise MalformedTransaction(
                f"{label}: its breakdowns add up to {summed}, its total is {total}."
            )
    return RefundItem(
        item_ref=item_ref,
        sku=sku,
        asin=context.get("asin") or "",
        quantity=_quantity(context, label),
        network=context.get("fulfillmentNetwork"),
        description=raw.get("description") or "",
        total=total,
        lines=lines,
    )


def parse_refund(transaction):
    """Read a refund transaction into a :class:`Refund`.

    Raises :class:`MalformedTransaction` with a sentence saying what is wrong
    (the caller flags that transaction and goes on with the others).
    """
    if not isinstance(transaction, dict):
        raise MalformedTransaction("A transaction is not an object.")
    transaction_id = transaction.get("transactionId")
    where = f"Transaction {transaction_id or '(without id)'}"
    if not is_refund(transaction):
        raise MalformedTransaction(
            f"{where} is a {transaction.get('transactionType')!r} transaction, "
            "not a refund."
        )
    identifiers = _identifiers(
        transaction.get("relatedIdentifiers"),
        "relatedIdentifierName",
        "relatedIdentifierValue",
        where,
    )
    order_id = identifiers.get("ORDER_ID")
    if not order_id:
        raise MalformedTransaction(f"{where} names no order (ORDER_ID).")
    refund_id = identifiers.get("REFUND_ID") or transaction_id
    if not refund_id:
        raise MalformedTransaction(f"{where} has neither a REFUND_ID nor an id.")
    where = f"Refund {refund_id} of order {order_id}"
    reader = _Reader(where)
    if transaction.get("totalAmount") is None:
        raise MalformedTransaction(f"{where} has no total amount.")
    total = reader.money(transaction["totalAmount"], "the refund total")
    raw_items = transaction.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise MalformedTransaction(f"{where} lists no item.")
    items = [
        _parse_item(reader, raw, index, where) for index, raw in enumerate(raw_items)
    ]
    refs = [item.item_ref for item in items]
    if len(set(refs)) != len(refs):
        raise MalformedTransaction(f"{where} lists an adjustment item id twice.")
    summed = sum((item.total for item in items), Decimal(0))
    if summed != total:
        raise MalformedTransaction(
            f"{where}: its items add up to {summed}, its total is {total}."
        )
    _check_categories(reader, transaction, items, where)
    status = transaction.get("transactionStatus")
    return Refund(
        refund_id=refund_id,
        transaction_id=transaction_id,
        transaction_type=transaction.get("transactionType"),
        order_id=order_id,
        marketplace_id=transaction_marketplace(transaction),
        posted=_date(transaction.get("postedDate"), f"{where}: the posted date"),
        currency=reader.currency,
        status=status.upper() if isinstance(status, str) else None,
        description=transaction.get("description") or "",
        total=total,
        items=items,
        group_id=identifiers.get("FINANCIAL_EVENT_GROUP_ID"),
        maturity=_maturity(transaction.get("contexts"), where),
    )


def _check_categories(reader, transaction, items, where):
    stated = {}
    _transaction_categories(
        reader, _children(transaction, where), stated, f"{where} (summary)"
    )
    found = {}
    for item in items:
        for line in item.lines:
            found[line.category] = found.get(line.category, Decimal(0)) + line.amount
    for category, amount in sorted(stated.items()):
        if found.get(category, Decimal(0)) != amount:
            raise MalformedTransaction(
                f"{where}: Amazon's summary gives {category} {amount}, its items "
                f"add up to {found.get(category, Decimal(0))}."
            )


def refunds_of(transactions):
    """``(refunds, problems)`` of a page: every refund transaction parsed,
    and ``(transaction, MalformedTransaction)`` for those that could not be."""
    refunds, problems = [], []
    for transaction in transactions:
        if not is_refund(transaction):
            continue
        try:
            refunds.append(parse_refund(transaction))
        except MalformedTransaction as error:
            problems.append((transaction, error))
    return refunds, problems


def match_order_items(refund, order_items):
    """Set ``order_item_id`` on the refund's items from the order's items.

    ``order_items``: ``(order item id, SKU)`` pairs of the order. Amazon's
    refund items name the SKU, not the order item: an item goes to the
    order item of its SKU (several order items of one SKU are used in
    turn). Returns the refund items the order has no item for.
    """
    by_sku = {}
    for item_id, sku in order_items:
        by_sku.setdefault(sku, []).append(item_id)
    used = {}
    missing = []
    for item in refund.items:
        candidates = by_sku.get(item.sku) or []
        if not item.sku or not candidates:
            item.order_item_id = None
            missing.append(item)
            continue
        turn = used.get(item.sku, 0)
        item.order_item_id = candidates[turn % len(candidates)]
        used[item.sku] = turn + 1
    return missing
