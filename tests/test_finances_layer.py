"""The connector's Finances layer (sp_api/finances.py): reading listTransactions
against the sandbox through AmazonClient, and the refund parser on the
sandbox's refunds and on hand-made transactions."""

import copy
import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from layer import load
from sandbox import SandboxServer
from sandbox.marketplaces import CODE_TO_ID
from sandbox.timeutil import ManualClock
from sp_api.auth import access_token_client

layer = load()
from amazon_refund_connector.sp_api import finances  # noqa: E402
from amazon_refund_connector.sp_api.finances import (  # noqa: E402
    AMAZON,
    BUYER,
    UNKNOWN,
    MalformedTransaction,
    is_refund,
    iter_transactions,
    line_key,
    match_order_items,
    parse_refund,
    refunds_of,
)

LIST = "listTransactions"
START = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
US, DE, UK = CODE_TO_ID["US"], CODE_TO_ID["DE"], CODE_TO_ID["UK"]
MARKETPLACES = [US, DE, UK, CODE_TO_ID["FR"]]


def naive(moment):
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def server(clock):
    # Amazon's own quotas: the sandbox and the client's limiter refill alike,
    # by the same clock, which the client's waits move.
    with SandboxServer(time_scale=1, settle_seconds=0, clock=clock) as srv:
        yield srv


@pytest.fixture
def seller(server):
    data = server.add_new_seller(MARKETPLACES)
    return data


def make_client(server, seller, clock, max_wait=60.0):
    """An AmazonClient whose rate limiter and waits follow the sandbox's clock."""
    credentials = layer.Credentials(
        client_id=seller["client_id"],
        client_secret=seller["client_secret"],
        refresh_token=seller["refresh_token"],
        region="NA",
        endpoint=server.url,
        lwa_endpoint=f"{server.url}/auth/o2/token",
    )
    return layer.AmazonClient(
        credentials,
        layer.MemoryRateLimiter(clock=clock),
        max_wait=max_wait,
        sleep=clock.sleep,
    )


@pytest.fixture
def client(server, seller, clock):
    with make_client(server, seller, clock) as amazon:
        yield amazon


def advance(server, seconds):
    server.advance(seconds)
    access_token_client.cache.clear()


@pytest.fixture
def orders(server, seller):
    seeded = server.seed_orders(11, 120, seller_id=seller["seller_id"])
    advance(server, 3 * 86400)
    return seeded


def now(server):
    return server.now()


def read(client, server, after, **kwargs):
    return list(iter_transactions(client, after, now=server.now(), **kwargs))


def calls(server):
    return [query for op, status, query in server.calls if op == LIST]


def shipped(orders, by=None, market=None, items=1):
    for order in orders:
        fulfillment = order["fulfillment"]
        if fulfillment["fulfillmentStatus"] != "SHIPPED":
            continue
        if by not in (None, fulfillment["fulfilledBy"]):
            continue
        if market not in (None, order["salesChannel"]["marketplaceId"]):
            continue
        if len(order["orderItems"]) >= items:
            yield order


def first(orders, **kwargs):
    return next(shipped(orders, **kwargs))


def paid(item):
    return Decimal(item["proceeds"]["proceedsTotal"]["amount"])


# reading ----------------------------------------------------------------------------


def test_reads_every_page_once(server, seller, orders, client):
    server.configure_finances(page_size=9)
    server.clear_calls()
    pages = read(client, server, START - timedelta(days=40))
    transactions = [t for page in pages for t in page.transactions]
    expected = server.transactions_of(seller_id=seller["seller_id"])
    assert len(pages) == -(-len(expected) // 9) > 5
    assert [t["transactionId"] for t in transactions] == [
        t["transactionId"] for t in expected
    ]
    assert client.calls == len(pages) == server.call_count(LIST)
    assert [page.last for page in pages] == [False] * (len(pages) - 1) + [True]
    assert all(page.next_token for page in pages[:-1])
    queries = calls(server)
    latest = iso(server.now() - timedelta(minutes=2))
    assert {q["postedBefore"] for q in queries} == {latest}
    assert {q["postedAfter"] for q in queries} == {iso(START - timedelta(days=40))}
    assert "nextToken" not in queries[0]
    assert [q["nextToken"] for q in queries[1:]] == [p.next_token for p in pages[:-1]]
    assert pages[0].posted_before == naive(server.now()) - timedelta(minutes=2)


def test_long_spans_are_read_in_windows_of_180_days(server, seller, client, clock):
    posted = START - timedelta(days=300)
    server.post_refund(
        "303-1111111-2222222",
        "DE",
        [{"sellerSku": "OLD-1", "amounts": {"OurPricePrincipal": "-9.99"}}],
        seller_id=seller["seller_id"],
        posted=iso(posted),
    )
    advance(server, 600)
    # In one call Amazon answers an empty page for a span this long.
    direct = client.call(
        LIST,
        finances.FinancesV20240619,
        "list_transactions",
        postedAfter=iso(START - timedelta(days=400)),
    )
    assert direct.payload["transactions"] == []
    server.clear_calls()
    pages = read(client, server, START - timedelta(days=400))
    assert [
        t["relatedIdentifiers"][0]["relatedIdentifierValue"]
        for p in pages
        for t in p.transactions
    ] == ["303-1111111-2222222"]
    spans = [(q["postedAfter"], q["postedBefore"]) for q in calls(server)]
    assert len(spans) == 3
    assert spans[0][0] == iso(START - timedelta(days=400))
    assert spans[-1][1] == iso(server.now() - timedelta(minutes=2))
    for (_, before), (next_after, _) in itertools.pairwise(spans):
        assert before == next_after
    for after, before in spans:
        width = datetime.fromisoformat(before[:-1]) - datetime.fromisoformat(after[:-1])
        assert timedelta(0) < width <= timedelta(days=180)
    assert [p.last for p in pages] == [False, False, True]


def test_posted_before_is_capped_two_minutes_before_now(server, seller, orders, client):
    order = first(orders, by="MERCHANT")
    server.refund_order(order["orderId"], seller_id=seller["seller_id"])
    advance(server, 60)
    server.clear_calls()
    pages = read(
        client,
        server,
        server.now() - timedelta(hours=1),
        posted_before=server.now() + timedelta(hours=1),
    )
    assert [t for p in pages for t in p.transactions] == []
    [query] = calls(server)
    assert query["postedBefore"] == iso(server.now() - timedelta(minutes=2))
    advance(server, 61)
    pages = read(client, server, server.now() - timedelta(hours=1))
    assert [t["transactionType"] for p in pages for t in p.transactions] == ["Refund"]
    # Nothing to read yet: no call at all.
    server.clear_calls()
    assert read(client, server, server.now() - timedelta(seconds=30)) == []
    assert calls(server) == []


def test_marketplaces_and_related_identifiers(server, seller, orders, client):
    after = START - timedelta(days=40)
    server.clear_calls()
    german = [
        t
        for p in read(client, server, after, marketplace_id=DE)
        for t in p.transactions
    ]
    assert german and {t["marketplaceDetails"]["marketplaceId"] for t in german} == {DE}
    assert calls(server)[-1]["marketplaceId"] == DE
    # The US marketplace is filtered here: Amazon would leave out its
    # merchant-fulfilled transactions.
    us = [
        t
        for p in read(client, server, after, marketplace_id=US)
        for t in p.transactions
    ]
    assert "marketplaceId" not in calls(server)[-1]
    networks = {t["items"][0]["contexts"][0]["fulfillmentNetwork"] for t in us}
    assert networks == {"AFN", "MFN"}
    assert {t["marketplaceDetails"]["marketplaceId"] for t in us} == {US}

    order = first(orders)
    pages = read(
        client, server, after, related_identifier=("ORDER_ID", order["orderId"])
    )
    assert calls(server)[-1]["relatedIdentifierName"] == "ORDER_ID"
    assert [
        t["relatedIdentifiers"][0]["relatedIdentifierValue"]
        for p in pages
        for t in p.transactions
    ] == [order["orderId"]]
    with pytest.raises(
        layer.AmazonInvalidInput, match="ORDER_ID or FINANCIAL_EVENT_GROUP_ID"
    ):
        read(client, server, after, related_identifier=("SHIPMENT_ID", "1"))


def test_empty_pages_are_followed(server, seller, orders, client):
    server.configure_finances(empty_pages=2)
    pages = read(client, server, START - timedelta(days=40))
    assert [len(p.transactions) for p in pages[:2]] == [0, 0]
    assert len(pages) == 3 and pages[-1].last
    assert pages[2].transactions


def test_a_malformed_page_raises_after_the_good_ones(server, seller, orders, client):
    server.configure_finances(page_size=10)
    pages = iter_transactions(client, START - timedelta(days=40), now=server.now())
    page = next(pages)
    assert len(page.transactions) == 10
    server.inject_fault(LIST, "malformed")
    with pytest.raises(layer.AmazonServerError) as caught:
        next(pages)
    assert caught.value.code == "MalformedResponse"
    assert "listTransactions" in str(caught.value)
    # An HTML error page comes back from sp_api as an empty payload, too.
    server.inject_fault(LIST, "server_error_html")
    with pytest.raises(layer.AmazonServerError, match="unreadable"):
        read(client, server, START - timedelta(days=40))


def test_throttling_and_server_errors_mid_pagination(server, seller, orders, clock):
    server.configure_finances(page_size=10)
    with make_client(server, seller, clock, max_wait=0) as impatient:
        pages = iter_transactions(
            impatient, START - timedelta(days=40), now=server.now()
        )
        assert len(next(pages).transactions) == 10
        server.inject_fault(LIST, "throttle")
        with pytest.raises(layer.AmazonThrottled) as caught:
            next(pages)
        assert caught.value.retry_after > 0
        assert caught.value.status == 429

        pages = iter_transactions(
            impatient, START - timedelta(days=40), now=server.now()
        )
        clock.advance(30)
        next(pages)
        server.inject_fault(LIST, "server_error", status=500)
        with pytest.raises(layer.AmazonServerError) as failed:
            next(pages)
        assert failed.value.status == 500
        server.inject_fault(LIST, "reset")
        clock.advance(30)
        with pytest.raises(layer.AmazonServerError) as reset:
            read(impatient, server, START - timedelta(days=40))
        assert reset.value.code == "Unreachable"

    # A client that may wait rides out one 429 and reads everything.
    clock.advance(30)
    with make_client(server, seller, clock, max_wait=60) as patient:
        pages = iter_transactions(patient, START - timedelta(days=40), now=server.now())
        got = list(next(pages).transactions)
        server.inject_fault(LIST, "throttle")
        for page in pages:
            got += page.transactions
    assert len(got) == len(server.transactions_of(seller_id=seller["seller_id"]))


def test_the_quota_is_kept_without_throttling(server, seller, orders, client, clock):
    server.set_rate(LIST, 0.5, 10)
    server.configure_finances(page_size=5)
    started = clock.time()
    pages = read(client, server, START - timedelta(days=40))
    assert len(pages) > 12
    assert all(status == 200 for op, status, _ in server.calls if op == LIST)
    # Ten calls at once, then one every two seconds, waited on the clock.
    assert clock.time() - started == pytest.approx((len(pages) - 10) * 2, abs=0.01)


def test_an_overlap_gives_the_same_keys(server, seller, orders, client):
    fbm = first(orders, by="MERCHANT", items=2, market=DE)
    fba = first(orders, by="AMAZON", market=DE)
    server.refund_order(fbm["orderId"], seller_id=seller["seller_id"])
    server.refund_order(fba["orderId"], seller_id=seller["seller_id"], kind="NO_RETURN")
    advance(server, 3600)
    cursor = server.now() - timedelta(minutes=2)
    first_read = [
        t
        for p in read(client, server, START - timedelta(days=40))
        for t in p.transactions
    ]
    advance(server, 4 * 3600)
    late = first(orders, market=UK)
    server.refund_order(
        late["orderId"],
        seller_id=seller["seller_id"],
        posted=iso(cursor - timedelta(hours=20)),
    )
    # Reading on from the cursor misses the late posting; the overlap finds
    # it, and gives the refunds read before the same keys.
    assert [t for p in read(client, server, cursor) for t in p.transactions] == []
    second_read = [
        t
        for p in read(client, server, cursor - timedelta(hours=48))
        for t in p.transactions
    ]
    first_refunds, problems = refunds_of(first_read)
    second_refunds, more = refunds_of(second_read)
    assert problems == more == []
    assert len(first_refunds) == 2 and len(second_refunds) == 3
    first_keys = {key for r in first_refunds for key in r.keys()}
    second_keys = {key for r in second_refunds for key in r.keys()}
    assert first_keys < second_keys
    new = second_keys - first_keys
    assert {key[0] for key in new} == {
        r.refund_id for r in second_refunds if r.order_id == late["orderId"]
    }
    all_keys = [key for r in second_refunds for key in r.keys()]
    assert len(all_keys) == len(set(all_keys))


# the parser on the sandbox's refunds ------------------------------------------


def test_a_full_refund_parses_to_what_the_buyer_paid(server, seller, orders):
    checked = set()
    for order in list(shipped(orders))[:40]:
        raw = server.refund_order(order["orderId"], seller_id=seller["seller_id"])
        refund = parse_refund(raw)
        assert refund.order_id == order["orderId"]
        assert refund.marketplace_id == order["salesChannel"]["marketplaceId"]
        assert refund.refund_id == next(
            i["relatedIdentifierValue"]
            for i in raw["relatedIdentifiers"]
            if i["relatedIdentifierName"] == "REFUND_ID"
        )
        assert refund.transaction_type == "Refund"
        assert refund.refunded == sum(
            (paid(i) for i in order["orderItems"]), Decimal(0)
        )
        assert refund.total == refund.buyer_total + refund.amazon_total
        assert refund.posted == naive(server.now()).replace(microsecond=0)
        assert not refund.has_unknown
        fba = order["fulfillment"]["fulfilledBy"] == "AMAZON"
        us = refund.marketplace_id == US
        assert refund.status == ("DEFERRED" if us else "RELEASED")
        assert (refund.maturity is not None) == us
        by_sku = {i["product"]["sellerSku"]: i for i in order["orderItems"]}
        missing = match_order_items(
            refund,
            [
                (i["orderItemId"], i["product"]["sellerSku"])
                for i in order["orderItems"]
            ],
        )
        assert missing == []
        for item in refund.items:
            source = by_sku[item.sku]
            assert item.order_item_id == source["orderItemId"]
            assert item.quantity == source["quantityOrdered"]
            assert item.channel == ("FBA" if fba else "FBM")
            assert -item.buyer_total == paid(source)
            kinds = {line.kind: line for line in item.lines}
            assert kinds["PRINCIPAL"].amount < 0
            assert kinds["PRINCIPAL"].side == BUYER
            assert kinds["COMMISSION"].amount > 0 > kinds["REFUND_COMMISSION"].amount
            assert kinds["COMMISSION"].side == kinds["REFUND_COMMISSION"].side == AMAZON
            taxes = sum(
                (
                    line.amount
                    for line in item.buyer_lines
                    if line.kind
                    in ("TAX", "SHIPPING_TAX", "GIFT_WRAP_TAX", "PROMOTION_TAX")
                ),
                Decimal(0),
            )
            order_tax = next(
                (
                    Decimal(b["subtotal"]["amount"])
                    for b in source["proceeds"]["breakdowns"]
                    if b["type"] == "TAX"
                ),
                Decimal(0),
            )
            assert taxes == -order_tax
            if "SHIPPING_CHARGEBACK" in kinds:
                checked.add("chargeback")
                assert fba and kinds["SHIPPING_CHARGEBACK"].side == AMAZON
            if "PROMOTION_TAX" in kinds:
                checked.add("promotion tax")
                assert kinds["PROMOTION_TAX"].amount > 0
            if "TAX_WITHHELD" in kinds:
                checked.add("withheld")
                withheld = sum(
                    (x.amount for x in item.amazon_lines if x.kind == "TAX_WITHHELD"),
                    Decimal(0),
                )
                assert withheld == -taxes
            assert kinds["PRINCIPAL"].path == "ProductCharges/OurPricePrincipal"
    assert checked == {"chargeback", "promotion tax", "withheld"}


def test_fees_with_vat_fold_into_one_line(server, seller, orders):
    order = first(orders, by="AMAZON", market=DE)
    shipment = server.transactions_of(
        seller_id=seller["seller_id"], order_id=order["orderId"]
    )[0]
    raw = copy.deepcopy(shipment)
    raw["transactionType"] = "Refund"
    refund = parse_refund(raw)
    fee = next(line for _, line in refund.lines() if line.kind == "FBA_FEE")
    assert fee.amount < fee.tax < 0
    assert fee.path == "AmazonFees/FBAPerUnitFulfillmentFee"
    assert fee.category == "amazonfees"


def test_partial_and_goodwill_refunds(server, seller, orders):
    order = next(
        o
        for o in shipped(orders)
        if max(i["quantityOrdered"] for i in o["orderItems"]) >= 2
    )
    item = max(order["orderItems"], key=lambda i: i["quantityOrdered"])
    one = parse_refund(
        server.refund_order(
            order["orderId"],
            items={item["orderItemId"]: 1},
            seller_id=seller["seller_id"],
        )
    )
    rest = parse_refund(
        server.refund_order(
            order["orderId"], items=[item["orderItemId"]], seller_id=seller["seller_id"]
        )
    )
    assert [i.quantity for i in one.items + rest.items] == [
        1,
        item["quantityOrdered"] - 1,
    ]
    assert one.refunded + rest.refunded == paid(item)
    assert one.refund_id != rest.refund_id
    assert one.items[0].item_ref != rest.items[0].item_ref

    price = paid(order["orderItems"][0])
    goodwill = parse_refund(
        server.refund_order(
            order["orderId"],
            kind="GOODWILL",
            amounts={
                order["orderItems"][0]["orderItemId"]: {
                    "GoodwillPrincipal": str(-(price * 3))
                }
            },
            seller_id=seller["seller_id"],
            reason="Goodwill beyond the price",
        )
    )
    # Beyond the price: parsed as it is, for the import to judge.
    assert goodwill.refunded == price * 3 > price
    [line] = goodwill.items[0].lines
    assert (line.kind, line.side, line.amazon_type) == (
        "GOODWILL",
        BUYER,
        "GoodwillPrincipal",
    )
    assert goodwill.description == "Goodwill beyond the price"
    claim_order = first(orders, by="MERCHANT", market=DE)
    claim = parse_refund(
        server.refund_order(
            claim_order["orderId"], kind="A_TO_Z", seller_id=seller["seller_id"]
        )
    )
    assert claim.transaction_type == "GuaranteeClaim"
    assert claim.refunded == sum(
        (paid(i) for i in claim_order["orderItems"]), Decimal(0)
    )


def test_unknown_orders_and_items(server, seller, orders):
    order = first(orders, by="MERCHANT", market=UK)
    raw = server.post_refund(
        order["orderId"],
        "UK",
        [
            {
                "sellerSku": order["orderItems"][0]["product"]["sellerSku"],
                "amounts": {"OurPricePrincipal": "-1.00"},
            },
            {
                "sellerSku": "NOT-IN-THE-ORDER",
                "amounts": {"OurPricePrincipal": "-2.00"},
            },
        ],
        seller_id=seller["seller_id"],
    )
    refund = parse_refund(raw)
    missing = match_order_items(
        refund,
        [(i["orderItemId"], i["product"]["sellerSku"]) for i in order["orderItems"]],
    )
    assert [i.sku for i in missing] == ["NOT-IN-THE-ORDER"]
    assert missing[0].order_item_id is None
    assert refund.items[0].order_item_id == order["orderItems"][0]["orderItemId"]
    stranger = parse_refund(
        server.post_refund(
            "028-0000000-0000009",
            "UK",
            [{"sellerSku": "X", "amounts": {"OurPricePrincipal": "-3.00"}}],
            seller_id=seller["seller_id"],
        )
    )
    assert stranger.order_id == "028-0000000-0000009"
    assert stranger.refunded == Decimal("3.00")


# the parser on hand-made transactions ------------------------------------------------


def money(value, currency="EUR"):
    return {"currencyCode": currency, "currencyAmount": value}


def node(name, value=None, *children, currency="EUR"):
    result = {"breakdownType": name, "breakdowns": list(children)}
    if value is not None:
        result["breakdownAmount"] = money(value, currency)
    return result


def item(ref, sku, breakdowns, total=None, quantity=1):
    entry = {
        "description": "Ceramic Coffee Mug",
        "relatedIdentifiers": [
            {
                "itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                "itemRelatedIdentifierValue": ref,
            }
        ],
        "breakdowns": breakdowns,
        "contexts": [
            {
                "contextType": "ProductContext",
                "sku": sku,
                "asin": "B000TEST01",
                "quantityShipped": quantity,
                "fulfillmentNetwork": "MFN",
            }
        ],
    }
    if total is not None:
        entry["totalAmount"] = money(total)
    return entry


def refund(items, total, summary=None, **extra):
    transaction = {
        "sellingPartnerMetadata": {
            "sellingPartnerId": "A1",
            "accountType": "Standard Orders",
            "marketplaceId": DE,
        },
        "relatedIdentifiers": [
            {
                "relatedIdentifierName": "ORDER_ID",
                "relatedIdentifierValue": "302-1234567-1234567",
            },
            {"relatedIdentifierName": "REFUND_ID", "relatedIdentifierValue": "R-1"},
        ],
        "transactionType": "Refund",
        "transactionId": "tx-1",
        "transactionStatus": "RELEASED",
        "description": "Refund",
        "postedDate": "2026-02-01T10:00:00Z",
        "totalAmount": money(total),
        "marketplaceDetails": {"marketplaceId": DE, "marketplaceName": "Amazon.de"},
        "items": items,
    }
    if summary is not None:
        transaction["breakdowns"] = summary
    transaction.update(extra)
    return transaction


def simple_item(ref="A1", sku="MUG-1"):
    return item(
        ref,
        sku,
        [
            node("ProductCharges", -16.80, node("OurPricePrincipal", -16.80)),
            node("Tax", -3.19, node("OurPriceTax", -3.19)),
            node(
                "AmazonFees",
                2.40,
                node("Commission", 3.00, node("Base", 3.00)),
                node("RefundCommission", -0.60),
            ),
        ],
        total=-17.59,
    )


def test_a_hand_made_refund():
    raw = refund(
        [simple_item()],
        -17.59,
        summary=[
            node("Sales", -19.99, node("ProductCharges", -16.80), node("Tax", -3.19)),
            node("Expenses", 2.40, node("AmazonFees", 2.40)),
        ],
    )
    parsed = parse_refund(raw)
    assert parsed.refunded == Decimal("19.99")
    assert parsed.amazon_total == Decimal("2.40")
    assert parsed.posted == datetime(2026, 2, 1, 10, 0)
    assert parsed.currency == "EUR"
    [line_item] = parsed.items
    assert [(x.kind, x.amount, x.side) for x in line_item.lines] == [
        ("PRINCIPAL", Decimal("-16.80"), BUYER),
        ("TAX", Decimal("-3.19"), BUYER),
        ("COMMISSION", Decimal("3.00"), AMAZON),
        ("REFUND_COMMISSION", Decimal("-0.60"), AMAZON),
    ]
    assert line_key(parsed, line_item, line_item.lines[0]) == (
        "R-1",
        "A1",
        "PRINCIPAL",
        "ProductCharges/OurPricePrincipal",
    )
    assert parse_refund(copy.deepcopy(raw)).keys() == parsed.keys()
    assert is_refund(raw)
    assert not is_refund(dict(raw, transactionType="Shipment"))
    assert not is_refund(dict(raw, transactionType="ServiceFee"))
    assert not is_refund({"transactionType": None})
    with pytest.raises(MalformedTransaction, match="not a refund"):
        parse_refund(dict(raw, transactionType="Shipment"))


def test_the_models_own_example_shape_parses():
    # Breakdowns as an object, "Product Charges" > "Principle", "Released".
    raw = refund(
        [
            item(
                "81297625-121-27551",
                "sku-12",
                [node("Product Charges", -10, node("Principle", -10, currency="EUR"))],
                total=-10,
            )
        ],
        -10,
        transactionStatus="Released",
    )
    raw["breakdowns"] = {
        "breakdowns": [node("Sales", -10, node("Product Charges", -10))]
    }
    parsed = parse_refund(raw)
    assert parsed.status == "RELEASED"
    assert parsed.refunded == Decimal("10")
    assert parsed.items[0].lines[0].kind == "PRINCIPAL"


def test_unknown_breakdown_types_are_kept():
    raw = refund(
        [
            item(
                "A1",
                "MUG-1",
                [
                    node(
                        "ProductCharges",
                        -12.00,
                        node("OurPricePrincipal", -10.00),
                        node("NewCharge", -2.00),
                    ),
                    node("AmazonFees", 0.50, node("MysteryFee", 0.50)),
                    node("Surprise", -1.25),
                    node(
                        "Shipping", -4.00, node("Principal", -3.36), node("Tax", -0.64)
                    ),
                ],
                total=-16.75,
            )
        ],
        -16.75,
        summary=[
            node(
                "Sales",
                -17.25,
                node("ProductCharges", -12.00),
                node("Shipping", -4.00),
                node("Surprise", -1.25),
            ),
            node("Expenses", 0.50, node("AmazonFees", 0.50)),
        ],
    )
    parsed = parse_refund(raw)
    lines = {line.amazon_type: line for line in parsed.items[0].lines}
    assert (lines["NewCharge"].kind, lines["NewCharge"].side) == ("OTHER", BUYER)
    assert (lines["MysteryFee"].kind, lines["MysteryFee"].side) == ("OTHER", AMAZON)
    assert (lines["Surprise"].kind, lines["Surprise"].side) == ("OTHER", UNKNOWN)
    assert (lines["Principal"].kind, lines["Tax"].kind) == ("SHIPPING", "SHIPPING_TAX")
    assert parsed.has_unknown
    assert parsed.unknown_total == Decimal("-1.25")
    assert parsed.refunded == Decimal("16.00")
    assert (
        parsed.total == parsed.buyer_total + parsed.amazon_total + parsed.unknown_total
    )
    keys = parsed.keys()
    assert len(keys) == len(set(keys)) == 6


def test_refunds_that_do_not_add_up_are_refused():
    good = refund([simple_item()], -17.59)
    assert parse_refund(good).refunded == Decimal("19.99")
    cases = []
    wrong_item = copy.deepcopy(good)
    wrong_item["items"][0]["totalAmount"] = money(-18.59)
    cases.append((wrong_item, "its breakdowns add up to -17.59, its total is -18.59"))
    wrong_total = copy.deepcopy(good)
    wrong_total["totalAmount"] = money(-19.99)
    cases.append((wrong_total, "its items add up to -17.59, its total is -19.99"))
    wrong_summary = refund(
        [simple_item()],
        -17.59,
        summary=[
            node("Sales", -20.99, node("ProductCharges", -17.80), node("Tax", -3.19))
        ],
    )
    cases.append((wrong_summary, "summary gives productcharges -17.8"))
    wrong_fee = copy.deepcopy(good)
    wrong_fee["items"][0]["breakdowns"][2]["breakdowns"][0]["breakdownAmount"] = money(
        3.50
    )
    cases.append((wrong_fee, "Commission is 3.5 while its parts add up to 3.0"))
    no_order = copy.deepcopy(good)
    no_order["relatedIdentifiers"] = no_order["relatedIdentifiers"][1:]
    cases.append((no_order, "names no order"))
    no_items = refund([], 0)
    cases.append((no_items, "lists no item"))
    text_amount = copy.deepcopy(good)
    text_amount["items"][0]["breakdowns"][0]["breakdowns"][0]["breakdownAmount"] = (
        money("abc")
    )
    cases.append((text_amount, "'abc' is not a number"))
    other_currency = copy.deepcopy(good)
    other_currency["items"][0]["breakdowns"][1]["breakdowns"][0]["breakdownAmount"] = (
        money(-3.19, "USD")
    )
    cases.append((other_currency, "is in USD while the refund is in EUR"))
    no_breakdowns = copy.deepcopy(good)
    no_breakdowns["items"][0]["breakdowns"] = None
    cases.append((no_breakdowns, "has no breakdowns"))
    twice = refund([simple_item(), simple_item()], -35.18)
    cases.append((twice, "adjustment item id twice"))
    bad_date = copy.deepcopy(good)
    bad_date["postedDate"] = "yesterday"
    cases.append((bad_date, "posted date 'yesterday' is not an ISO 8601 date"))
    for raw, text in cases:
        with pytest.raises(MalformedTransaction) as caught:
            parse_refund(raw)
        assert text in str(caught.value), (text, str(caught.value))
        assert (
            "R-1" in str(caught.value)
            or "tx-1" in str(caught.value)
            or "without id" in str(caught.value)
        )


def test_a_page_with_bad_refunds_goes_on():
    good = refund([simple_item()], -17.59)
    bad = copy.deepcopy(good)
    bad["totalAmount"] = money(1)
    bad["relatedIdentifiers"][1]["relatedIdentifierValue"] = "R-2"
    shipment = dict(good, transactionType="Shipment")
    refunds, problems = refunds_of([shipment, bad, good])
    assert [r.refund_id for r in refunds] == ["R-1"]
    [(transaction, error)] = problems
    assert transaction is bad
    assert "R-2" in str(error)
