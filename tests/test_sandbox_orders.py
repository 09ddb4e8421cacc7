"""Orders API 2026-01-01 in the sandbox, driven through the real sp_api client."""

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sandbox.marketplaces import CODE_TO_ID
from sandbox.ops.orders import INCLUDED_DATA, ITEM_DATA_SETS, ORDER_DATA_SETS
from sp_api.api import OrdersV20260101
from sp_api.base import SellingApiBadRequestException, SellingApiNotFoundException

US, UK, DE, FR, IT, ES, JP, CA = (
    CODE_TO_ID[c] for c in ("US", "UK", "DE", "FR", "IT", "ES", "JP", "CA")
)
ALL = ",".join([US, CA, UK, DE, FR, IT, ES, JP])
EPOCH = "2000-01-01T00:00:00Z"


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def orders(sandbox):
    return sandbox.seed_orders(1, 250)


@pytest.fixture
def client(sp_client):
    return sp_client(OrdersV20260101)


def test_pagination_returns_every_order_once(orders, client, search_all):
    found, responses = search_all(
        client, lastUpdatedAfter=EPOCH, marketplaceIds=ALL, maxResultsPerPage=100
    )
    assert [len(r.payload["orders"]) for r in responses] == [100, 100, 50]
    ids = [order["orderId"] for order in found]
    assert len(ids) == len(set(ids)) == 250
    assert set(ids) == {order["orderId"] for order in orders}
    assert responses[-1].pagination is None
    assert all(r.pagination["nextToken"] for r in responses[:-1])
    bound = {r.payload["lastUpdatedBefore"] for r in responses}
    assert len(bound) == 1


def test_results_sorted_by_the_searched_time(orders, client, search_all):
    by_update, _ = search_all(client, lastUpdatedAfter=EPOCH, marketplaceIds=ALL)
    keys = [(o["lastUpdatedTime"], o["orderId"]) for o in by_update]
    assert keys == sorted(keys)
    by_creation, responses = search_all(client, createdAfter=EPOCH, marketplaceIds=ALL)
    keys = [(o["createdTime"], o["orderId"]) for o in by_creation]
    assert keys == sorted(keys)
    assert "createdBefore" in responses[0].payload
    assert "lastUpdatedBefore" not in responses[0].payload


def test_default_page_size_is_100_and_smaller_pages_work(orders, client, search_all):
    first = client.search_orders(createdAfter=EPOCH, marketplaceIds=ALL)
    assert len(first.payload["orders"]) == 100
    found, responses = search_all(
        client, createdAfter=EPOCH, marketplaceIds=ALL, maxResultsPerPage=24
    )
    assert len(responses) == 11
    assert len({o["orderId"] for o in found}) == 250


def test_page_size_and_included_data_may_change_between_pages(orders, client):
    first = client.search_orders(
        createdAfter=EPOCH, marketplaceIds=ALL, maxResultsPerPage=10
    )
    second = client.search_orders(
        createdAfter=EPOCH,
        marketplaceIds=ALL,
        maxResultsPerPage=30,
        includedData="BUYER",
        paginationToken=first.next_token,
    )
    assert len(second.payload["orders"]) == 30
    ids_first = {o["orderId"] for o in first.payload["orders"]}
    assert not ids_first & {o["orderId"] for o in second.payload["orders"]}
    assert any("buyer" in o for o in second.payload["orders"])


def test_token_must_come_with_the_same_filters(orders, client):
    first = client.search_orders(
        createdAfter=EPOCH, marketplaceIds=ALL, maxResultsPerPage=10
    )
    with pytest.raises(SellingApiBadRequestException) as caught:
        client.search_orders(
            createdAfter=EPOCH, marketplaceIds=US, paginationToken=first.next_token
        )
    assert caught.value.amzn_code == "InvalidInput"
    with pytest.raises(SellingApiBadRequestException):
        client.search_orders(
            createdAfter=EPOCH, marketplaceIds=ALL, paginationToken="forged-token"
        )


def test_pages_stay_stable_while_orders_change(sandbox, orders, client, search_all):
    before = iso(datetime.now(timezone.utc) - timedelta(seconds=2))
    first = client.search_orders(
        lastUpdatedAfter=EPOCH,
        lastUpdatedBefore=before,
        marketplaceIds=ALL,
        maxResultsPerPage=100,
    )
    seen = {o["orderId"] for o in first.payload["orders"]}
    pending = [
        o
        for o in orders
        if o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
        and o["orderId"] not in seen
    ]
    sandbox.cancel_order(pending[0]["orderId"])
    rest, _ = search_all(
        client,
        lastUpdatedAfter=EPOCH,
        lastUpdatedBefore=before,
        marketplaceIds=ALL,
        paginationToken=first.next_token,
    )
    ids = seen | {o["orderId"] for o in rest}
    assert len(seen) + len(rest) == 249
    assert pending[0]["orderId"] not in ids


@pytest.mark.parametrize(
    "statuses", ["SHIPPED", "UNSHIPPED,PARTIALLY_SHIPPED", "PENDING,CANCELLED"]
)
def test_filter_fulfillment_statuses(orders, client, search_all, statuses):
    found, _ = search_all(
        client,
        createdAfter=EPOCH,
        marketplaceIds=ALL,
        fulfillmentStatuses=statuses,
        includedData="FULFILLMENT",
    )
    wanted = set(statuses.split(","))
    expected = {
        o["orderId"] for o in orders if o["fulfillment"]["fulfillmentStatus"] in wanted
    }
    assert expected
    assert {o["orderId"] for o in found} == expected
    assert all(o["fulfillment"]["fulfillmentStatus"] in wanted for o in found)


@pytest.mark.parametrize("fulfilled_by", ["AMAZON", "MERCHANT", "AMAZON,MERCHANT"])
def test_filter_fulfilled_by(orders, client, search_all, fulfilled_by):
    found, _ = search_all(
        client, createdAfter=EPOCH, marketplaceIds=ALL, fulfilledBy=fulfilled_by
    )
    wanted = set(fulfilled_by.split(","))
    expected = {
        o["orderId"] for o in orders if o["fulfillment"]["fulfilledBy"] in wanted
    }
    assert {o["orderId"] for o in found} == expected


@pytest.mark.parametrize("marketplaces", [[DE], [US, JP], [UK, FR, IT, ES]])
def test_filter_marketplaces(orders, client, search_all, marketplaces):
    found, _ = search_all(
        client, createdAfter=EPOCH, marketplaceIds=",".join(marketplaces)
    )
    expected = {
        o["orderId"]
        for o in orders
        if o["salesChannel"]["marketplaceId"] in marketplaces
    }
    assert expected
    assert {o["orderId"] for o in found} == expected


def test_sp_api_default_marketplace_limits_search_to_us(orders, client, search_all):
    found, _ = search_all(client, createdAfter=EPOCH)
    assert found
    assert {o["salesChannel"]["marketplaceId"] for o in found} == {US}


def test_filter_time_windows(orders, client, search_all):
    created = sorted(parse(o["createdTime"]) for o in orders)
    after, before = created[50], created[150]
    found, responses = search_all(
        client, createdAfter=iso(after), createdBefore=iso(before), marketplaceIds=ALL
    )
    expected = {
        o["orderId"] for o in orders if after <= parse(o["createdTime"]) <= before
    }
    assert {o["orderId"] for o in found} == expected
    assert responses[0].payload["createdBefore"] == iso(before)

    updated = sorted(parse(o["lastUpdatedTime"]) for o in orders)
    after, before = updated[100], updated[200]
    found, responses = search_all(
        client,
        lastUpdatedAfter=iso(after),
        lastUpdatedBefore=iso(before),
        marketplaceIds=ALL,
    )
    expected = {
        o["orderId"] for o in orders if after <= parse(o["lastUpdatedTime"]) <= before
    }
    assert {o["orderId"] for o in found} == expected
    assert responses[0].payload["lastUpdatedBefore"] == iso(before)


def test_bound_defaults_to_now_minus_settle_and_is_echoed(
    sandbox, orders, client, clock
):
    sandbox.settle_seconds = 120
    start = clock.now()
    response = client.search_orders(lastUpdatedAfter=EPOCH, marketplaceIds=ALL)
    bound = parse(response.payload["lastUpdatedBefore"])
    assert bound == start - timedelta(seconds=120)
    with pytest.raises(SellingApiBadRequestException):
        client.search_orders(
            lastUpdatedAfter=EPOCH,
            marketplaceIds=ALL,
            lastUpdatedBefore=iso(start - timedelta(seconds=30)),
        )
    with pytest.raises(SellingApiBadRequestException):
        client.search_orders(
            lastUpdatedAfter=iso(start - timedelta(seconds=30)), marketplaceIds=ALL
        )


def test_orders_newer_than_the_settle_window_wait(sandbox, orders, client, search_all):
    sandbox.settle_seconds = 120
    fresh = next(
        o for o in orders if o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    )
    sandbox.ship_order(fresh["orderId"])
    found, _ = search_all(client, lastUpdatedAfter=EPOCH, marketplaceIds=ALL)
    assert fresh["orderId"] not in {o["orderId"] for o in found}
    sandbox.settle_seconds = 0
    found, _ = search_all(client, lastUpdatedAfter=EPOCH, marketplaceIds=ALL)
    assert fresh["orderId"] in {o["orderId"] for o in found}


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({}, "Exactly one of createdAfter and lastUpdatedAfter"),
        ({"createdAfter": EPOCH, "lastUpdatedAfter": EPOCH}, "Exactly one"),
        ({"createdAfter": EPOCH, "lastUpdatedBefore": EPOCH}, "lastUpdatedBefore"),
        ({"lastUpdatedAfter": EPOCH, "createdBefore": EPOCH}, "createdBefore"),
        (
            {
                "createdAfter": "2025-02-01T00:00:00Z",
                "createdBefore": "2025-01-01T00:00:00Z",
            },
            "createdBefore",
        ),
        ({"createdAfter": "yesterday"}, "ISO 8601"),
        ({"createdAfter": EPOCH, "maxResultsPerPage": 0}, "maxResultsPerPage"),
        ({"createdAfter": EPOCH, "maxResultsPerPage": 101}, "maxResultsPerPage"),
        ({"createdAfter": EPOCH, "maxResultsPerPage": "ten"}, "maxResultsPerPage"),
        (
            {"createdAfter": EPOCH, "fulfillmentStatuses": "SHIPPED,SENT"},
            "fulfillmentStatuses",
        ),
        ({"createdAfter": EPOCH, "fulfilledBy": "SELLER"}, "fulfilledBy"),
        ({"createdAfter": EPOCH, "includedData": "BUYER,EVERYTHING"}, "includedData"),
        ({"createdAfter": EPOCH, "marketplaceIds": "NOTAMARKETPLACE"}, "marketplace"),
        (
            {"createdAfter": EPOCH, "marketplaceIds": "A1C3SOZRARQ6R3"},
            "does not participate",
        ),
    ],
)
def test_bad_parameters_are_invalid_input(sandbox, client, params, fragment):
    params = dict(params)
    params.setdefault("marketplaceIds", US)
    with pytest.raises(SellingApiBadRequestException) as caught:
        client.search_orders(**params)
    assert caught.value.amzn_code == "InvalidInput"
    assert fragment in caught.value.message
    error = caught.value.error[0]
    assert set(error) == {"code", "message", "details"}
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "5.6"


def _item_keys(order):
    return set().union(*(item.keys() for item in order["orderItems"]))


def test_without_included_data_only_the_base_shape(orders, client, search_all):
    found, _ = search_all(client, createdAfter=EPOCH, marketplaceIds=ALL)
    base = {
        "orderId",
        "orderAliases",
        "createdTime",
        "lastUpdatedTime",
        "programs",
        "associatedOrders",
        "salesChannel",
        "orderItems",
    }
    for order in found:
        assert set(order) <= base
        assert _item_keys(order) <= {
            "orderItemId",
            "quantityOrdered",
            "measurement",
            "associatedOrderItems",
            "programs",
            "product",
        }


@pytest.mark.parametrize("data_set", INCLUDED_DATA)
def test_each_data_set_alone(sandbox, orders, client, search_all, data_set):
    found, _ = search_all(
        client, createdAfter=EPOCH, marketplaceIds=ALL, includedData=data_set
    )
    full = {o["orderId"]: o for o in orders}
    order_keys = {key for key, name in ORDER_DATA_SETS.items() if name == data_set}
    item_keys = {key for key, name in ITEM_DATA_SETS.items() if name == data_set}
    other_order = set(ORDER_DATA_SETS) - order_keys
    other_item = set(ITEM_DATA_SETS) - item_keys
    present = 0
    for order in found:
        stored = full[order["orderId"]]
        assert not set(order) & other_order
        assert not _item_keys(order) & other_item
        for key in order_keys:
            assert order.get(key) == stored.get(key)
            present += key in order
        for got, want in zip(order["orderItems"], stored["orderItems"], strict=True):
            for key in item_keys:
                assert got.get(key) == want.get(key)
                present += key in got
    assert present, f"no order of the seed carries {data_set}"


def test_all_data_sets_give_the_stored_order(orders, client, search_all):
    found, _ = search_all(
        client,
        createdAfter=EPOCH,
        marketplaceIds=ALL,
        includedData=",".join(INCLUDED_DATA),
    )
    full = {o["orderId"]: o for o in orders}
    for order in found:
        assert order == full[order["orderId"]]


def test_get_order(sandbox, orders, client):
    order = orders[17]
    response = client.get_order(order["orderId"], includedData="BUYER,RECIPIENT")
    got = response.payload["order"]
    assert got["orderId"] == order["orderId"]
    assert got.get("buyer") == order.get("buyer")
    assert "proceeds" not in got
    full = client.get_order(order["orderId"], includedData=",".join(INCLUDED_DATA))
    assert full.payload["order"] == sandbox.get_order_data(order["orderId"])
    assert response.headers["x-amzn-RateLimit-Limit"] == "500"


def test_get_unknown_order_is_not_found(orders, client):
    with pytest.raises(SellingApiNotFoundException) as caught:
        client.get_order("999-0000000-0000000")
    assert caught.value.amzn_code == "NotFound"
    with pytest.raises(SellingApiBadRequestException):
        client.get_order("TEST_CASE_400")


def test_list_parameters_repeated_or_comma_separated(
    sandbox, orders, client, search_all
):
    by_comma, _ = search_all(
        client,
        createdAfter=EPOCH,
        marketplaceIds=f"{DE},{FR}",
        fulfillmentStatuses="SHIPPED,CANCELLED",
    )
    token = client.auth.access_token
    url = f"{sandbox.url}/orders/2026-01-01/orders"
    params = [
        ("createdAfter", EPOCH),
        ("marketplaceIds", DE),
        ("marketplaceIds", FR),
        ("fulfillmentStatuses", "SHIPPED"),
        ("fulfillmentStatuses", "CANCELLED"),
    ]
    answer = httpx.get(url, params=params, headers={"x-amz-access-token": token})
    assert answer.status_code == 200
    repeated = answer.json()["orders"]
    assert [o["orderId"] for o in repeated] == [o["orderId"] for o in by_comma]
    assert sandbox.calls[-1][2]["marketplaceIds"] == [DE, FR]


def test_cancelled_order_shows_again_after_the_cursor(
    sandbox, orders, client, search_all
):
    found, responses = search_all(
        client,
        lastUpdatedAfter=EPOCH,
        marketplaceIds=ALL,
        includedData="FULFILLMENT,CANCELLATION",
    )
    assert len(found) == 250
    cursor = responses[-1].payload["lastUpdatedBefore"]
    again, _ = search_all(client, lastUpdatedAfter=cursor, marketplaceIds=ALL)
    previously = {o["orderId"] for o in again}

    target = next(
        o
        for o in orders
        if o["fulfillment"]["fulfilledBy"] == "AMAZON"
        and o["fulfillment"]["fulfillmentStatus"] == "PENDING"
    )
    changed = sandbox.cancel_order(target["orderId"])
    assert changed["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    assert parse(changed["lastUpdatedTime"]) >= parse(cursor)

    later, _ = search_all(
        client,
        lastUpdatedAfter=cursor,
        marketplaceIds=ALL,
        includedData="FULFILLMENT,CANCELLATION",
    )
    news = {o["orderId"]: o for o in later}
    assert set(news) - previously == {target["orderId"]}
    order = news[target["orderId"]]
    assert order["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    for item in order["orderItems"]:
        assert item["cancellation"]["cancellationExecution"]["cancelledBy"] == "BUYER"
        assert item["fulfillment"]["quantityFulfilled"] == 0


def test_ship_order_adds_package_for_merchant_orders(sandbox, orders, client):
    target = next(
        o
        for o in orders
        if o["fulfillment"]["fulfilledBy"] == "MERCHANT"
        and o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    )
    sandbox.ship_order(
        target["orderId"], carrier="UPS", tracking_number="1Z999AA10123456784"
    )
    got = client.get_order(target["orderId"], includedData="FULFILLMENT,PACKAGES")
    order = got.payload["order"]
    assert order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    package = order["packages"][-1]
    assert package["carrier"] == "UPS"
    assert package["trackingNumber"] == "1Z999AA10123456784"
    shipped = {p["orderItemId"]: p["quantity"] for p in package["packageItems"]}
    for item in order["orderItems"]:
        assert item["fulfillment"]["quantityFulfilled"] == item["quantityOrdered"]
        assert item["fulfillment"]["quantityUnfulfilled"] == 0
        assert shipped[item["orderItemId"]] == item["quantityOrdered"]
    with pytest.raises(ValueError):
        sandbox.cancel_order(target["orderId"])


def test_update_order_changes_fields_and_status(sandbox, orders):
    target = next(
        o for o in orders if o["fulfillment"]["fulfillmentStatus"] == "PENDING"
    )
    changed = sandbox.update_order(
        target["orderId"], status="UNSHIPPED", buyer={"buyerName": "Renamed Buyer"}
    )
    assert changed["buyer"] == {"buyerName": "Renamed Buyer"}
    assert changed["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert parse(changed["lastUpdatedTime"]) > parse(target["lastUpdatedTime"])
    assert sandbox.get_order_data(target["orderId"]) == changed


def test_corrupted_orders_are_served_as_stored(sandbox, orders, client, search_all):
    broken = orders[3]["orderId"]
    wrong_money = orders[4]["orderId"]
    foreign = orders[5]["orderId"]

    def drop_items(order):
        del order["orderItems"]

    def bad_amount(order):
        order["proceeds"]["grandTotal"]["amount"] = "12,34 EUR"

    sandbox.corrupt_order(broken, drop_items)
    sandbox.corrupt_order(wrong_money, bad_amount)
    sandbox.corrupt_order(
        foreign,
        lambda order: {
            **order,
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": "AXXXXXXXXXXXX"},
        },
    )
    found, _ = search_all(
        client, lastUpdatedAfter=EPOCH, marketplaceIds=ALL, includedData="PROCEEDS"
    )
    by_id = {o["orderId"]: o for o in found}
    assert "orderItems" not in by_id[broken]
    assert by_id[wrong_money]["proceeds"]["grandTotal"]["amount"] == "12,34 EUR"
    assert foreign not in by_id
    got = client.get_order(foreign)
    assert got.payload["order"]["salesChannel"]["marketplaceId"] == "AXXXXXXXXXXXX"
