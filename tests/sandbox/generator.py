"""Deterministic generator of realistic Orders API 2026-01-01 orders.

generate_orders() returns orders in the full Order shape, with every data set
that applies to the order (buyer, recipient, proceeds, expense, promotion,
cancellation, fulfillment, packages, tax, payment, fulfillment orders); the
server strips what a request's includedData does not ask for.

Money follows the marketplace's tax regime:
- tax-exclusive (US, CA, MX, JP, AU): proceedsTotal = ITEM + SHIPPING +
  GIFT_WRAP + DISCOUNT + TAX, TAX computed on the discounted amounts;
- tax-inclusive (EU, UK): ITEM, SHIPPING, GIFT_WRAP and DISCOUNT include VAT,
  TAX is the VAT they contain, proceedsTotal = ITEM + SHIPPING + GIFT_WRAP +
  DISCOUNT.
"""

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .addresses import CARRIERS, COUNTRIES, WAREHOUSE_FOR_COUNTRY, WAREHOUSES
from .catalogue import (
    GIFT_WRAP_PRICES,
    PRICE_FACTORS,
    SHIPPING_PRICES,
    products_for,
    shelf_price,
)
from .marketplaces import MARKETPLACES, resolve_marketplace
from .money import money, parse_money, quantize
from .timeutil import as_datetime, format_time

DEFAULT_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
DEFAULT_END = datetime(2026, 1, 31, tzinfo=timezone.utc)

DEFAULT_MARKETPLACE_WEIGHTS = {
    "ATVPDKIKX0DER": 34,
    "A2EUQ1WTGCTBG2": 7,
    "A1F83G8C2ARO7P": 12,
    "A1PA6795UKMFR9": 16,
    "A13V1IB3VIYZZH": 9,
    "APJ6JRA9NG5V4": 7,
    "A1RKKUPIHCS9HS": 7,
    "A1VC38T7YXB528": 8,
}

FBA_STATUSES = [("SHIPPED", 80), ("CANCELLED", 8), ("PENDING", 6), ("UNSHIPPED", 6)]
FBM_STATUSES = [
    ("UNSHIPPED", 28),
    ("PARTIALLY_SHIPPED", 8),
    ("SHIPPED", 46),
    ("CANCELLED", 10),
    ("PENDING", 8),
]

ORDER_KEYS = [
    "orderId",
    "orderAliases",
    "createdTime",
    "lastUpdatedTime",
    "programs",
    "associatedOrders",
    "salesChannel",
    "buyer",
    "recipient",
    "proceeds",
    "payment",
    "tax",
    "fulfillment",
    "orderItems",
    "packages",
    "fulfillmentOrders",
]
ITEM_KEYS = [
    "orderItemId",
    "quantityOrdered",
    "measurement",
    "associatedOrderItems",
    "programs",
    "product",
    "proceeds",
    "expense",
    "promotion",
    "cancellation",
    "fulfillment",
    "tax",
]
BREAKDOWN_ORDER = [
    "ITEM",
    "SHIPPING",
    "GIFT_WRAP",
    "COD_FEE",
    "OTHER",
    "DISCOUNT",
    "TAX",
]

ORDER_ID_PREFIXES = {
    "NA": ["111", "112", "113", "114", "701", "702"],
    "EU": [
        "028",
        "171",
        "202",
        "203",
        "204",
        "205",
        "302",
        "303",
        "304",
        "305",
        "402",
        "403",
        "404",
        "405",
        "406",
        "407",
        "408",
    ],
    "FE": ["249", "250", "503"],
}

GIFT_MESSAGES = {
    "DE": "Alles Gute zum Geburtstag!",
    "FR": "Joyeux anniversaire !",
    "IT": "Buon compleanno!",
    "ES": "¡Feliz cumpleaños!",
    "JP": "お誕生日おめでとうございます",
    "NL": "Gefeliciteerd!",
    "SE": "Grattis på födelsedagen!",
    "PL": "Wszystkiego najlepszego!",
    "MX": "¡Feliz cumpleaños!",
}

BUYER_CANCEL_REASONS = [
    "Order placed by mistake",
    "Found a better price",
    "Delivery time too long",
    "Need to change shipping address",
]
MERCHANT_CANCEL_REASONS = [
    "NoInventory",
    "ShippingAddressUndeliverable",
    "CustomerExchange",
    "PricingError",
]
AMAZON_CANCEL_REASONS = ["PaymentNotAuthorized", "RiskAssessmentInformationNotValid"]

SERVICE_LEVELS_FBA = [
    ("STANDARD", 60),
    ("EXPEDITED", 20),
    ("NEXT_DAY", 12),
    ("SECOND_DAY", 8),
]
SERVICE_LEVELS_FBM = [("STANDARD", 75), ("EXPEDITED", 15), ("FREE_ECONOMY", 10)]

PENDING_STATUSES = ("PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "UNFULFILLABLE")


def supported_marketplaces():
    """Marketplace ids the generator has addresses, prices and taxes for."""
    return [
        mid
        for mid, data in MARKETPLACES.items()
        if data["countryCode"] in COUNTRIES and data["currency"] in PRICE_FACTORS
    ]


def generate_orders(
    seed, count, marketplaces=None, start=None, end=None, fba_share=0.55
):
    """Return `count` orders, deterministic for `seed`.

    marketplaces: ids or short codes (default: a US/CA/UK/DE/FR/IT/ES/JP mix);
    start/end: datetimes or ISO strings bounding createdTime and
    lastUpdatedTime (default: January 2026).
    """
    generator = _OrderGenerator(seed, marketplaces, start, end, fba_share)
    return [generator.order() for _ in range(count)]


def fill_pattern(rng, pattern):
    """'#' becomes a digit, '@' an upper-case letter."""
    out = []
    for char in pattern:
        if char == "#":
            out.append(str(rng.randrange(10)))
        elif char == "@":
            out.append(chr(ord("A") + rng.randrange(26)))
        else:
            out.append(char)
    return "".join(out)


def _weighted(rng, pairs):
    values = [value for value, _ in pairs]
    weights = [weight for _, weight in pairs]
    return rng.choices(values, weights=weights)[0]


def _reordered(data, keys):
    ordered = {key: data[key] for key in keys if key in data}
    ordered.update({key: value for key, value in data.items() if key not in ordered})
    return ordered


class _OrderGenerator:
    def __init__(self, seed, marketplaces, start, end, fba_share):
        self.rng = random.Random(f"sandbox-orders:{seed}")
        self.start = as_datetime(start) if start is not None else DEFAULT_START
        self.end = as_datetime(end) if end is not None else DEFAULT_END
        if self.end < self.start:
            raise ValueError("end is before start")
        self.fba_share = fba_share
        self.weights = self._marketplace_weights(marketplaces)
        self.used_order_ids = set()
        self.used_item_ids = set()
        self.customers = {}
        self.alias_counter = 0

    @staticmethod
    def _marketplace_weights(marketplaces):
        if marketplaces is None:
            return list(DEFAULT_MARKETPLACE_WEIGHTS.items())
        supported = set(supported_marketplaces())
        weights = []
        for value in marketplaces:
            mid = resolve_marketplace(value)
            if mid not in supported:
                raise ValueError(f"the generator has no data for marketplace {value!r}")
            weights.append((mid, DEFAULT_MARKETPLACE_WEIGHTS.get(mid, 6)))
        if not weights:
            raise ValueError("no marketplace to generate orders for")
        return weights

    def _unique(self, used, make):
        while True:
            value = make()
            if value not in used:
                used.add(value)
                return value

    def _order_id(self, region):
        rng = self.rng
        return self._unique(
            self.used_order_ids,
            lambda: "-".join(
                (
                    rng.choice(ORDER_ID_PREFIXES[region]),
                    f"{rng.randrange(10**7):07d}",
                    f"{rng.randrange(10**7):07d}",
                )
            ),
        )

    def _item_id(self):
        rng = self.rng
        return self._unique(
            self.used_item_ids, lambda: f"{rng.randrange(10**13, 10**14):014d}"
        )

    # customers -----------------------------------------------------------

    def _customer(self, mid):
        pool = self.customers.setdefault(mid, [])
        if pool and self.rng.random() < 0.3:
            return self.rng.choice(pool)
        customer = self._new_customer(mid)
        pool.append(customer)
        return customer

    def _new_customer(self, mid):
        rng = self.rng
        marketplace = MARKETPLACES[mid]
        country = marketplace["countryCode"]
        data = COUNTRIES[country]
        first = rng.choice(data["first_names"])
        last = rng.choice(data["last_names"])
        name = data.get("name_format", "{first} {last}").format(first=first, last=last)
        business = rng.random() < 0.1
        company = rng.choice(data["companies"]) if business else None
        city, state, postal, place_rate = rng.choice(data["places"])
        line1 = data["line1"].format(
            number=rng.randint(1, 240),
            street=rng.choice(data["streets"]),
            chome=rng.randint(1, 5),
            go=rng.randint(1, 20),
        )
        address = {"name": name}
        if company:
            address["companyName"] = company
        address["addressLine1"] = line1
        if rng.random() < 0.25:
            address["addressLine2"] = rng.choice(data["line2"])
        address.update(
            {
                "city": city,
                "stateOrRegion": state,
                "postalCode": postal,
                "countryCode": country,
                "addressType": "COMMERCIAL" if business else "RESIDENTIAL",
            }
        )
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(12, 16)))
        email_domain = marketplace["domain"].replace("www.", "marketplace.", 1)
        tax_id = None
        if business and data["tax_id_prefix"]:
            tax_id = data["tax_id_prefix"] + fill_pattern(rng, "#########")
        return {
            "name": name,
            "company": company,
            "email": f"{local}@{email_domain}",
            "address": address,
            "phone": fill_pattern(rng, data["phone"]),
            "tax_rate": Decimal(
                place_rate if place_rate is not None else data["tax_rate"]
            ),
            "tax_id": tax_id,
            "purchase_order": business and rng.random() < 0.5,
        }

    # orders --------------------------------------------------------------

    def order(self):
        rng = self.rng
        mid = _weighted(rng, self.weights)
        marketplace = MARKETPLACES[mid]
        country = marketplace["countryCode"]
        currency = marketplace["currency"]
        fba = rng.random() < self.fba_share
        status = _weighted(rng, FBA_STATUSES if fba else FBM_STATUSES)
        customer = self._customer(mid)
        span = (self.end - self.start).total_seconds()
        created = self.start + timedelta(seconds=int(rng.random() * span))
        if created > self.end:
            created = self.end

        order = {"orderId": self._order_id(marketplace["region"])}
        if not fba and rng.random() < 0.1:
            self.alias_counter += 1
            order["orderAliases"] = [
                {
                    "aliasId": f"SO-{created.year}-{self.alias_counter:06d}",
                    "aliasType": "SELLER_ORDER_ID",
                }
            ]
        order["createdTime"] = format_time(created)
        programs = []
        if fba and rng.random() < 0.7:
            programs.append("PRIME")
        if customer["company"]:
            programs.append("AMAZON_BUSINESS")
        easy_ship = not fba and country in ("JP", "MX") and rng.random() < 0.2
        if easy_ship:
            programs.append("AMAZON_EASY_SHIP")
        if programs:
            order["programs"] = programs
        order["salesChannel"] = {
            "channelName": "AMAZON",
            "marketplaceId": mid,
            "marketplaceName": marketplace["name"],
        }
        order["buyer"] = self._buyer(customer, fba)
        recipient = self._recipient(customer, fba)
        if recipient is not None:
            order["recipient"] = recipient

        items = self._items(order, marketplace, customer, fba, status)
        order["orderItems"] = items
        order["proceeds"] = aggregate_proceeds(items, currency)
        order["payment"] = {
            "paymentExecutions": [
                {
                    "paymentMethod": self._payment_method(country, customer),
                    "paymentAmount": dict(order["proceeds"]["grandTotal"]),
                }
            ]
        }
        if customer["tax_id"]:
            order["tax"] = {
                "taxRegistrations": [
                    {
                        "entityType": "BUYER",
                        "legalName": customer["company"],
                        "taxRegistrationType": "VAT",
                        "taxRegistrationNumber": customer["tax_id"],
                    }
                ]
            }
        order["fulfillment"] = self._fulfillment(created, fba)
        if easy_ship:
            order["fulfillmentOrders"] = [
                {"fulfillmentOrderId": fill_pattern(rng, "@#@@#@#@@#")}
            ]

        last = self._status_time(created, status, fba)
        shipped = None
        if status == "PARTIALLY_SHIPPED":
            shipped = self._partial_split(items)
        set_status(
            order,
            status,
            last,
            rng,
            shipped=shipped,
            cancelled_by=self._canceller(fba) if status == "CANCELLED" else None,
        )
        order["lastUpdatedTime"] = format_time(last)
        return _reordered(order, ORDER_KEYS)

    def _buyer(self, customer, fba):
        buyer = {"buyerName": customer["name"]}
        if not fba:
            buyer["buyerEmail"] = customer["email"]
        if customer["company"]:
            buyer["buyerCompanyName"] = customer["company"]
            if customer["purchase_order"]:
                buyer["buyerPurchaseOrderNumber"] = fill_pattern(
                    self.rng, "PO-####-###"
                )
        return buyer

    def _recipient(self, customer, fba):
        rng = self.rng
        roll = rng.random()
        if roll < 0.03:
            return None
        address = dict(customer["address"])
        if fba and roll < 0.18:
            address = {
                key: address[key] for key in ("city", "postalCode", "countryCode")
            }
            return {"deliveryAddress": address}
        if not fba and rng.random() < 0.5:
            address = _reordered(
                dict(address, phone=customer["phone"]),
                [
                    "name",
                    "companyName",
                    "addressLine1",
                    "addressLine2",
                    "city",
                    "stateOrRegion",
                    "postalCode",
                    "countryCode",
                    "phone",
                ],
            )
        recipient = {"deliveryAddress": address}
        if (
            not fba
            and address.get("addressType") == "RESIDENTIAL"
            and rng.random() < 0.05
        ):
            recipient["deliveryPreference"] = {
                "dropOffLocation": "Front door",
                "addressInstruction": "Ring the bell twice",
            }
        return recipient

    def _payment_method(self, country, customer):
        rng = self.rng
        if customer["company"] and rng.random() < 0.5:
            return "Invoice"
        if country == "JP":
            return _weighted(
                rng,
                [("CreditCard", 70), ("ConvenienceStore", 15), ("CashOnDelivery", 15)],
            )
        return "CreditCard"

    def _fulfillment(self, created, fba):
        rng = self.rng
        day = created.replace(hour=0, minute=0, second=0)
        return {
            "fulfillmentStatus": "UNSHIPPED",
            "fulfilledBy": "AMAZON" if fba else "MERCHANT",
            "fulfillmentServiceLevel": _weighted(
                rng, SERVICE_LEVELS_FBA if fba else SERVICE_LEVELS_FBM
            ),
            "shipByWindow": {
                "earliestDateTime": format_time(created),
                "latestDateTime": format_time(
                    day + timedelta(days=2, hours=23, minutes=59, seconds=59)
                ),
            },
            "deliverByWindow": {
                "earliestDateTime": format_time(day + timedelta(days=3)),
                "latestDateTime": format_time(
                    day
                    + timedelta(
                        days=rng.randint(5, 8), hours=23, minutes=59, seconds=59
                    )
                ),
            },
        }

    def _status_time(self, created, status, fba):
        rng = self.rng
        if status == "PENDING":
            delay = rng.uniform(0, 1800)
        elif status == "UNSHIPPED":
            delay = rng.uniform(60, 3600)
        elif status == "CANCELLED":
            delay = rng.uniform(600, 36 * 3600)
        elif fba:
            delay = rng.uniform(2 * 3600, 30 * 3600)
        else:
            delay = rng.uniform(3 * 3600, 60 * 3600)
        return min(self.end, created + timedelta(seconds=int(delay)))

    def _canceller(self, fba):
        if fba:
            return _weighted(self.rng, [("BUYER", 70), ("AMAZON", 30)])
        return _weighted(self.rng, [("BUYER", 55), ("MERCHANT", 35), ("AMAZON", 10)])

    def _partial_split(self, items):
        """Units shipped per item: at least one shipped, at least one not."""
        rng = self.rng
        shipped = {}
        if len(items) == 1:
            item = items[0]
            shipped[item["orderItemId"]] = rng.randint(1, item["quantityOrdered"] - 1)
            return shipped
        for item in items:
            shipped[item["orderItemId"]] = rng.randint(0, item["quantityOrdered"])
        first, last = items[0], items[-1]
        if all(shipped[i["orderItemId"]] == i["quantityOrdered"] for i in items):
            shipped[last["orderItemId"]] = 0
        if all(value == 0 for value in shipped.values()):
            shipped[first["orderItemId"]] = first["quantityOrdered"]
        return shipped

    # items and money -----------------------------------------------------

    def _items(self, order, marketplace, customer, fba, status):
        rng = self.rng
        currency = marketplace["currency"]
        country = marketplace["countryCode"]
        candidates = products_for("FBA" if fba else "FBM")
        count = _weighted(rng, [(1, 60), (2, 25), (3, 10), (4, 5)])
        products = rng.sample(candidates, count)
        quantities = [_weighted(rng, [(1, 72), (2, 20), (3, 8)]) for _ in products]
        if status == "PARTIALLY_SHIPPED" and sum(quantities) < 2:
            quantities[0] = 2
        prime = "PRIME" in order.get("programs", ())
        items = []
        for product, quantity in zip(products, quantities, strict=True):
            item = {"orderItemId": self._item_id(), "quantityOrdered": quantity}
            unit = shelf_price(product, currency)
            used = rng.random() < 0.03
            item["product"] = {
                "asin": product["asin"],
                "title": product["title"],
                "sellerSku": product["sku"],
                "condition": (
                    {
                        "conditionType": "USED",
                        "conditionSubtype": "VERY_GOOD",
                        "conditionNote": "Open box, never used",
                    }
                    if used
                    else {"conditionType": "NEW", "conditionSubtype": "NEW"}
                ),
                "price": {"unitPrice": money(unit, currency)},
            }
            if customer["company"] and rng.random() < 0.5:
                item["product"]["price"]["priceDesignation"] = "BUSINESS_PRICE"
            gift = not customer["company"] and rng.random() < 0.06
            shipping = Decimal(0)
            if not (fba and prime) and rng.random() < (0.3 if fba else 0.6):
                shipping = Decimal(rng.choice(SHIPPING_PRICES[currency][1:]))
            gift_wrap = (
                Decimal(GIFT_WRAP_PRICES[currency]) * quantity if gift else Decimal(0)
            )
            item_total = unit * quantity
            discount_item = Decimal(0)
            discount_shipping = Decimal(0)
            promotion_id = None
            if rng.random() < 0.15:
                percent = Decimal(rng.choice([5, 10, 15, 20]))
                discount_item = quantize(item_total * percent / 100, currency)
                if shipping and rng.random() < 0.3:
                    discount_shipping = shipping
                promotion_id = fill_pattern(rng, "PROMO-@@##@@@#@#@")
            elif shipping and rng.random() < 0.05:
                discount_shipping = shipping
                promotion_id = f"{marketplace['code']} Core Free Shipping"
            item["proceeds"] = item_proceeds(
                currency,
                marketplace["tax_inclusive"],
                customer["tax_rate"],
                item_total,
                shipping,
                gift_wrap,
                discount_item,
                discount_shipping,
            )
            if country == "JP":
                points = int(item_total / 100)
                item["expense"] = {
                    "pointsCost": {
                        "pointsGranted": {
                            "pointsNumber": points,
                            "pointsMonetaryValue": money(points, currency),
                        }
                    }
                }
            if promotion_id:
                item["promotion"] = {"breakdowns": [{"promotionId": promotion_id}]}
            item["fulfillment"] = {
                "quantityFulfilled": 0,
                "quantityUnfulfilled": quantity,
            }
            if gift:
                item["fulfillment"]["packing"] = {
                    "giftOption": {
                        "giftMessage": GIFT_MESSAGES.get(country, "Happy birthday!"),
                        "giftWrapLevel": "Classic",
                    }
                }
            if country == "US" and customer["tax_rate"] > 0:
                item["tax"] = {
                    "taxCollections": [
                        {
                            "model": "MARKETPLACE_FACILITATOR",
                            "responsibleParty": "Amazon Services, Inc.",
                        }
                    ]
                }
            items.append(item)
        return items


def item_proceeds(
    currency,
    tax_inclusive,
    rate,
    item_total,
    shipping,
    gift_wrap,
    discount_item,
    discount_shipping,
):
    """An item's proceeds (breakdowns and total) with exact currency rounding."""

    def tax_of(amount):
        if tax_inclusive:
            return quantize(amount * rate / (1 + rate), currency)
        return quantize(amount * rate, currency)

    tax_parts = [("ITEM", tax_of(item_total - discount_item))]
    if shipping:
        tax_parts.append(("SHIPPING", tax_of(shipping - discount_shipping)))
    if gift_wrap:
        tax_parts.append(("GIFT_WRAP", tax_of(gift_wrap)))
    tax = sum((amount for _, amount in tax_parts), Decimal(0))
    discount = discount_item + discount_shipping

    breakdowns = [{"type": "ITEM", "subtotal": money(item_total, currency)}]
    if shipping:
        breakdowns.append({"type": "SHIPPING", "subtotal": money(shipping, currency)})
    if gift_wrap:
        breakdowns.append({"type": "GIFT_WRAP", "subtotal": money(gift_wrap, currency)})
    if discount:
        details = []
        if discount_item:
            details.append(
                {"subtype": "ITEM", "value": money(-discount_item, currency)}
            )
        if discount_shipping:
            details.append(
                {"subtype": "SHIPPING", "value": money(-discount_shipping, currency)}
            )
        breakdowns.append(
            {
                "type": "DISCOUNT",
                "subtotal": money(-discount, currency),
                "detailedBreakdowns": details,
            }
        )
    breakdowns.append(
        {
            "type": "TAX",
            "subtotal": money(tax, currency),
            "detailedBreakdowns": [
                {"subtype": subtype, "value": money(amount, currency)}
                for subtype, amount in tax_parts
            ],
        }
    )
    total = item_total + shipping + gift_wrap - discount
    if not tax_inclusive:
        total += tax
    return {"proceedsTotal": money(total, currency), "breakdowns": breakdowns}


def aggregate_proceeds(items, currency):
    """Order proceeds: grand total of the items, breakdowns summed by type."""
    sums = {}
    total = Decimal(0)
    for item in items:
        proceeds = item.get("proceeds") or {}
        total += parse_money(proceeds["proceedsTotal"])
        for breakdown in proceeds.get("breakdowns", []):
            kind = breakdown["type"]
            sums[kind] = sums.get(kind, Decimal(0)) + parse_money(breakdown["subtotal"])
    kinds = sorted(
        sums, key=lambda k: BREAKDOWN_ORDER.index(k) if k in BREAKDOWN_ORDER else 99
    )
    return {
        "grandTotal": money(total, currency),
        "breakdowns": [
            {"type": kind, "subtotal": money(sums[kind], currency)} for kind in kinds
        ],
    }


def set_status(
    order,
    status,
    when,
    rng,
    shipped=None,
    cancelled_by=None,
    cancel_reason=None,
    carrier=None,
    tracking_number=None,
):
    """Move an order to a fulfillment status, keeping items and packages consistent.

    shipped: for PARTIALLY_SHIPPED, units shipped per orderItemId (default:
    one unit of the first item). A shipment of a merchant-fulfilled order adds
    a package for the units it ships.
    """
    fulfillment = order.setdefault("fulfillment", {})
    fulfillment["fulfillmentStatus"] = status
    merchant = fulfillment.get("fulfilledBy") == "MERCHANT"
    items = order.get("orderItems", [])
    when_text = format_time(when)

    if status in PENDING_STATUSES:
        for item in items:
            item.pop("cancellation", None)
            _set_quantities(item, 0)
        order.pop("packages", None)
    elif status in ("SHIPPED", "PARTIALLY_SHIPPED"):
        if status == "SHIPPED":
            target = {item["orderItemId"]: item["quantityOrdered"] for item in items}
        else:
            target = dict(shipped or {})
            if not target and items:
                target[items[0]["orderItemId"]] = 1
        newly = []
        for item in items:
            item.pop("cancellation", None)
            before = item.get("fulfillment", {}).get("quantityFulfilled", 0)
            after = max(
                before, min(item["quantityOrdered"], target.get(item["orderItemId"], 0))
            )
            _set_quantities(item, after)
            if after > before:
                newly.append(
                    {"orderItemId": item["orderItemId"], "quantity": after - before}
                )
        if merchant and newly:
            _add_package(order, newly, when_text, rng, carrier, tracking_number)
    elif status == "CANCELLED":
        cancelled_by = cancelled_by or "BUYER"
        cancellation = {}
        if cancelled_by == "BUYER":
            request_reason = rng.choice(BUYER_CANCEL_REASONS)
            cancellation["cancellationRequest"] = {
                "requester": "BUYER",
                "cancelReason": request_reason,
            }
            reason = cancel_reason or "BuyerCanceled"
        elif cancelled_by == "MERCHANT":
            reason = cancel_reason or rng.choice(MERCHANT_CANCEL_REASONS)
        else:
            reason = cancel_reason or rng.choice(AMAZON_CANCEL_REASONS)
        cancellation["cancellationExecution"] = {
            "cancelledBy": cancelled_by,
            "cancelReason": reason,
        }
        for item in items:
            item["cancellation"] = {
                key: dict(value) for key, value in cancellation.items()
            }
            _set_quantities(item, 0, remaining=0)
        order.pop("packages", None)
    for index, item in enumerate(items):
        items[index] = _reordered(item, ITEM_KEYS)
    return order


def _set_quantities(item, fulfilled, remaining=None):
    fulfillment = item.setdefault("fulfillment", {})
    fulfillment["quantityFulfilled"] = fulfilled
    fulfillment["quantityUnfulfilled"] = (
        item["quantityOrdered"] - fulfilled if remaining is None else remaining
    )
    item["fulfillment"] = _reordered(
        fulfillment, ["quantityFulfilled", "quantityUnfulfilled"]
    )


def _add_package(order, package_items, when_text, rng, carrier, tracking_number):
    country = order.get("salesChannel", {}).get("marketplaceId")
    country = MARKETPLACES.get(country, {}).get("countryCode", "US")
    options = CARRIERS.get(country, CARRIERS["US"])
    name, service, pattern = rng.choice(options)
    if carrier and carrier != name:
        name, service = carrier, "Standard"
    packages = order.setdefault("packages", [])
    packages.append(
        {
            "packageReferenceId": next_package_reference(packages),
            "createdTime": when_text,
            "packageStatus": {"status": "SHIPPED"},
            "carrier": name,
            "shipTime": when_text,
            "shippingService": service,
            "trackingNumber": tracking_number or fill_pattern(rng, pattern),
            "shipFromAddress": ship_from_address(order),
            "packageItems": package_items,
        }
    )
    order["packages"] = packages


def next_package_reference(packages):
    """A packageReferenceId above every numeric one the packages use."""
    references = [str(package.get("packageReferenceId", "")) for package in packages]
    numbers = [int(ref) for ref in references if ref.isascii() and ref.isdigit()]
    return str(max(numbers, default=0) + 1)


def ship_from_address(order):
    """The seller's warehouse for the order's marketplace."""
    marketplace = order.get("salesChannel", {}).get("marketplaceId")
    country = MARKETPLACES.get(marketplace, {}).get("countryCode", "US")
    return dict(WAREHOUSES[WAREHOUSE_FOR_COUNTRY.get(country, "US")])


def set_shipped_units(order, shipped):
    """Set each item's fulfilled units (shipped: units per orderItemId) and the
    order's status: SHIPPED when every unit is shipped, PARTIALLY_SHIPPED when
    some are, UNSHIPPED when none is. Packages are left as they are.
    """
    items = order.get("orderItems", [])
    for index, item in enumerate(items):
        _set_quantities(item, shipped.get(item["orderItemId"], 0))
        items[index] = _reordered(item, ITEM_KEYS)
    if items and all(
        shipped.get(item["orderItemId"], 0) >= item["quantityOrdered"] for item in items
    ):
        status = "SHIPPED"
    elif any(shipped.get(item["orderItemId"], 0) > 0 for item in items):
        status = "PARTIALLY_SHIPPED"
    else:
        status = "UNSHIPPED"
    order.setdefault("fulfillment", {})["fulfillmentStatus"] = status
    return order
