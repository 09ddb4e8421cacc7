"""The order generator: determinism, a realistic mix, and money exact to the cent."""

import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sandbox import generate_orders, supported_marketplaces
from sandbox.catalogue import PRODUCTS
from sandbox.marketplaces import CODE_TO_ID, MARKETPLACES
from sp_api.api import OrdersV20260101

VAT = {
    "DE": "0.19",
    "FR": "0.20",
    "IT": "0.22",
    "ES": "0.21",
    "GB": "0.20",
    "NL": "0.21",
    "SE": "0.25",
    "PL": "0.23",
    "BE": "0.21",
    "IE": "0.23",
}
ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")


@pytest.fixture(scope="module")
def orders():
    return generate_orders(11, 1200, marketplaces=supported_marketplaces())


@pytest.fixture(scope="module")
def default_orders():
    return generate_orders(3, 600)


def amount(money):
    return Decimal(money["amount"])


def breakdown(proceeds, kind):
    return next((b for b in proceeds["breakdowns"] if b["type"] == kind), None)


def subtotal(proceeds, kind):
    found = breakdown(proceeds, kind)
    return amount(found["subtotal"]) if found else Decimal(0)


def currency_of(order):
    return MARKETPLACES[order["salesChannel"]["marketplaceId"]]["currency"]


def test_deterministic_for_a_seed():
    assert generate_orders(5, 50) == generate_orders(5, 50)
    assert generate_orders(5, 50) != generate_orders(6, 50)
    assert generate_orders(5, 20) == generate_orders(5, 50)[:20]


def test_identifiers(orders):
    ids = [order["orderId"] for order in orders]
    assert len(set(ids)) == len(ids)
    assert all(ORDER_ID.match(order_id) for order_id in ids)
    item_ids = [item["orderItemId"] for order in orders for item in order["orderItems"]]
    assert len(set(item_ids)) == len(item_ids)
    assert all(re.fullmatch(r"\d{14}", item_id) for item_id in item_ids)


def test_times_stay_in_the_window():
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    end = datetime(2025, 3, 8, tzinfo=timezone.utc)
    for order in generate_orders(2, 300, start=start, end="2025-03-08T00:00:00Z"):
        created = datetime.fromisoformat(order["createdTime"].replace("Z", "+00:00"))
        updated = datetime.fromisoformat(
            order["lastUpdatedTime"].replace("Z", "+00:00")
        )
        assert start <= created <= updated <= end
        for package in order.get("packages", []):
            assert (
                order["createdTime"] <= package["shipTime"] <= order["lastUpdatedTime"]
            )


def test_status_mix(orders):
    mix = Counter(
        (o["fulfillment"]["fulfilledBy"], o["fulfillment"]["fulfillmentStatus"])
        for o in orders
    )
    fba = {status: n for (by, status), n in mix.items() if by == "AMAZON"}
    fbm = {status: n for (by, status), n in mix.items() if by == "MERCHANT"}
    assert set(fba) == {"SHIPPED", "CANCELLED", "PENDING", "UNSHIPPED"}
    assert fba["SHIPPED"] > 0.7 * sum(fba.values())
    assert set(fbm) == {
        "UNSHIPPED",
        "PARTIALLY_SHIPPED",
        "SHIPPED",
        "CANCELLED",
        "PENDING",
    }
    assert 0.4 < sum(fba.values()) / len(orders) < 0.7


def test_marketplaces_and_currencies(default_orders, orders):
    currencies = Counter(currency_of(order) for order in default_orders)
    assert {"USD", "EUR", "GBP", "CAD", "JPY"} <= set(currencies)
    eur = {
        o["salesChannel"]["marketplaceId"]
        for o in default_orders
        if currency_of(o) == "EUR"
    }
    assert eur == {CODE_TO_ID[c] for c in ("DE", "FR", "IT", "ES")}
    assert {o["salesChannel"]["marketplaceId"] for o in orders} == set(
        supported_marketplaces()
    )
    for order in orders:
        channel = order["salesChannel"]
        assert channel["channelName"] == "AMAZON"
        assert (
            channel["marketplaceName"] == MARKETPLACES[channel["marketplaceId"]]["name"]
        )


def test_amount_format_follows_the_currency(orders):
    def moneys(value):
        if isinstance(value, dict):
            if set(value) == {"amount", "currencyCode"}:
                yield value
            for inner in value.values():
                yield from moneys(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from moneys(inner)

    for order in orders:
        currency = currency_of(order)
        pattern = r"-?\d+" if currency == "JPY" else r"-?\d+\.\d{2}"
        for money in moneys(order):
            assert money["currencyCode"] == currency
            assert re.fullmatch(pattern, money["amount"]), money


def test_items_and_catalogue(orders):
    assert 55 <= len(PRODUCTS) <= 65
    skus = {p["sku"] for p in PRODUCTS}
    assert any(" " in sku for sku in skus)
    assert any("/" in sku for sku in skus)
    assert any(not sku.isascii() for sku in skus)
    sold = defaultdict(set)
    for order in orders:
        assert 1 <= len(order["orderItems"]) <= 4
        for item in order["orderItems"]:
            assert 1 <= item["quantityOrdered"] <= 3 or (
                order["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
            )
            product = item["product"]
            assert re.fullmatch(r"B0[0-9A-Z]{8}", product["asin"])
            assert product["title"]
            sold[product["sellerSku"]].add(order["fulfillment"]["fulfilledBy"])
            unit = amount(product["price"]["unitPrice"])
            assert subtotal(item["proceeds"], "ITEM") == unit * item["quantityOrdered"]
    assert any(channels == {"AMAZON", "MERCHANT"} for channels in sold.values())
    assert len(sold) >= 50


def _check_item_money(order, item):
    marketplace = MARKETPLACES[order["salesChannel"]["marketplaceId"]]
    proceeds = item["proceeds"]
    total = amount(proceeds["proceedsTotal"])
    parts = {
        kind: subtotal(proceeds, kind)
        for kind in ("ITEM", "SHIPPING", "GIFT_WRAP", "DISCOUNT", "TAX")
    }
    tax = breakdown(proceeds, "TAX")
    assert parts["TAX"] == sum(amount(d["value"]) for d in tax["detailedBreakdowns"])
    discount = breakdown(proceeds, "DISCOUNT")
    if discount:
        assert parts["DISCOUNT"] < 0
        assert parts["DISCOUNT"] == sum(
            amount(d["value"]) for d in discount["detailedBreakdowns"]
        )
        assert item["promotion"]["breakdowns"][0]["promotionId"]
    else:
        assert "promotion" not in item
    gift = item.get("fulfillment", {}).get("packing", {}).get("giftOption")
    assert bool(gift) == bool(parts["GIFT_WRAP"])
    without_tax = (
        parts["ITEM"] + parts["SHIPPING"] + parts["GIFT_WRAP"] + parts["DISCOUNT"]
    )
    if marketplace["tax_inclusive"]:
        assert total == without_tax
        rate = Decimal(VAT[marketplace["countryCode"]])
        discounts = {
            d["subtype"]: amount(d["value"])
            for d in (discount or {}).get("detailedBreakdowns", [])
        }
        item_vat = next(
            amount(d["value"])
            for d in tax["detailedBreakdowns"]
            if d["subtype"] == "ITEM"
        )
        gross = parts["ITEM"] + discounts.get("ITEM", 0)
        expected = (gross * rate / (1 + rate)).quantize(
            Decimal(1).scaleb(-2), rounding=ROUND_HALF_UP
        )
        assert item_vat == expected
    else:
        assert total == without_tax + parts["TAX"]
        if without_tax:
            rate = parts["TAX"] / without_tax
            limit = (
                Decimal("0.101")
                if marketplace["countryCode"] == "US"
                else Decimal("0.165")
            )
            assert 0 <= rate <= limit
    return total


def test_money_is_exact_per_item_and_order(orders):
    for order in orders:
        currency = currency_of(order)
        totals = [_check_item_money(order, item) for item in order["orderItems"]]
        proceeds = order["proceeds"]
        assert amount(proceeds["grandTotal"]) == sum(totals)
        assert proceeds["grandTotal"]["currencyCode"] == currency
        for entry in proceeds["breakdowns"]:
            assert amount(entry["subtotal"]) == sum(
                subtotal(item["proceeds"], entry["type"])
                for item in order["orderItems"]
            )
        payment = order["payment"]["paymentExecutions"][0]["paymentAmount"]
        assert payment == proceeds["grandTotal"]


def test_tax_regimes(orders):
    seen = defaultdict(set)
    for order in orders:
        marketplace = MARKETPLACES[order["salesChannel"]["marketplaceId"]]
        seen[marketplace["tax_inclusive"]].add(marketplace["countryCode"])
        if marketplace["countryCode"] == "JP":
            assert all("expense" in item for item in order["orderItems"])
    assert {"US", "CA", "MX", "JP", "AU"} <= seen[False]
    assert {"DE", "FR", "IT", "ES", "GB"} <= seen[True]


def test_buyers_and_recipients(orders):
    addresses = Counter()
    limited = no_recipient = business = 0
    for order in orders:
        buyer = order["buyer"]
        fba = order["fulfillment"]["fulfilledBy"] == "AMAZON"
        domain = MARKETPLACES[order["salesChannel"]["marketplaceId"]]["domain"]
        if fba:
            assert "buyerEmail" not in buyer
        else:
            assert re.fullmatch(
                r"[a-z0-9]{12,16}@" + re.escape(domain.replace("www.", "marketplace.")),
                buyer["buyerEmail"],
            )
        business += "buyerCompanyName" in buyer
        recipient = order.get("recipient")
        if recipient is None:
            no_recipient += 1
            continue
        address = recipient["deliveryAddress"]
        if fba:
            assert "phone" not in address
        if set(address) == {"city", "postalCode", "countryCode"}:
            assert fba
            limited += 1
            continue
        assert (
            address["countryCode"]
            == MARKETPLACES[order["salesChannel"]["marketplaceId"]]["countryCode"]
        )
        addresses[
            (address["name"], address["addressLine1"], address["postalCode"])
        ] += 1
    assert limited and no_recipient and business
    assert sum(1 for count in addresses.values() if count > 1) >= 20


def test_fulfillment_data_follows_the_status(orders):
    for order in orders:
        status = order["fulfillment"]["fulfillmentStatus"]
        merchant = order["fulfillment"]["fulfilledBy"] == "MERCHANT"
        items = order["orderItems"]
        fulfilled = {
            i["orderItemId"]: i["fulfillment"]["quantityFulfilled"] for i in items
        }
        packed = Counter()
        for package in order.get("packages", []):
            assert package["carrier"] and package["trackingNumber"]
            for entry in package["packageItems"]:
                packed[entry["orderItemId"]] += entry["quantity"]
        if not merchant:
            assert "packages" not in order
        if status == "CANCELLED":
            assert all(
                "cancellation" in i and fulfilled[i["orderItemId"]] == 0 for i in items
            )
            assert "packages" not in order
            continue
        assert all("cancellation" not in i for i in items)
        for item in items:
            done = item["fulfillment"]
            assert (
                done["quantityFulfilled"] + done["quantityUnfulfilled"]
                == (item["quantityOrdered"])
            )
        total = sum(i["quantityOrdered"] for i in items)
        shipped = sum(fulfilled.values())
        if status == "SHIPPED":
            assert shipped == total
        elif status == "PARTIALLY_SHIPPED":
            assert 0 < shipped < total
        else:
            assert shipped == 0
        if merchant:
            assert dict(packed) == {k: v for k, v in fulfilled.items() if v}


def test_unsupported_marketplace_is_refused():
    with pytest.raises(ValueError):
        generate_orders(1, 5, marketplaces=["A2VIGQ35RCS4UG"])


def test_sums_exact_on_the_wire(sandbox, sp_client, search_all):
    stored = {o["orderId"]: o for o in sandbox.seed_orders(21, 200)}
    client = sp_client(OrdersV20260101)
    found, _ = search_all(
        client,
        createdAfter="2000-01-01T00:00:00Z",
        marketplaceIds=",".join(sandbox.state.seller().marketplaces),
        includedData="PROCEEDS,FULFILLMENT,PROMOTION",
    )
    assert len(found) == 200
    regimes = set()
    for order in found:
        assert order["proceeds"] == stored[order["orderId"]]["proceeds"]
        totals = [_check_item_money(order, item) for item in order["orderItems"]]
        assert amount(order["proceeds"]["grandTotal"]) == sum(totals)
        regimes.add(
            MARKETPLACES[order["salesChannel"]["marketplaceId"]]["tax_inclusive"]
        )
    assert regimes == {True, False}
