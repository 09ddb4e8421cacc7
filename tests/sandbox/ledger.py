"""Finances 2024-06-19 transactions of the sandbox's orders.

Amazon posts a "Shipment" transaction when units of an order ship and a
"Refund" transaction when a buyer gets money back. Both come in the model's
Transaction shape: related identifiers, a total, items with their breakdowns
by charge type, a transaction-level summary of those breakdowns, and the
status of the money (DEFERRED, RELEASED, DEFERRED_RELEASED).

The amounts are the order's own (Orders 2026-01-01 item proceeds), to the
cent. Charge types per item, shipment direction (a refund has the opposite
signs):

    ProductCharges  OurPricePrincipal
    Shipping        ShippingPrincipal
    Giftwrap        GiftwrapPrincipal
    Tax             OurPriceTax, ShippingTax, GiftwrapTax
    Promo           OurPriceDiscount, ShippingDiscount (negative), and on VAT
                    marketplaces TaxDiscount, ShippingTaxDiscount
    TaxWithheld     MarketplaceFacilitatorTax-Principal/-Shipping/-Other: US
                    items under the marketplace facilitator model, where
                    Amazon keeps the sales tax it collected
    AmazonFees      Commission (15 % of what the buyer paid, tax excluded where
                    prices exclude it), FBAPerUnitFulfillmentFee (FBA),
                    ShippingChargeback and GiftwrapChargeback (FBA: Amazon
                    keeps what the buyer paid for shipping and gift wrap)

Prices on VAT marketplaces include the VAT, while Amazon's finances show the
principal net of VAT with the VAT apart: OurPricePrincipal is the ITEM amount
less the VAT it contains, and a promotion is split the same way
(OurPriceDiscount and TaxDiscount), so that principal, promotion and their
taxes add up to what the buyer paid and the taxes to the order's TAX. Fees on
VAT marketplaces carry the VAT of the fee as Base and Tax sub-breakdowns.

A refund gives the buyer's amounts back (negative), gives the Commission and
the chargebacks back to the seller (positive) and keeps a RefundCommission
(20 % of the commission given back, at most 5 currency units or the local
equivalent). A part of an item's units gets the part of each amount that
makes the parts of all shipments (or refunds) add up to the whole exactly.
Goodwill refunds give a GoodwillPrincipal instead.

US transactions are deferred (Amazon's delivery-date policy, "DD7"): DEFERRED
until their maturity date, then DEFERRED_RELEASED; the others are RELEASED.
"""

import base64
import copy
import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from .addresses import COUNTRIES
from .catalogue import PRICE_FACTORS
from .marketplaces import MARKETPLACES
from .money import decimals, quantize
from .timeutil import as_datetime, floor_seconds, format_time, parse_time

US = "ATVPDKIKX0DER"

SHIPMENT = "Shipment"
REFUND = "Refund"
GUARANTEE_CLAIM = "GuaranteeClaim"

DEFERRED = "DEFERRED"
RELEASED = "RELEASED"
DEFERRED_RELEASED = "DEFERRED_RELEASED"
STATUSES = (DEFERRED, RELEASED, DEFERRED_RELEASED)

REFUND_KINDS = ("RETURN", "NO_RETURN", "GOODWILL", "A_TO_Z")
DEFAULT_DESCRIPTIONS = {
    "RETURN": "Refund",
    "NO_RETURN": "Refund",
    "GOODWILL": "Refund",
    "A_TO_Z": "GuaranteeClaimRefund",
}

COMMISSION_RATE = Decimal("0.15")
REFUND_COMMISSION_RATE = Decimal("0.20")
REFUND_COMMISSION_CAPS = {
    "USD": "5.00",
    "CAD": "5.00",
    "MXN": "100.00",
    "GBP": "5.00",
    "EUR": "5.00",
    "SEK": "50.00",
    "PLN": "20.00",
    "JPY": "500",
    "AUD": "5.00",
}
FBA_FEE_PER_UNIT_USD = Decimal("3.86")
EVENT_GROUP_DAYS = 14
EVENT_GROUP_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)

# The breakdown a charge type is listed under, in the order Amazon lists them.
CATEGORY_OF = {
    "OurPricePrincipal": "ProductCharges",
    "GoodwillPrincipal": "ProductCharges",
    "RestockingDeductionPrincipal": "ProductCharges",
    "ShippingPrincipal": "Shipping",
    "GiftwrapPrincipal": "Giftwrap",
    "OurPriceTax": "Tax",
    "ShippingTax": "Tax",
    "GiftwrapTax": "Tax",
    "RestockingDeductionTax": "Tax",
    "OurPriceDiscount": "Promo",
    "TaxDiscount": "Promo",
    "ShippingDiscount": "Promo",
    "ShippingTaxDiscount": "Promo",
    "MarketplaceFacilitatorTax-Principal": "TaxWithheld",
    "MarketplaceFacilitatorTax-Shipping": "TaxWithheld",
    "MarketplaceFacilitatorTax-Other": "TaxWithheld",
    "Commission": "AmazonFees",
    "RefundCommission": "AmazonFees",
    "FBAPerUnitFulfillmentFee": "AmazonFees",
    "ShippingChargeback": "AmazonFees",
    "GiftwrapChargeback": "AmazonFees",
}
CATEGORIES = (
    "ProductCharges",
    "Shipping",
    "Giftwrap",
    "Tax",
    "Promo",
    "TaxWithheld",
    "AmazonFees",
)
SALES = ("ProductCharges", "Shipping", "Giftwrap", "Tax", "Promo")
BUYER_TYPES = frozenset(t for t, category in CATEGORY_OF.items() if category in SALES)


@dataclass
class FinanceOptions:
    """How the sandbox posts and lists transactions.

    posting_lag: seconds a shipment's postedDate may lie after its ship time
    (each shipment gets its own lag in [0, posting_lag), the same for the
    same order and shipment); listing_lag: seconds after its postedDate a
    transaction may first be listed (a late posting, backdated); deferral:
    seconds a deferred (US) transaction stays DEFERRED after its postedDate;
    page_size: transactions a page; empty_pages: empty pages (with a
    nextToken) a listing starts with, as Amazon may send; settle_seconds:
    how long before the request postedAfter and postedBefore must lie.
    """

    posting_lag: float = 48 * 3600
    listing_lag: float = 0.0
    deferral: float = 7 * 86400
    page_size: int = 100
    empty_pages: int = 0
    settle_seconds: float = 120

    def update(self, **changes):
        for name, value in changes.items():
            if not hasattr(self, name):
                raise TypeError(f"unknown finances option {name!r}")
            if value is None:
                continue
            if name in ("page_size", "empty_pages"):
                value = int(value)
                if value < (1 if name == "page_size" else 0):
                    raise ValueError(f"{name} is out of range: {value}")
            else:
                value = float(value)
                if value < 0:
                    raise ValueError(f"{name} must not be negative")
            setattr(self, name, value)
        return self

    def as_dict(self):
        return {
            "posting_lag": self.posting_lag,
            "listing_lag": self.listing_lag,
            "deferral": self.deferral,
            "page_size": self.page_size,
            "empty_pages": self.empty_pages,
            "settle_seconds": self.settle_seconds,
        }


@dataclass
class StoredTransaction:
    """A posted transaction and what it is listed and filtered by.

    body is the served shape without transactionStatus, which follows the
    clock (maturity: end of a deferral); a planted (raw) one is served as it
    was given.
    """

    transaction_id: str
    posted: datetime
    visible: datetime
    body: dict
    order_id: str = None
    group_id: str = None
    marketplace_id: str = None
    network: str = None
    maturity: datetime = None
    raw: bool = False

    def status(self, now):
        if self.maturity is None:
            return RELEASED
        return DEFERRED if now < self.maturity else DEFERRED_RELEASED

    def served(self, now):
        body = copy.deepcopy(self.body)
        if not self.raw:
            body["transactionStatus"] = self.status(now)
        return body

    def sort_key(self):
        return (self.posted, self.transaction_id)


@dataclass(frozen=True)
class Entry:
    """One charge type of an item; tax is the VAT part of a fee (Base/Tax)."""

    type: str
    amount: Decimal
    tax: Decimal = None


# identifiers -----------------------------------------------------------------


def _digest(*parts):
    return hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).digest()


def opaque_id(*parts):
    """A 43-character id such as Amazon's transaction and event group ids."""
    return base64.urlsafe_b64encode(_digest(*parts)).decode("ascii").rstrip("=")


def numeric_id(digits, *parts):
    number = int.from_bytes(_digest(*parts)[:12], "big")
    low = 10 ** (digits - 1)
    return str(low + number % (9 * low))


def event_group_id(seller_id, marketplace_id, posted):
    """The financial event group (settlement period of 14 days) of a posting."""
    period = (posted - EVENT_GROUP_EPOCH) // timedelta(days=EVENT_GROUP_DAYS)
    return opaque_id("event-group", seller_id, marketplace_id, period)


def rng_for(*parts):
    return random.Random("|".join(str(p) for p in parts))


def lag_seconds(maximum, *parts):
    if maximum <= 0:
        return 0
    return int(rng_for(*parts).random() * maximum)


# money -----------------------------------------------------------------------


def json_number(amount, currency):
    """An amount as the model's BigDecimal: a JSON number, exact to the cent."""
    value = quantize(amount, currency)
    if value == 0:
        return 0
    if decimals(currency) == 0:
        return int(value)
    return float(value)


def currency_json(amount, currency):
    return {"currencyCode": currency, "currencyAmount": json_number(amount, currency)}


def _parse(money):
    return Decimal(str(money["amount"]))


def share(amount, done, units, quantity, currency):
    """What `units` more units carry of `amount` (for `quantity` units) after
    `done` units: the shares of all units add up to `amount` exactly."""
    if quantity <= 0:
        return amount if done == 0 else Decimal(0)
    after = quantize(amount * (done + units) / quantity, currency)
    before = quantize(amount * done / quantity, currency)
    return after - before


def _contained(tax, gross, net, currency):
    """The tax contained in `gross` when `tax` is the tax of `net`."""
    if net == 0 or tax == 0:
        return Decimal(0)
    return quantize(tax * gross / net, currency)


def _vat_split(total, rate, currency):
    """(total, VAT part) of a fee that includes VAT at `rate`."""
    if rate is None or total == 0:
        return total, None
    return total, quantize(total * rate / (1 + rate), currency)


def refund_commission_cap(currency):
    cap = REFUND_COMMISSION_CAPS.get(currency)
    if cap is not None:
        return Decimal(cap)
    factor = Decimal(PRICE_FACTORS.get(currency, "1"))
    return quantize(5 * factor, currency)


def fba_fee_per_unit(currency):
    factor = Decimal(PRICE_FACTORS.get(currency, "1"))
    return quantize(FBA_FEE_PER_UNIT_USD * factor, currency)


# orders ------------------------------------------------------------------------


def order_marketplace(order):
    channel = order.get("salesChannel") or {}
    return channel.get("marketplaceId")


def order_network(order):
    by = (order.get("fulfillment") or {}).get("fulfilledBy")
    return "AFN" if by == "AMAZON" else "MFN"


def _fee_vat_rate(marketplace_id):
    marketplace = MARKETPLACES[marketplace_id]
    if not marketplace["tax_inclusive"]:
        return None
    country = COUNTRIES.get(marketplace["countryCode"])
    return Decimal(country["tax_rate"]) if country else None


def _facilitator(item):
    collections = (item.get("tax") or {}).get("taxCollections") or []
    return any(c.get("model") == "MARKETPLACE_FACILITATOR" for c in collections)


def item_entries(order, item):
    """The item's charge types for all its units, shipment direction.

    Raises KeyError, TypeError or ValueError for an item without usable
    proceeds.
    """
    marketplace_id = order_marketplace(order)
    marketplace = MARKETPLACES[marketplace_id]
    currency = marketplace["currency"]
    inclusive = marketplace["tax_inclusive"]
    sums, details = {}, {}
    for breakdown in item["proceeds"]["breakdowns"]:
        kind = breakdown["type"]
        sums[kind] = sums.get(kind, Decimal(0)) + _parse(breakdown["subtotal"])
        for detail in breakdown.get("detailedBreakdowns") or ():
            key = (kind, detail["subtype"])
            details[key] = details.get(key, Decimal(0)) + _parse(detail["value"])
    zero = Decimal(0)
    goods = sums.get("ITEM", zero)
    shipping = sums.get("SHIPPING", zero)
    wrap = sums.get("GIFT_WRAP", zero)
    goods_off = -details.get(("DISCOUNT", "ITEM"), zero)
    shipping_off = -details.get(("DISCOUNT", "SHIPPING"), zero)
    if sums.get("DISCOUNT") and not (goods_off or shipping_off):
        goods_off = -sums["DISCOUNT"]
    tax_total = sums.get("TAX", zero)
    goods_tax = details.get(("TAX", "ITEM"), zero)
    shipping_tax = details.get(("TAX", "SHIPPING"), zero)
    wrap_tax = details.get(("TAX", "GIFT_WRAP"), zero)
    if not (goods_tax or shipping_tax or wrap_tax):
        goods_tax = tax_total

    entries = []
    if inclusive:
        goods_vat = _contained(goods_tax, goods, goods - goods_off, currency)
        off_vat = goods_vat - goods_tax
        ship_vat = _contained(shipping_tax, shipping, shipping - shipping_off, currency)
        ship_off_vat = ship_vat - shipping_tax
        entries += [
            Entry("OurPricePrincipal", goods - goods_vat),
            Entry("OurPriceTax", goods_vat),
            Entry("OurPriceDiscount", -(goods_off - off_vat)),
            Entry("TaxDiscount", -off_vat),
            Entry("ShippingPrincipal", shipping - ship_vat),
            Entry("ShippingTax", ship_vat),
            Entry("ShippingDiscount", -(shipping_off - ship_off_vat)),
            Entry("ShippingTaxDiscount", -ship_off_vat),
            Entry("GiftwrapPrincipal", wrap - wrap_tax),
            Entry("GiftwrapTax", wrap_tax),
        ]
    else:
        entries += [
            Entry("OurPricePrincipal", goods),
            Entry("OurPriceTax", goods_tax),
            Entry("OurPriceDiscount", -goods_off),
            Entry("ShippingPrincipal", shipping),
            Entry("ShippingTax", shipping_tax),
            Entry("ShippingDiscount", -shipping_off),
            Entry("GiftwrapPrincipal", wrap),
            Entry("GiftwrapTax", wrap_tax),
        ]
    if _facilitator(item):
        entries += [
            Entry("MarketplaceFacilitatorTax-Principal", -goods_tax),
            Entry("MarketplaceFacilitatorTax-Shipping", -shipping_tax),
            Entry("MarketplaceFacilitatorTax-Other", -wrap_tax),
        ]

    paid = goods - goods_off + shipping - shipping_off + wrap
    rate = _fee_vat_rate(marketplace_id)
    entries.append(Entry("Commission", -quantize(paid * COMMISSION_RATE, currency)))
    if order_network(order) == "AFN":
        quantity = int(item["quantityOrdered"])
        fee = -fba_fee_per_unit(currency) * quantity
        entries.append(
            Entry("FBAPerUnitFulfillmentFee", *_vat_split(fee, rate, currency))
        )
        kept = shipping - shipping_off
        if kept:
            vat = -shipping_tax if inclusive else None
            entries.append(Entry("ShippingChargeback", -kept, vat))
        if wrap:
            vat = -wrap_tax if inclusive else None
            entries.append(Entry("GiftwrapChargeback", -wrap, vat))
    return [e for e in entries if e.amount or e.type == "OurPricePrincipal"]


def entries_share(entries, done, units, quantity, currency, sign=1):
    shared = []
    for entry in entries:
        amount = share(entry.amount, done, units, quantity, currency) * sign
        tax = None
        if entry.tax is not None:
            tax = share(entry.tax, done, units, quantity, currency) * sign
        if amount or entry.type == "OurPricePrincipal":
            shared.append(Entry(entry.type, amount, tax))
    return shared


def refund_entries(order, item, done, units, kind):
    """An item's refund of `units` after `done` units were refunded."""
    currency = MARKETPLACES[order_marketplace(order)]["currency"]
    quantity = int(item["quantityOrdered"])
    full = item_entries(order, item)
    if kind == "GOODWILL":
        buyer = entries_share(
            [e for e in full if e.type in BUYER_TYPES], 0, units, quantity, currency
        )
        paid = sum((e.amount for e in buyer), Decimal(0))
        return [Entry("GoodwillPrincipal", -paid)]
    entries = []
    for entry in entries_share(full, done, units, quantity, currency, sign=-1):
        if entry.type == "FBAPerUnitFulfillmentFee":
            continue
        entries.append(entry)
    given_back = sum((e.amount for e in entries if e.type == "Commission"), Decimal(0))
    if given_back > 0:
        kept = min(
            refund_commission_cap(currency),
            quantize(given_back * REFUND_COMMISSION_RATE, currency),
        )
        entries.append(Entry("RefundCommission", -kept))
    return entries


def amounts_entries(amounts, currency):
    """Entries from {charge type: amount} as a caller gives them."""
    entries = []
    for name, value in amounts.items():
        if isinstance(value, dict):
            amount = Decimal(str(value["amount"]))
            tax = value.get("tax")
            tax = None if tax is None else Decimal(str(tax))
        else:
            amount, tax = Decimal(str(value)), None
        if not amount.is_finite():
            raise ValueError(f"amount {value!r} of {name} is not a number")
        exponent = Decimal(1).scaleb(-decimals(currency))
        if amount != amount.quantize(exponent, rounding=ROUND_HALF_UP):
            raise ValueError(
                f"amount {value!r} of {name} has more decimals than {currency} has"
            )
        entries.append(Entry(str(name), amount, tax))
    return entries


# shipments -----------------------------------------------------------------------


def _shipped_units(order):
    units = {}
    for item in order.get("orderItems") or ():
        fulfilled = (item.get("fulfillment") or {}).get("quantityFulfilled") or 0
        units[item["orderItemId"]] = int(fulfilled)
    return units


def new_shipments(previous, order, known_keys):
    """The shipments an order update makes: [{"key", "time", "units"}].

    A new package of a merchant-fulfilled order is a shipment at its
    shipTime; units fulfilled beyond what new packages hold ship at the
    order's lastUpdatedTime (Amazon-fulfilled orders have no packages).
    """
    before = _shipped_units(previous) if previous else {}
    after = _shipped_units(order)
    increase = {
        item_id: units - before.get(item_id, 0)
        for item_id, units in after.items()
        if units > before.get(item_id, 0)
    }
    if not increase:
        return []
    old_refs = {
        str(p.get("packageReferenceId")) for p in (previous or {}).get("packages") or ()
    }
    events = []
    for package in order.get("packages") or ():
        ref = str(package.get("packageReferenceId"))
        key = f"package:{ref}"
        if ref in old_refs or key in known_keys:
            continue
        units = {}
        for line in package.get("packageItems") or ():
            item_id = line["orderItemId"]
            take = min(int(line["quantity"]), increase.get(item_id, 0))
            if take > 0:
                units[item_id] = take
                increase[item_id] -= take
        if units:
            events.append(
                {"key": key, "time": parse_time(package["shipTime"]), "units": units}
            )
    rest = {item_id: units for item_id, units in increase.items() if units > 0}
    if rest:
        count = len(known_keys) + len(events) + 1
        events.append(
            {
                "key": f"units:{count}",
                "time": parse_time(order["lastUpdatedTime"]),
                "units": rest,
            }
        )
    return events


def post_times(options, seller_id, order_id, key, time):
    """(postedDate, first listing time) of a shipment."""
    posted = floor_seconds(
        time
        + timedelta(seconds=lag_seconds(options.posting_lag, seller_id, order_id, key))
    )
    visible = posted + timedelta(
        seconds=lag_seconds(options.listing_lag, "listing", seller_id, order_id, key)
    )
    return posted, visible


def _deferral(marketplace_id, posted, seconds):
    """The maturity date of a posting: US postings are deferred."""
    if marketplace_id != US:
        return None
    return posted + timedelta(seconds=seconds)


def _item_node(item, network, units, entries, currency, adjustment_id):
    product = item.get("product") or {}
    total = sum((e.amount for e in entries), Decimal(0))
    return {
        "description": product.get("title") or "",
        "totalAmount": currency_json(total, currency),
        "relatedIdentifiers": [
            {
                "itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                "itemRelatedIdentifierValue": adjustment_id,
            }
        ],
        "breakdowns": item_breakdowns(entries, currency),
        "contexts": [
            {
                "contextType": "ProductContext",
                "asin": product.get("asin") or "",
                "sku": product.get("sellerSku") or "",
                "quantityShipped": int(units),
                "fulfillmentNetwork": network,
            }
        ],
    }


def _leaf(entry, currency):
    node = {
        "breakdownType": entry.type,
        "breakdownAmount": currency_json(entry.amount, currency),
        "breakdowns": [],
    }
    if entry.tax is not None:
        node["breakdowns"] = [
            {
                "breakdownType": "Base",
                "breakdownAmount": currency_json(entry.amount - entry.tax, currency),
                "breakdowns": [],
            },
            {
                "breakdownType": "Tax",
                "breakdownAmount": currency_json(entry.tax, currency),
                "breakdowns": [],
            },
        ]
    return node


def _grouped(entries):
    """[(category or None, [entries])] in Amazon's order; None: a type of no
    known category, listed on its own."""
    groups = {category: [] for category in CATEGORIES}
    loose = []
    for entry in entries:
        category = CATEGORY_OF.get(entry.type)
        if category is None:
            loose.append(entry)
        else:
            groups[category].append(entry)
    return [(c, groups[c]) for c in CATEGORIES if groups[c]] + [
        (None, [entry]) for entry in loose
    ]


def item_breakdowns(entries, currency):
    nodes = []
    for category, members in _grouped(entries):
        if category is None:
            nodes.append(_leaf(members[0], currency))
            continue
        nodes.append(
            {
                "breakdownType": category,
                "breakdownAmount": currency_json(
                    sum((e.amount for e in members), Decimal(0)), currency
                ),
                "breakdowns": [_leaf(e, currency) for e in members],
            }
        )
    return nodes


def transaction_breakdowns(all_entries, currency):
    """The transaction's summary: Sales (the buyer's charges) and Expenses,
    each by category; a type of no known category is listed on its own."""
    sales, expenses = [], []
    for category, members in _grouped(all_entries):
        name = category or members[0].type
        total = sum((e.amount for e in members), Decimal(0))
        node = {
            "breakdownType": name,
            "breakdownAmount": currency_json(total, currency),
            "breakdowns": [],
        }
        (sales if category in SALES or category is None else expenses).append(node)
    result = []
    for name, nodes in (("Sales", sales), ("Expenses", expenses)):
        if nodes:
            total = sum(
                (Decimal(str(n["breakdownAmount"]["currencyAmount"])) for n in nodes),
                Decimal(0),
            )
            result.append(
                {
                    "breakdownType": name,
                    "breakdownAmount": currency_json(total, currency),
                    "breakdowns": nodes,
                }
            )
    return result


def _transaction(
    seller_id,
    marketplace_id,
    transaction_type,
    transaction_id,
    description,
    posted,
    identifiers,
    items,
    all_entries,
    maturity,
):
    marketplace = MARKETPLACES[marketplace_id]
    currency = marketplace["currency"]
    total = sum((e.amount for e in all_entries), Decimal(0))
    body = {
        "sellingPartnerMetadata": {
            "sellingPartnerId": seller_id,
            "accountType": "Standard Orders",
            "marketplaceId": marketplace_id,
        },
        "relatedIdentifiers": [
            {"relatedIdentifierName": name, "relatedIdentifierValue": value}
            for name, value in identifiers
        ],
        "transactionType": transaction_type,
        "transactionId": transaction_id,
        "transactionStatus": None,
        "description": description,
        "postedDate": format_time(posted),
        "totalAmount": currency_json(total, currency),
        "marketplaceDetails": {
            "marketplaceId": marketplace_id,
            "marketplaceName": marketplace["name"],
        },
        "items": items,
        "breakdowns": transaction_breakdowns(all_entries, currency),
    }
    if maturity is not None:
        body["contexts"] = [
            {
                "contextType": "DeferredContext",
                "deferralReason": "DD7",
                "maturityDate": format_time(maturity),
            }
        ]
    return body


def shipment_transaction(seller_id, order, event, earlier, options):
    """The Shipment transaction of `event`, after the `earlier` shipments."""
    order_id = order["orderId"]
    marketplace_id = order_marketplace(order)
    currency = MARKETPLACES[marketplace_id]["currency"]
    network = order_network(order)
    done = {}
    for previous in earlier:
        for item_id, units in previous["units"].items():
            done[item_id] = done.get(item_id, 0) + units
    items, all_entries = [], []
    for item in order["orderItems"]:
        units = event["units"].get(item["orderItemId"], 0)
        if units <= 0:
            continue
        entries = entries_share(
            item_entries(order, item),
            done.get(item["orderItemId"], 0),
            units,
            int(item["quantityOrdered"]),
            currency,
        )
        all_entries += entries
        items.append(
            _item_node(item, network, units, entries, currency, item["orderItemId"])
        )
    if not items:
        raise ValueError(f"shipment {event['key']} of {order_id} ships no item")
    posted, visible = event["posted"], event["visible"]
    transaction_id = opaque_id("shipment", seller_id, order_id, event["key"])
    group_id = event_group_id(seller_id, marketplace_id, posted)
    maturity = _deferral(
        marketplace_id, posted, event.get("deferral", options.deferral)
    )
    body = _transaction(
        seller_id,
        marketplace_id,
        SHIPMENT,
        transaction_id,
        "Order Payment",
        posted,
        [
            ("ORDER_ID", order_id),
            ("SHIPMENT_ID", numeric_id(14, "shipment", order_id, event["key"])),
            ("FINANCIAL_EVENT_GROUP_ID", group_id),
        ],
        items,
        all_entries,
        maturity,
    )
    return StoredTransaction(
        transaction_id,
        posted,
        visible,
        body,
        order_id=order_id,
        group_id=group_id,
        marketplace_id=marketplace_id,
        network=network,
        maturity=maturity,
    )


# refunds ---------------------------------------------------------------------------


def refund_transaction(
    seller_id,
    order_id,
    marketplace_id,
    network,
    lines,
    kind,
    refund_id,
    posted,
    visible,
    options,
    description=None,
):
    """A Refund (or, for an A-to-z claim, GuaranteeClaim) transaction.

    lines: [(item dict in the Orders shape, units, entries, adjustment id)].
    """
    if kind not in REFUND_KINDS:
        raise ValueError(
            f"unknown refund kind {kind!r}; expected one of {REFUND_KINDS}"
        )
    if not lines:
        raise ValueError("a refund needs at least one item")
    currency = MARKETPLACES[marketplace_id]["currency"]
    items, all_entries = [], []
    for item, units, entries, adjustment_id in lines:
        all_entries += entries
        items.append(_item_node(item, network, units, entries, currency, adjustment_id))
    transaction_id = opaque_id("refund", seller_id, refund_id)
    group_id = event_group_id(seller_id, marketplace_id, posted)
    maturity = _deferral(marketplace_id, posted, options.deferral)
    body = _transaction(
        seller_id,
        marketplace_id,
        GUARANTEE_CLAIM if kind == "A_TO_Z" else REFUND,
        transaction_id,
        description or DEFAULT_DESCRIPTIONS[kind],
        posted,
        [
            ("ORDER_ID", order_id),
            ("REFUND_ID", refund_id),
            ("FINANCIAL_EVENT_GROUP_ID", group_id),
        ],
        items,
        all_entries,
        maturity,
    )
    return StoredTransaction(
        transaction_id,
        posted,
        visible,
        body,
        order_id=order_id,
        group_id=group_id,
        marketplace_id=marketplace_id,
        network=network,
        maturity=maturity,
    )


# planted transactions ------------------------------------------------------------


def planted_transaction(raw, posted, now):
    """A transaction given as it is (any JSON), with what it can be found by."""
    body = copy.deepcopy(raw)
    data = body if isinstance(body, dict) else {}
    when = None
    if posted is not None:
        when = as_datetime(posted)
    else:
        try:
            when = parse_time(data.get("postedDate"))
        except (TypeError, ValueError):
            when = floor_seconds(now)
    identifiers = {}
    for entry in data.get("relatedIdentifiers") or ():
        if isinstance(entry, dict):
            identifiers.setdefault(
                entry.get("relatedIdentifierName"), entry.get("relatedIdentifierValue")
            )
    metadata = data.get("marketplaceDetails") or data.get("sellingPartnerMetadata")
    if not isinstance(metadata, dict):
        metadata = {}
    marketplace_id = metadata.get("marketplaceId")
    transaction_id = data.get("transactionId")
    if not isinstance(transaction_id, str):
        transaction_id = opaque_id("planted", repr(raw), when.isoformat())
    return StoredTransaction(
        transaction_id,
        when,
        when,
        body,
        order_id=identifiers.get("ORDER_ID"),
        group_id=identifiers.get("FINANCIAL_EVENT_GROUP_ID"),
        marketplace_id=marketplace_id,
        raw=True,
    )
