"""Finances 2024-06-19 listTransactions in the sandbox, through the real sp_api
client (FinancesV20240619.list_transactions)."""

import json
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4
from sandbox import SandboxServer
from sandbox.ledger import REFUND_COMMISSION_RATE
from sandbox.marketplaces import CODE_TO_ID, MARKETPLACES
from sandbox.ops.finances import PARAMETERS, PATH, RELATED_IDENTIFIERS, ROUTES
from sandbox.timeutil import ManualClock
from sp_api.api import FinancesV20240619, Orders
from sp_api.auth import access_token_client
from sp_api.base import (
    SellingApiBadRequestException,
    SellingApiRequestThrottledException,
    SellingApiTemporarilyUnavailableException,
)

LIST = "listTransactions"
START = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
US, DE = CODE_TO_ID["US"], CODE_TO_ID["DE"]
SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "finances_2024-06-19.json"
TAX_TYPES = {"OurPriceTax", "ShippingTax", "GiftwrapTax", "TaxDiscount"}
TAX_TYPES |= {"ShippingTaxDiscount"}
BUYER_TYPES = TAX_TYPES | {
    "OurPricePrincipal",
    "OurPriceDiscount",
    "ShippingPrincipal",
    "ShippingDiscount",
    "GiftwrapPrincipal",
}


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def amount(money):
    return Decimal(str(money["currencyAmount"]))


def order_money(money):
    return Decimal(money["amount"])


class Schema:
    def __init__(self):
        self.document = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
        uri = "urn:sp-api-schema:finances_2024-06-19.json"
        self.registry = Registry().with_resource(
            uri, DRAFT4.create_resource(self.document)
        )
        self.uri = uri

    def validator(self, definition):
        return Draft4Validator(
            {"$ref": f"{self.uri}#/definitions/{definition}"},
            registry=self.registry,
            format_checker=Draft4Validator.FORMAT_CHECKER,
        )

    def operation(self):
        return self.document["paths"][PATH]["get"]


def assert_valid(validator, instance):
    errors = [
        f"{'/'.join(map(str, e.path))}: {e.message[:200]}"
        for e in validator.iter_errors(instance)
    ]
    assert not errors, errors


@pytest.fixture(scope="module")
def schema():
    return Schema()


@pytest.fixture
def clock(sandbox):
    """The sandbox stands at START until a test moves it."""
    sandbox.clock = ManualClock(START)
    return sandbox.clock


@pytest.fixture
def roomy(sandbox, clock):
    """Quota enough for the tests that do not test it (the clock stands)."""
    sandbox.set_rate(LIST, 1, 500)
    return sandbox


@pytest.fixture
def client(sp_client):
    return sp_client(FinancesV20240619)


@pytest.fixture
def orders(roomy):
    """200 orders of the 30 days before START, their shipments all posted
    (three days later)."""
    seeded = roomy.seed_orders(11, 200)
    advance(roomy, 3 * 86400)
    return seeded


def advance(sandbox, seconds):
    """Move the clock; sp_api's cached access tokens (kept by the real time)
    would outlive the sandbox's, so they go."""
    sandbox.advance(seconds)
    access_token_client.cache.clear()


def list_all(client, **params):
    """(transactions, responses) of a listing, following nextToken."""
    found, responses = [], []
    while True:
        response = client.list_transactions(**params)
        responses.append(response)
        found.extend(response.payload["transactions"])
        if not response.next_token:
            return found, responses
        params["nextToken"] = response.next_token


def refused(client, **params):
    with pytest.raises(SellingApiBadRequestException) as caught:
        client.list_transactions(**params)
    return caught.value


def identifiers(transaction):
    return {
        entry["relatedIdentifierName"]: entry["relatedIdentifierValue"]
        for entry in transaction["relatedIdentifiers"]
    }


def leaves(nodes):
    """(type, amount) of the charge types of an item's breakdowns (a fee with
    Base and Tax parts counts as one)."""
    found = []
    for node in nodes:
        children = node.get("breakdowns") or []
        names = {child["breakdownType"] for child in children}
        if children and not names <= {"Base", "Tax"}:
            found += leaves(children)
        else:
            found.append((node["breakdownType"], amount(node["breakdownAmount"])))
    return found


def by_type(item):
    sums = {}
    for name, value in leaves(item["breakdowns"]):
        sums[name] = sums.get(name, Decimal(0)) + value
    return sums


def shipped_orders(orders, status="SHIPPED"):
    return [o for o in orders if o["fulfillment"]["fulfillmentStatus"] == status]


def pick(orders, by=None, market=None, items=1, units=1, status="SHIPPED", test=None):
    for order in shipped_orders(orders, status):
        fulfillment = order["fulfillment"]
        if by not in (None, fulfillment["fulfilledBy"]):
            continue
        if market not in (None, order["salesChannel"]["marketplaceId"]):
            continue
        if len(order["orderItems"]) < items:
            continue
        if max(i["quantityOrdered"] for i in order["orderItems"]) < units:
            continue
        if test is not None and not test(order):
            continue
        return order
    raise AssertionError(f"no {status} order by {by} in {market}")


def proceeds_types(item):
    return {b["type"] for b in item["proceeds"]["breakdowns"]}


def proceeds_of(item, kind, subtype=None):
    for breakdown in item["proceeds"]["breakdowns"]:
        if breakdown["type"] != kind:
            continue
        if subtype is None:
            return order_money(breakdown["subtotal"])
        for detail in breakdown.get("detailedBreakdowns") or ():
            if detail["subtype"] == subtype:
                return order_money(detail["value"])
    return Decimal(0)


def items_by_sku(transaction):
    return {item["contexts"][0]["sku"]: item for item in transaction["items"]}


def everything(client):
    return list_all(client, postedAfter=iso(START - timedelta(days=60)))[0]


# the route and the model -------------------------------------------------------


def test_route_follows_the_model(sandbox, schema):
    op = schema.operation()
    assert op["operationId"] == LIST
    [route] = ROUTES
    assert (route.method, route.pattern, route.operation) == ("GET", PATH, LIST)
    plan = op["x-usage-plan"]
    assert (route.rate, route.burst) == (plan["rate"], plan["burst"]) == (0.5, 10)
    assert tuple(p["name"] for p in op["parameters"]) == PARAMETERS
    enum = schema.document["definitions"]["RelatedIdentifier"]["properties"][
        "relatedIdentifierName"
    ]["enum"]
    assert tuple(enum) == RELATED_IDENTIFIERS
    assert LIST in sandbox.operations()


# shipments -------------------------------------------------------------------


def test_every_shipped_order_has_its_shipment(sandbox, orders, client, schema):
    transactions, responses = list_all(
        client, postedAfter=iso(START - timedelta(days=60))
    )
    response_validator = schema.validator("ListTransactionsResponse")
    for response in responses:
        assert_valid(response_validator, {"payload": response.payload})
        assert response.headers["x-amzn-RateLimit-Limit"] == "1000"
    shipped = shipped_orders(orders) + shipped_orders(orders, "PARTIALLY_SHIPPED")
    shipments = [t for t in transactions if t["transactionType"] == "Shipment"]
    assert len(shipments) == len(shipped) == len(transactions) > 100
    assert {identifiers(t)["ORDER_ID"] for t in shipments} == {
        o["orderId"] for o in shipped
    }
    assert len({t["transactionId"] for t in shipments}) == len(shipments)
    posted = [parse(t["postedDate"]) for t in transactions]
    assert posted == sorted(posted)

    # sp_api adds its marketplace under four names to every GET; the sandbox,
    # like Amazon, reads only marketplaceId and lists every marketplace.
    _, status, query = sandbox.calls[-1]
    assert status == 200
    assert query["MarketplaceId"] == query["marketplaceIds"] == US
    assert "marketplaceId" not in query
    assert len({t["marketplaceDetails"]["marketplaceId"] for t in shipments}) > 4


def test_a_shipment_holds_the_order_amounts(orders, client, schema):
    transactions = everything(client)
    by_order = {identifiers(t)["ORDER_ID"]: t for t in transactions}
    validator = schema.validator("Transaction")
    checked = set()
    for order in shipped_orders(orders):
        transaction = by_order[order["orderId"]]
        assert_valid(validator, transaction)
        marketplace = order["salesChannel"]["marketplaceId"]
        currency = MARKETPLACES[marketplace]["currency"]
        fba = order["fulfillment"]["fulfilledBy"] == "AMAZON"
        assert transaction["description"] == "Order Payment"
        assert transaction["totalAmount"]["currencyCode"] == currency
        assert transaction["marketplaceDetails"] == {
            "marketplaceId": marketplace,
            "marketplaceName": MARKETPLACES[marketplace]["name"],
        }
        assert transaction["sellingPartnerMetadata"]["marketplaceId"] == marketplace
        assert set(identifiers(transaction)) == {
            "ORDER_ID",
            "SHIPMENT_ID",
            "FINANCIAL_EVENT_GROUP_ID",
        }
        items = items_by_sku(transaction)
        assert len(items) == len(order["orderItems"])
        total = Decimal(0)
        for item in order["orderItems"]:
            shown = items[item["product"]["sellerSku"]]
            [context] = shown["contexts"]
            assert context["contextType"] == "ProductContext"
            assert context["quantityShipped"] == item["quantityOrdered"]
            assert context["asin"] == item["product"]["asin"]
            assert context["fulfillmentNetwork"] == ("AFN" if fba else "MFN")
            assert shown["relatedIdentifiers"] == [
                {
                    "itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                    "itemRelatedIdentifierValue": item["orderItemId"],
                }
            ]
            sums = by_type(shown)
            buyer = sum((v for k, v in sums.items() if k in BUYER_TYPES), Decimal(0))
            # What the buyer paid for the item, to the cent, and its tax.
            assert buyer == order_money(item["proceeds"]["proceedsTotal"])
            taxes = sum((v for k, v in sums.items() if k in TAX_TYPES), Decimal(0))
            assert taxes == proceeds_of(item, "TAX")
            assert sums["Commission"] < 0
            assert ("FBAPerUnitFulfillmentFee" in sums) == fba
            shipping = proceeds_of(item, "SHIPPING") + proceeds_of(
                item, "DISCOUNT", "SHIPPING"
            )
            if fba and shipping:
                assert sums["ShippingChargeback"] == -shipping
                checked.add("chargeback")
            if not MARKETPLACES[marketplace]["tax_inclusive"]:
                assert sums["OurPricePrincipal"] == proceeds_of(item, "ITEM")
            elif "DISCOUNT" in proceeds_types(item):
                checked.add("vat promotion")
                assert sums["OurPricePrincipal"] + sums["OurPriceTax"] == (
                    proceeds_of(item, "ITEM")
                )
            if item.get("tax"):
                checked.add("facilitator")
                withheld = sums.get("MarketplaceFacilitatorTax-Principal", 0)
                assert withheld == -proceeds_of(item, "TAX", "ITEM")
            item_total = amount(shown["totalAmount"])
            assert item_total == sum(sums.values(), Decimal(0))
            total += item_total
        assert amount(transaction["totalAmount"]) == total
        summary = {
            node["breakdownType"]: amount(node["breakdownAmount"])
            for node in transaction["breakdowns"]
        }
        assert sum(summary.values(), Decimal(0)) == total
        assert summary["Sales"] > 0 > summary["Expenses"]
    assert checked == {"chargeback", "vat promotion", "facilitator"}


def test_vat_marketplaces_show_the_principal_net_of_vat(orders, client):
    order = pick(
        orders,
        market=DE,
        test=lambda o: any("DISCOUNT" in proceeds_types(i) for i in o["orderItems"]),
    )
    [transaction] = list_all(
        client,
        postedAfter=iso(START - timedelta(days=60)),
        relatedIdentifierName="ORDER_ID",
        relatedIdentifierValue=order["orderId"],
    )[0]
    item = next(i for i in order["orderItems"] if "DISCOUNT" in proceeds_types(i))
    sums = by_type(items_by_sku(transaction)[item["product"]["sellerSku"]])
    gross = proceeds_of(item, "ITEM")
    off = proceeds_of(item, "DISCOUNT", "ITEM")
    assert sums["OurPricePrincipal"] + sums["OurPriceTax"] == gross
    assert sums["OurPriceDiscount"] + sums["TaxDiscount"] == off
    assert sums["OurPriceTax"] + sums["TaxDiscount"] == proceeds_of(item, "TAX", "ITEM")
    assert sums["OurPriceTax"] > 0 > sums["TaxDiscount"]
    # Amazon's fees carry their own VAT (Base and Tax).
    fees = next(
        node
        for node in items_by_sku(transaction)[item["product"]["sellerSku"]][
            "breakdowns"
        ]
        if node["breakdownType"] == "AmazonFees"
    )
    if order["fulfillment"]["fulfilledBy"] == "AMAZON":
        fba = next(
            n
            for n in fees["breakdowns"]
            if n["breakdownType"] == "FBAPerUnitFulfillmentFee"
        )
        base, tax = fba["breakdowns"]
        assert (base["breakdownType"], tax["breakdownType"]) == ("Base", "Tax")
        assert amount(base["breakdownAmount"]) + amount(tax["breakdownAmount"]) == (
            amount(fba["breakdownAmount"])
        )


def test_shipments_post_late_and_the_same_for_the_same_seed(
    sandbox, roomy, client, seller
):
    orders = sandbox.seed_orders(11, 200)
    shipped = {
        o["orderId"]: o
        for o in shipped_orders(orders)
        if o["fulfillment"]["fulfilledBy"] == "AMAZON"
    }
    posted = {
        identifiers(t)["ORDER_ID"]: parse(t["postedDate"])
        for t in sandbox.transactions_of()
    }
    lags = [posted[oid] - parse(o["lastUpdatedTime"]) for oid, o in shipped.items()]
    assert all(timedelta(0) <= lag < timedelta(hours=48) for lag in lags)
    assert max(lags) > timedelta(hours=24) and min(lags) < timedelta(hours=12)

    # Not yet posted: what ships shortly before now posts after it.
    listed, _ = list_all(client, postedAfter=iso(START - timedelta(days=60)))
    waiting = [
        o for o, moment in posted.items() if moment >= START - timedelta(minutes=2)
    ]
    assert waiting
    assert len(listed) == len(posted) - len(waiting)
    advance(sandbox, 48 * 3600 + 120)
    listed, _ = list_all(client, postedAfter=iso(START - timedelta(days=60)))
    assert len(listed) == len(posted)

    # The same seed, the same seller: the same postings.
    other = SandboxServer(settle_seconds=0, clock=ManualClock(START))
    other.add_seller(**seller)
    other.seed_orders(11, 200)
    assert [t["postedDate"] for t in other.transactions_of()] == [
        t["postedDate"] for t in sandbox.transactions_of()
    ]


def test_posting_lag_is_configurable(sandbox, roomy):
    sandbox.configure_finances(posting_lag=0)
    orders = sandbox.seed_orders(3, 60)
    for transaction in sandbox.transactions_of():
        order = next(
            o for o in orders if o["orderId"] == identifiers(transaction)["ORDER_ID"]
        )
        if order["fulfillment"]["fulfilledBy"] == "AMAZON":
            assert transaction["postedDate"] == order["lastUpdatedTime"]
        else:
            times = {p["shipTime"] for p in order["packages"]}
            assert transaction["postedDate"] in times


def test_ship_order_and_confirm_shipment_post_shipments(
    sandbox, roomy, client, sp_client
):
    sandbox.configure_finances(posting_lag=0)
    orders = sandbox.seed_orders(4, 300)
    unshipped = [
        o
        for o in orders
        if o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
        and o["fulfillment"]["fulfilledBy"] == "MERCHANT"
    ]
    first = unshipped[0]
    assert sandbox.transactions_of(order_id=first["orderId"]) == []
    sandbox.ship_order(first["orderId"])
    [shipment] = sandbox.transactions_of(order_id=first["orderId"])
    assert shipment["postedDate"] == iso(START)
    assert shipment["transactionType"] == "Shipment"

    # Two packages of one order: each posts its units; together they are
    # the order's amounts to the cent.
    order = next(
        o
        for o in unshipped[1:]
        if max(i["quantityOrdered"] for i in o["orderItems"]) >= 2
    )
    big = max(order["orderItems"], key=lambda i: i["quantityOrdered"])
    orders_client = sp_client(Orders)
    for reference, units in (("1", 1), ("2", big["quantityOrdered"] - 1)):
        items = [{"orderItemId": big["orderItemId"], "quantity": units}]
        if reference == "2":
            items += [
                {"orderItemId": i["orderItemId"], "quantity": i["quantityOrdered"]}
                for i in order["orderItems"]
                if i is not big
            ]
        orders_client.confirm_shipment(
            order["orderId"],
            marketplaceId=order["salesChannel"]["marketplaceId"],
            packageDetail={
                "packageReferenceId": reference,
                "carrierCode": "UPS",
                "trackingNumber": f"1Z{reference}",
                "shipDate": iso(START - timedelta(hours=5 - int(reference))),
                "orderItems": items,
            },
        )
    shipments = sandbox.transactions_of(order_id=order["orderId"])
    assert [t["postedDate"] for t in shipments] == [
        iso(START - timedelta(hours=4)),
        iso(START - timedelta(hours=3)),
    ]
    units = {}
    sums = {}
    for transaction in shipments:
        for item in transaction["items"]:
            sku = item["contexts"][0]["sku"]
            units[sku] = units.get(sku, 0) + item["contexts"][0]["quantityShipped"]
            for name, value in by_type(item).items():
                if name in BUYER_TYPES:
                    sums[sku] = sums.get(sku, Decimal(0)) + value
    for item in order["orderItems"]:
        sku = item["product"]["sellerSku"]
        assert units[sku] == item["quantityOrdered"]
        assert sums[sku] == order_money(item["proceeds"]["proceedsTotal"])
    # Re-sending package 1 edits it: no second posting.
    before = len(sandbox.transactions_of())
    advance(sandbox, 60)
    orders_client.confirm_shipment(
        order["orderId"],
        marketplaceId=order["salesChannel"]["marketplaceId"],
        packageDetail={
            "packageReferenceId": "1",
            "carrierCode": "DHL",
            "trackingNumber": "EDITED",
            "shipDate": iso(START - timedelta(hours=4)),
            "orderItems": [{"orderItemId": big["orderItemId"], "quantity": 1}],
        },
    )
    assert len(sandbox.transactions_of()) == before


# deferred transactions ----------------------------------------------------------


def test_us_transactions_are_deferred_then_released(sandbox, roomy, client):
    sandbox.configure_finances(posting_lag=0)
    orders = sandbox.seed_orders(
        11,
        200,
        end=iso(START - timedelta(days=2)),
        start=iso(START - timedelta(days=3)),
    )
    us = pick(orders, market=US)
    other = pick(orders, market=DE)
    after = iso(START - timedelta(days=4))
    deferred = list_all(client, postedAfter=after, transactionStatus="DEFERRED")[0]
    released = list_all(client, postedAfter=after, transactionStatus="RELEASED")[0]
    assert deferred and released
    assert {t["marketplaceDetails"]["marketplaceId"] for t in deferred} == {US}
    assert US not in {t["marketplaceDetails"]["marketplaceId"] for t in released}
    shown = next(t for t in deferred if identifiers(t)["ORDER_ID"] == us["orderId"])
    [context] = shown["contexts"]
    assert context["contextType"] == "DeferredContext"
    assert context["deferralReason"] == "DD7"
    maturity = parse(context["maturityDate"])
    assert maturity == parse(shown["postedDate"]) + timedelta(days=7)
    assert any(identifiers(t)["ORDER_ID"] == other["orderId"] for t in released)

    last = max(parse(t["contexts"][0]["maturityDate"]) for t in deferred)
    advance(sandbox, (last - START).total_seconds() + 1)
    assert list_all(client, postedAfter=after, transactionStatus="DEFERRED")[0] == []
    late = list_all(client, postedAfter=after, transactionStatus="DEFERRED_RELEASED")[0]
    assert {t["transactionId"] for t in late} == {t["transactionId"] for t in deferred}
    assert all(t["transactionStatus"] == "DEFERRED_RELEASED" for t in late)


# the window rules ------------------------------------------------------------------


def test_bad_parameters_answer_invalid_input(sandbox, roomy, client, schema):
    errors = schema.validator("ErrorList")
    cases = [
        ({"postedBefore": "2022-03-07"}, "postedAfter", "Start date cannot be null"),
        ({"postedAfter": "02/21/2026"}, "postedAfter", "ISO 8601"),
        (
            {"postedAfter": iso(START - timedelta(seconds=60))},
            "postedAfter",
            "2 minutes",
        ),
        (
            {
                "postedAfter": iso(START - timedelta(days=1)),
                "postedBefore": iso(START - timedelta(seconds=100)),
            },
            "postedBefore",
            "2 minutes",
        ),
        (
            {
                "postedAfter": iso(START - timedelta(days=1)),
                "postedBefore": iso(START - timedelta(days=1)),
            },
            "postedBefore",
            "later than postedAfter",
        ),
        (
            {"postedAfter": iso(START - timedelta(days=1)), "marketplaceId": "XX"},
            "marketplaceId",
            "Invalid marketplaceId",
        ),
        (
            {
                "postedAfter": iso(START - timedelta(days=1)),
                "marketplaceId": CODE_TO_ID["BR"],
            },
            "marketplaceId",
            "does not participate",
        ),
        (
            {
                "postedAfter": iso(START - timedelta(days=1)),
                "transactionStatus": "Released",
            },
            "transactionStatus",
            "DEFERRED, RELEASED, DEFERRED_RELEASED",
        ),
        (
            {
                "postedAfter": iso(START - timedelta(days=1)),
                "relatedIdentifierName": "SHIPMENT_ID",
                "relatedIdentifierValue": "1",
            },
            "relatedIdentifierName",
            "cannot be used for filtering",
        ),
        (
            {
                "postedAfter": iso(START - timedelta(days=1)),
                "relatedIdentifierName": "ORDER_ID",
            },
            "relatedIdentifierValue",
            "is required",
        ),
        (
            {
                "postedAfter": iso(START - timedelta(days=1)),
                "relatedIdentifierValue": "x",
            },
            "relatedIdentifierName",
            "is required",
        ),
        (
            {"postedAfter": iso(START - timedelta(days=1)), "nextToken": "made-up"},
            "nextToken",
            "Invalid nextToken",
        ),
    ]
    for params, name, text in cases:
        error = refused(client, **params)
        assert_valid(errors, {"errors": error.error})
        [problem] = error.error
        assert problem["code"] == "InvalidInput", params
        assert problem["details"] == name, params
        assert text in problem["message"], (params, problem["message"])

    # One error per bad parameter.
    error = refused(
        client,
        postedAfter="yesterday",
        transactionStatus="OPEN",
        marketplaceId="XX",
    )
    assert [p["details"] for p in error.error] == [
        "postedAfter",
        "marketplaceId",
        "transactionStatus",
    ]


def test_the_window_bounds(sandbox, roomy, client):
    sandbox.configure_finances(posting_lag=0)
    order = pick(sandbox.seed_orders(7, 60), by="AMAZON")
    advance(sandbox, 600)
    [shipment] = sandbox.transactions_of(order_id=order["orderId"])
    moment = parse(shipment["postedDate"])

    def ids(**params):
        found = list_all(client, **params)[0]
        return {identifiers(t)["ORDER_ID"] for t in found}

    # On or after postedAfter, before (not on) postedBefore.
    assert order["orderId"] in ids(postedAfter=iso(moment))
    assert order["orderId"] not in ids(postedAfter=iso(moment + timedelta(seconds=1)))
    assert order["orderId"] not in ids(
        postedAfter=iso(moment - timedelta(hours=1)), postedBefore=iso(moment)
    )
    assert order["orderId"] in ids(
        postedAfter=iso(moment - timedelta(hours=1)),
        postedBefore=iso(moment + timedelta(seconds=1)),
    )
    # The model's examples give plain dates: midnight UTC.
    assert order["orderId"] in ids(postedAfter=moment.strftime("%Y-%m-%d"))
    # More than 180 days apart: an empty answer, not an error.
    end = moment + timedelta(seconds=1)
    wide = list_all(
        client,
        postedAfter=iso(end - timedelta(days=180, seconds=1)),
        postedBefore=iso(end),
    )
    assert wide[0] == [] and wide[1][0].next_token is None
    assert order["orderId"] in ids(
        postedAfter=iso(end - timedelta(days=180)), postedBefore=iso(end)
    )
    assert ids(postedAfter=iso(START - timedelta(days=181))) == set()

    # postedBefore defaults to two minutes before the request.
    refund = sandbox.refund_order(order["orderId"])
    assert refund["postedDate"] == iso(START + timedelta(seconds=600))

    def types():
        found = list_all(
            client,
            postedAfter=iso(moment),
            relatedIdentifierName="ORDER_ID",
            relatedIdentifierValue=order["orderId"],
        )[0]
        return [t["transactionType"] for t in found]

    assert types() == ["Shipment"]
    advance(sandbox, 120)
    assert types() == ["Shipment"]
    advance(sandbox, 1)
    assert types() == ["Shipment", "Refund"]


def test_a_related_identifier_replaces_the_start_date(sandbox, roomy, client):
    orders = sandbox.seed_orders(11, 200)
    advance(sandbox, 3 * 86400)
    order = pick(orders)
    found, _ = list_all(
        client,
        relatedIdentifierName="ORDER_ID",
        relatedIdentifierValue=order["orderId"],
    )
    assert [identifiers(t)["ORDER_ID"] for t in found] == [order["orderId"]]
    group = identifiers(found[0])["FINANCIAL_EVENT_GROUP_ID"]
    grouped, _ = list_all(
        client,
        postedAfter=iso(START - timedelta(days=60)),
        relatedIdentifierName="FINANCIAL_EVENT_GROUP_ID",
        relatedIdentifierValue=group,
    )
    assert order["orderId"] in {identifiers(t)["ORDER_ID"] for t in grouped}
    assert {identifiers(t)["FINANCIAL_EVENT_GROUP_ID"] for t in grouped} == {group}
    markets = {t["marketplaceDetails"]["marketplaceId"] for t in grouped}
    assert markets == {order["salesChannel"]["marketplaceId"]}
    days = {parse(t["postedDate"]).date() for t in grouped}
    assert max(days) - min(days) < timedelta(days=14)
    everything_listed = everything(client)
    assert len(grouped) < len(everything_listed)


def test_marketplace_filter_and_the_us_merchant_orders(sandbox, orders, client):
    after = iso(START - timedelta(days=60))
    all_found = everything(client)
    german = list_all(client, postedAfter=after, marketplaceId=DE)[0]
    assert german
    assert {t["marketplaceDetails"]["marketplaceId"] for t in german} == {DE}
    assert len(german) == sum(
        1 for t in all_found if t["marketplaceDetails"]["marketplaceId"] == DE
    )
    # The model: to retrieve MFN orders in the US store, do not supply the
    # marketplaceId parameter.
    us_all = [t for t in all_found if t["marketplaceDetails"]["marketplaceId"] == US]
    us_mfn = [
        t for t in us_all if t["items"][0]["contexts"][0]["fulfillmentNetwork"] == "MFN"
    ]
    assert us_mfn
    us = list_all(client, postedAfter=after, marketplaceId=US)[0]
    assert len(us) == len(us_all) - len(us_mfn)
    assert all(t["items"][0]["contexts"][0]["fulfillmentNetwork"] == "AFN" for t in us)


# pages -----------------------------------------------------------------------------


def test_pages_follow_next_tokens(sandbox, orders, client):
    after = iso(START - timedelta(days=60))
    whole = everything(client)
    assert len(whole) > 100
    sandbox.configure_finances(page_size=7)
    found, responses = list_all(client, postedAfter=after)
    assert [t["transactionId"] for t in found] == [t["transactionId"] for t in whole]
    assert [len(r.payload["transactions"]) for r in responses[:-1]] == [7] * (
        len(responses) - 1
    )
    assert 1 <= len(responses[-1].payload["transactions"]) <= 7
    assert responses[-1].next_token is None
    assert all("nextToken" in r.payload for r in responses[:-1])

    first = client.list_transactions(postedAfter=after)
    token = first.next_token
    # The same arguments, or the token is refused.
    error = refused(
        client, postedAfter=iso(START - timedelta(days=59)), nextToken=token
    )
    assert error.error[0]["details"] == "nextToken"
    error = refused(client, postedAfter=after, marketplaceId=DE, nextToken=token)
    assert error.error[0]["details"] == "nextToken"
    # A token keeps the window of the first page: what posts later waits for
    # the next listing.
    advance(sandbox, 600)
    order = pick(orders, by="MERCHANT")
    sandbox.refund_order(order["orderId"], posted=iso(START + timedelta(days=3)))
    rest, _ = list_all(client, postedAfter=after, nextToken=token)
    assert len(first.payload["transactions"]) + len(rest) == len(whole)
    assert len(everything(client)) == len(whole) + 1


def test_empty_pages_still_carry_a_token(sandbox, orders, client):
    sandbox.configure_finances(empty_pages=2, page_size=50)
    found, responses = list_all(client, postedAfter=iso(START - timedelta(days=60)))
    assert [len(r.payload["transactions"]) for r in responses[:2]] == [0, 0]
    assert all(r.next_token for r in responses[:2])
    assert len(found) == len(shipped_orders(orders)) + len(
        shipped_orders(orders, "PARTIALLY_SHIPPED")
    )


# refunds ---------------------------------------------------------------------------


def test_a_full_refund_gives_back_what_the_buyer_paid(sandbox, orders, client, schema):
    order = pick(orders, by="MERCHANT", items=2, market=US)
    shipment = sandbox.transactions_of(order_id=order["orderId"])[0]
    refund = sandbox.refund_order(order["orderId"], reason="CustomerReturn")
    advance(sandbox, 121)
    listed = list_all(
        client,
        relatedIdentifierName="ORDER_ID",
        relatedIdentifierValue=order["orderId"],
    )[0]
    assert [t["transactionType"] for t in listed] == ["Shipment", "Refund"]
    assert listed[1] == refund
    assert_valid(schema.validator("Transaction"), refund)
    assert refund["description"] == "CustomerReturn"
    assert refund["transactionStatus"] == "DEFERRED"
    ids = identifiers(refund)
    assert ids["ORDER_ID"] == order["orderId"]
    assert ids["REFUND_ID"] and ids["FINANCIAL_EVENT_GROUP_ID"]
    shipped_items = items_by_sku(shipment)
    for item in order["orderItems"]:
        sku = item["product"]["sellerSku"]
        shown = items_by_sku(refund)[sku]
        sums = by_type(shown)
        sold = by_type(shipped_items[sku])
        buyer = sum((v for k, v in sums.items() if k in BUYER_TYPES), Decimal(0))
        assert buyer == -order_money(item["proceeds"]["proceedsTotal"])
        for name in BUYER_TYPES & set(sold):
            assert sums[name] == -sold[name]
        assert sums["Commission"] == -sold["Commission"] > 0
        expected = min(
            Decimal("5.00"),
            (sums["Commission"] * REFUND_COMMISSION_RATE).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            ),
        )
        assert sums["RefundCommission"] == -expected
        assert shown["contexts"][0]["quantityShipped"] == item["quantityOrdered"]
        adjustment = shown["relatedIdentifiers"][0]
        assert adjustment["itemRelatedIdentifierName"] == "ORDER_ADJUSTMENT_ITEM_ID"
        assert adjustment["itemRelatedIdentifierValue"] != item["orderItemId"]
    assert amount(refund["totalAmount"]) == sum(
        (amount(i["totalAmount"]) for i in refund["items"]), Decimal(0)
    )
    with pytest.raises(ValueError, match="nothing left to refund"):
        sandbox.refund_order(order["orderId"])


def test_partial_refunds_add_up_to_the_whole(sandbox, orders):
    order = pick(orders, units=2)
    item = max(order["orderItems"], key=lambda i: i["quantityOrdered"])
    sku = item["product"]["sellerSku"]
    units = item["quantityOrdered"]
    first = sandbox.refund_order(order["orderId"], items={item["orderItemId"]: 1})
    assert [i["contexts"][0]["sku"] for i in first["items"]] == [sku]
    assert first["items"][0]["contexts"][0]["quantityShipped"] == 1
    with pytest.raises(ValueError, match="left to refund"):
        sandbox.refund_order(order["orderId"], items={item["orderItemId"]: units})
    rest = sandbox.refund_order(order["orderId"], items=[item["orderItemId"]])
    assert rest["items"][0]["contexts"][0]["quantityShipped"] == units - 1
    buyer = Decimal(0)
    for refund in (first, rest):
        sums = by_type(refund["items"][0])
        buyer += sum((v for k, v in sums.items() if k in BUYER_TYPES), Decimal(0))
    assert buyer == -order_money(item["proceeds"]["proceedsTotal"])
    assert identifiers(first)["REFUND_ID"] != identifiers(rest)["REFUND_ID"]
    with pytest.raises(ValueError, match="left to refund"):
        sandbox.refund_order(order["orderId"], items=[item["orderItemId"]])


def test_refund_kinds(sandbox, orders):
    def charged_shipping(item):
        kept = proceeds_of(item, "SHIPPING") + proceeds_of(item, "DISCOUNT", "SHIPPING")
        return kept > 0

    fba = pick(
        orders,
        by="AMAZON",
        test=lambda o: any(charged_shipping(i) for i in o["orderItems"]),
    )
    no_return = sandbox.refund_order(fba["orderId"], kind="NO_RETURN")
    assert no_return["transactionType"] == "Refund"
    item = next(i for i in fba["orderItems"] if charged_shipping(i))
    sums = by_type(items_by_sku(no_return)[item["product"]["sellerSku"]])
    # FBA: Amazon gives back the shipping it charged back, keeps its FBA fee.
    assert sums["ShippingChargeback"] > 0
    assert "FBAPerUnitFulfillmentFee" not in sums
    assert no_return["items"][0]["contexts"][0]["fulfillmentNetwork"] == "AFN"

    claim = pick(orders, by="MERCHANT", test=lambda o: o is not fba)
    a_to_z = sandbox.refund_order(claim["orderId"], kind="A_TO_Z")
    assert a_to_z["transactionType"] == "GuaranteeClaim"
    assert a_to_z["description"] == "GuaranteeClaimRefund"

    goodwill_order = pick(orders, by="MERCHANT", test=lambda o: o not in (fba, claim))
    target = goodwill_order["orderItems"][0]
    price = order_money(target["proceeds"]["proceedsTotal"])
    goodwill = sandbox.refund_order(
        goodwill_order["orderId"], items=[target["orderItemId"]], kind="GOODWILL"
    )
    assert by_type(goodwill["items"][0]) == {"GoodwillPrincipal": -price}
    beyond = sandbox.refund_order(
        goodwill_order["orderId"],
        kind="GOODWILL",
        amounts={target["orderItemId"]: {"GoodwillPrincipal": str(-(price + 50))}},
    )
    assert by_type(beyond["items"][0]) == {"GoodwillPrincipal": -(price + 50)}
    assert amount(beyond["totalAmount"]) == -(price + 50)
    # Goodwill uses no units: the item can still be refunded in full.
    full = sandbox.refund_order(
        goodwill_order["orderId"], items=[target["orderItemId"]]
    )
    assert (
        full["items"][0]["contexts"][0]["quantityShipped"] == target["quantityOrdered"]
    )

    restocked = pick(
        orders,
        by="AMAZON",
        items=2,
        test=lambda o: o not in (fba, claim, goodwill_order),
    )
    kept = restocked["orderItems"][0]
    paid = order_money(kept["proceeds"]["proceedsTotal"])
    partial = sandbox.refund_order(
        restocked["orderId"],
        items=[kept["orderItemId"]],
        amounts={
            kept["orderItemId"]: {
                "OurPricePrincipal": str(-paid),
                "RestockingDeductionPrincipal": "2.50",
                "Commission": "1.00",
            }
        },
    )
    sums = by_type(partial["items"][0])
    assert sums == {
        "OurPricePrincipal": -paid,
        "RestockingDeductionPrincipal": Decimal("2.50"),
        "Commission": Decimal("1.00"),
    }
    with pytest.raises(ValueError, match="more decimals"):
        sandbox.refund_order(
            restocked["orderId"],
            amounts={
                restocked["orderItems"][-1]["orderItemId"]: {"Commission": "1.001"}
            },
        )
    adjustment_ids = [
        i["relatedIdentifiers"][0]["itemRelatedIdentifierValue"]
        for t in sandbox.transactions_of()
        if t["transactionType"] != "Shipment"
        for i in t["items"]
    ]
    assert len(adjustment_ids) == len(set(adjustment_ids))


def test_refunds_of_what_cannot_be_refunded(sandbox, orders):
    with pytest.raises(KeyError):
        sandbox.refund_order("999-0000000-0000000")
    pending = next(
        o
        for o in orders
        if o["fulfillment"]["fulfillmentStatus"] in ("UNSHIPPED", "PENDING")
    )
    with pytest.raises(ValueError, match="nothing left to refund"):
        sandbox.refund_order(pending["orderId"])
    with pytest.raises(ValueError, match="not an item of order"):
        sandbox.refund_order(pick(orders)["orderId"], items=["00000000000000"])
    with pytest.raises(ValueError, match="unknown refund kind"):
        sandbox.refund_order(pick(orders)["orderId"], kind="CHARGEBACK")


def test_a_refund_of_an_order_the_store_does_not_have(sandbox, orders, client):
    refund = sandbox.post_refund(
        "303-1234567-7654321",
        "DE",
        [
            {
                "sellerSku": "NOT-OURS-1",
                "quantity": 1,
                "amounts": {"OurPricePrincipal": "-16.80", "OurPriceTax": "-3.19"},
            }
        ],
        posted=iso(START),
    )
    advance(sandbox, 120)
    [found] = list_all(
        client,
        relatedIdentifierName="ORDER_ID",
        relatedIdentifierValue="303-1234567-7654321",
    )[0]
    assert found == refund
    assert amount(found["totalAmount"]) == Decimal("-19.99")
    assert found["marketplaceDetails"]["marketplaceId"] == DE
    assert found["transactionStatus"] == "RELEASED"


def test_a_planted_transaction_is_served_as_it_is(sandbox, orders, client):
    # The model's own Transaction example, breakdowns as an object, dates
    # moved into the window.
    planted = {
        "sellingPartnerMetadata": {
            "sellingPartnerId": "XXXXXXXXXXXXXX",
            "accountType": "PAYABLE",
            "marketplaceId": US,
        },
        "relatedIdentifiers": [
            {
                "relatedIdentifierName": "ORDER_ID",
                "relatedIdentifierValue": "8129762527551",
            }
        ],
        "transactionType": "Shipment",
        "transactionId": "b1qD0oAliFkLiqRyGbmeT0DoS2Z2kHzi7TZ92z-vARI",
        "transactionStatus": "Released",
        "postedDate": iso(START - timedelta(days=1)),
        "totalAmount": {"currencyAmount": 10, "currencyCode": "USD"},
        "breakdowns": {"breakdowns": [{"breakdownType": "Sales"}]},
        "unexpected": [1, 2, 3],
    }
    sandbox.add_transaction(planted)
    found = list_all(
        client,
        relatedIdentifierName="ORDER_ID",
        relatedIdentifierValue="8129762527551",
    )[0]
    assert found == [planted]
    for status, expected in (("RELEASED", [planted]), ("DEFERRED", [])):
        assert (
            list_all(
                client,
                postedAfter=iso(START - timedelta(days=2)),
                transactionStatus=status,
                relatedIdentifierName="ORDER_ID",
                relatedIdentifierValue="8129762527551",
            )[0]
            == expected
        )
    sandbox.add_transaction(
        ["not", "an", "object"], posted=iso(START - timedelta(days=1))
    )
    assert ["not", "an", "object"] in everything(client)


def test_a_late_posting_shows_up_behind_the_cursor(sandbox, orders, client):
    after = START - timedelta(days=60)
    first_end = START + timedelta(days=3) - timedelta(minutes=2)
    first = list_all(client, postedAfter=iso(after), postedBefore=iso(first_end))[0]
    order = pick(orders, by="MERCHANT")
    # Posted 30 hours ago, listed only now.
    sandbox.refund_order(order["orderId"], posted=iso(first_end - timedelta(hours=30)))
    advance(sandbox, 3600)
    behind = list_all(client, postedAfter=iso(first_end))[0]
    assert behind == []
    overlap = list_all(client, postedAfter=iso(first_end - timedelta(hours=48)))[0]
    assert [t["transactionType"] for t in overlap if t not in first] == ["Refund"]

    # A listing lag makes shipments appear after their postedDate, too.
    sandbox.configure_finances(listing_lag=12 * 3600, posting_lag=0)
    shipped = sandbox.ship_order(
        pick(orders, status="UNSHIPPED", by="MERCHANT")["orderId"]
    )
    [transaction] = sandbox.transactions_of(order_id=shipped["orderId"])
    posted = parse(transaction["postedDate"])
    seen = []
    for _ in range(13):
        advance(sandbox, 3600)
        found = list_all(client, postedAfter=iso(posted))[0]
        seen.append(
            any(t["transactionId"] == transaction["transactionId"] for t in found)
        )
    assert seen[0] is False and seen[-1] is True
    assert seen == sorted(seen)


# quota and faults ------------------------------------------------------------------


def test_the_rate_limit_is_amazons(sandbox, clock, client):
    after = iso(START - timedelta(days=1))
    for _ in range(10):
        client.list_transactions(postedAfter=after)
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        client.list_transactions(postedAfter=after)
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "500"
    assert caught.value.error[0]["code"] == "QuotaExceeded"
    advance(sandbox, 0.002)
    client.list_transactions(postedAfter=after)
    with pytest.raises(SellingApiRequestThrottledException):
        client.list_transactions(postedAfter=after)


def test_faults_apply_to_list_transactions(sandbox, orders, client):
    after = iso(START - timedelta(days=60))
    sandbox.inject_fault(LIST, "malformed")
    broken = client.list_transactions(postedAfter=after)
    assert broken.payload == {} and broken.next_token is None
    sandbox.inject_fault(LIST, "server_error")
    with pytest.raises(SellingApiTemporarilyUnavailableException):
        client.list_transactions(postedAfter=after)
    sandbox.inject_fault(LIST, "throttle")
    with pytest.raises(SellingApiRequestThrottledException):
        client.list_transactions(postedAfter=after)
    assert client.list_transactions(postedAfter=after).payload["transactions"]


# the HTTP control routes ------------------------------------------------------------


def test_http_control_routes(sandbox, orders):
    order = pick(orders, by="MERCHANT", items=2)
    item = order["orderItems"][0]
    with httpx.Client(base_url=sandbox.url) as http:
        options = http.post("/_sandbox/finances", json={"page_size": 3})
        assert options.status_code == 200
        assert options.json()["options"]["page_size"] == 3
        assert http.post("/_sandbox/finances", json={"colour": 1}).status_code == 400
        refund = http.post(
            f"/_sandbox/orders/{order['orderId']}/refund",
            json={
                "items": [item["orderItemId"]],
                "kind": "NO_RETURN",
                "reason": "Lost",
            },
        )
        assert refund.status_code == 201
        transaction = refund.json()["transaction"]
        assert transaction["description"] == "Lost"
        assert len(transaction["items"]) == 1
        assert (
            http.post(
                "/_sandbox/orders/999-0000000-0000000/refund", json={}
            ).status_code
            == 404
        )
        posted = http.post(
            "/_sandbox/refunds",
            json={
                "order_id": "028-0000000-0000001",
                "marketplace": "UK",
                "items": [
                    {"sellerSku": "GONE", "amounts": {"OurPricePrincipal": "-5"}}
                ],
            },
        )
        assert posted.status_code == 201
        assert posted.json()["transaction"]["totalAmount"]["currencyCode"] == "GBP"
        assert http.post("/_sandbox/refunds", json={}).status_code == 400
        planted = http.post(
            "/_sandbox/transactions",
            json={"transaction": {"transactionType": "Mystery"}, "posted": iso(START)},
        )
        assert planted.status_code == 201
        listed = http.get(
            "/_sandbox/transactions", params={"order_id": order["orderId"]}
        ).json()["transactions"]
        assert [t["transactionType"] for t in listed] == ["Shipment", "Refund"]
        every = http.get("/_sandbox/transactions").json()["transactions"]
        assert {"transactionType": "Mystery"} in every
    assert sandbox.state.finances.page_size == 3


def test_clear_refunds_keeps_shipments(sandbox, seller):
    shipped = next(
        o["orderId"]
        for o in sandbox.seed_orders(41, 30, seller_id=seller["seller_id"])
        if o["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    )
    before = sandbox.transactions_of(seller_id=seller["seller_id"])
    sandbox.refund_order(shipped, seller_id=seller["seller_id"])
    assert (
        len(sandbox.transactions_of(seller_id=seller["seller_id"])) == len(before) + 1
    )
    sandbox.clear_refunds(seller_id=seller["seller_id"])
    after = sandbox.transactions_of(seller_id=seller["seller_id"])
    assert [t["transactionId"] for t in after] == [t["transactionId"] for t in before]
    # The refunded units are refundable again.
    sandbox.refund_order(shipped, seller_id=seller["seller_id"])
