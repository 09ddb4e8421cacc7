"""Orders v0 confirmShipment in the sandbox, driven through the real sp_api client."""

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4
from sandbox.marketplaces import CODE_TO_ID
from sandbox.ops.shipments import (
    CARRIER_CODES,
    REQUEST_SCHEMA,
    ROUTES,
    load_request_schema,
    parse_date_time,
    schema_errors,
)
from sp_api.api import Orders, OrdersV20260101
from sp_api.base import (
    SellingApiBadRequestException,
    SellingApiForbiddenException,
    SellingApiNotFoundException,
    SellingApiRequestThrottledException,
    SellingApiTemporarilyUnavailableException,
)

US, JP = CODE_TO_ID["US"], CODE_TO_ID["JP"]
ALL = ",".join(
    CODE_TO_ID[code] for code in ("US", "CA", "UK", "DE", "FR", "IT", "ES", "JP")
)
CONFIRM = "confirmShipment"
SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
CONFIRM_PATH = "/orders/v0/orders/{orderId}/shipmentConfirmation"
# Properties of OrderPackage and PackageItem in Orders 2026-01-01.
PACKAGE_PROPERTIES = {
    "packageReferenceId",
    "createdTime",
    "packageStatus",
    "carrier",
    "shipTime",
    "shippingService",
    "trackingNumber",
    "shipFromAddress",
    "packageItems",
}
PACKAGE_ITEM_PROPERTIES = {"orderItemId", "quantity", "transparencyCodes"}

# The x-amzn-api-sandbox requests of confirmShipment in Amazon's Orders v0
# model: the first is answered 204, the second 400 "Invalid Input" (its
# shipDate is not a date-time).
MODEL_ORDER_ID = "902-1106328-1059050"
MODEL_ITEM_ID = "79039765272157"
MODEL_SUCCESS_BODY = {
    "marketplaceId": "ATVPDKIKX0DER",
    "packageDetail": {
        "packageReferenceId": "1",
        "carrierCode": "FedEx",
        "carrierName": "FedEx",
        "shippingMethod": "FedEx Ground",
        "trackingNumber": "112345678",
        "shipDate": "2022-02-11T01:00:00.000Z",
        "shipFromSupplySourceId": "057d3fcc-b750-419f-bbcd-4d340c60c430",
        "orderItems": [
            {
                "orderItemId": MODEL_ITEM_ID,
                "quantity": 1,
                "transparencyCodes": ["09876543211234567890"],
            }
        ],
    },
}
MODEL_INVALID_BODY = copy.deepcopy(MODEL_SUCCESS_BODY)
MODEL_INVALID_BODY["packageDetail"]["shipDate"] = "02/21/2022"


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Schemas:
    """A schema file of tests/schemas whose $refs resolve inside the file."""

    def __init__(self, name):
        self.document = json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))
        self.uri = f"urn:sp-api-schema:{name}"
        self.registry = Registry().with_resource(
            self.uri, DRAFT4.create_resource(self.document)
        )

    def validator(self, definition):
        return Draft4Validator(
            {"$ref": f"{self.uri}#/definitions/{definition}"},
            registry=self.registry,
            format_checker=Draft4Validator.FORMAT_CHECKER,
        )


def assert_valid(validator, instance):
    errors = [
        f"{'/'.join(map(str, error.path))}: {error.message[:200]}"
        for error in validator.iter_errors(instance)
    ]
    assert not errors, errors


@pytest.fixture(scope="module")
def orders_v0():
    return Schemas("ordersV0.json")


@pytest.fixture(scope="module")
def orders_2026():
    return Schemas("orders_2026-01-01.json")


@pytest.fixture
def orders(sandbox):
    return sandbox.seed_orders(4, 300)


@pytest.fixture
def client(sp_client):
    return sp_client(Orders)


@pytest.fixture
def reader(sp_client):
    return sp_client(OrdersV20260101)


def pick(orders, status="UNSHIPPED", by="MERCHANT", items=1, units=1, market=None):
    """The first order with that status and channel, at least `items` items
    and an item of at least `units` units."""
    for order in orders:
        fulfillment = order["fulfillment"]
        if (
            fulfillment["fulfillmentStatus"] == status
            and fulfillment["fulfilledBy"] == by
            and len(order["orderItems"]) >= items
            and max(i["quantityOrdered"] for i in order["orderItems"]) >= units
            and market in (None, order["salesChannel"]["marketplaceId"])
        ):
            return order
    raise AssertionError(f"no {status} {by} order with {items} items, {units} units")


def lines(order, quantities=None):
    """orderItems lines; quantities: units per item id (default: all ordered)."""
    result = []
    for item in order["orderItems"]:
        units = (quantities or {}).get(item["orderItemId"], item["quantityOrdered"])
        if units:
            result.append({"orderItemId": item["orderItemId"], "quantity": units})
    return result


def body(order, reference="1", items=None, **detail):
    package = {
        "packageReferenceId": reference,
        "carrierCode": "UPS",
        "shippingMethod": "UPS Ground",
        "trackingNumber": f"1Z999AA1012345678{reference}",
        "shipDate": "2026-01-20T10:00:00Z",
        "orderItems": lines(order) if items is None else items,
    }
    package.update(detail)
    return {
        "marketplaceId": order["salesChannel"]["marketplaceId"],
        "packageDetail": package,
    }


def confirm(client, order, **kwargs):
    return client.confirm_shipment(order["orderId"], **body(order, **kwargs))


def refused(client, order_id, request_body, exception=SellingApiBadRequestException):
    with pytest.raises(exception) as caught:
        client.confirm_shipment(order_id, **request_body)
    return caught.value


def fetched(reader, order):
    return reader.get_order(
        order["orderId"], includedData="PACKAGES,FULFILLMENT"
    ).payload["order"]


def assert_unchanged(sandbox, order):
    stored = sandbox.get_order_data(order["orderId"])
    assert stored.get("packages") == order.get("packages")
    assert stored["fulfillment"] == order["fulfillment"]
    assert stored["lastUpdatedTime"] == order["lastUpdatedTime"]
    assert sandbox.confirmations_of(order["orderId"]) == []


# accepted confirmations ----------------------------------------------------------


def test_full_confirmation_ships_the_order(
    sandbox, orders, client, reader, orders_2026
):
    order = pick(orders, items=2)
    before = sandbox.now().replace(microsecond=0)
    response = confirm(
        client,
        order,
        shipDate="2026-01-20T10:00:00.000+01:00",
        shipFromSupplySourceId="057d3fcc-b750-419f-bbcd-4d340c60c430",
    )
    assert response.payload == {"status_code": 204}
    assert response.headers["x-amzn-RateLimit-Limit"] == "2000"
    assert sandbox.calls[-1][:2] == (CONFIRM, 204)

    shown = fetched(reader, order)
    assert_valid(orders_2026.validator("Order"), shown)
    assert shown["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert parse(shown["lastUpdatedTime"]) >= before
    for item in shown["orderItems"]:
        assert item["fulfillment"]["quantityFulfilled"] == item["quantityOrdered"]
        assert item["fulfillment"]["quantityUnfulfilled"] == 0
    [package] = shown["packages"]
    assert set(package) <= PACKAGE_PROPERTIES
    assert package["packageReferenceId"] == "1"
    assert package["carrier"] == "UPS"
    assert package["shippingService"] == "UPS Ground"
    assert package["trackingNumber"] == "1Z999AA10123456781"
    assert package["shipTime"] == "2026-01-20T09:00:00Z"
    assert package["packageStatus"] == {"status": "SHIPPED"}
    assert package["createdTime"] == shown["lastUpdatedTime"]
    assert package["shipFromAddress"]["countryCode"]
    assert package["packageItems"] == lines(order)
    assert sandbox.packages_of(order["orderId"]) == shown["packages"]

    without = reader.get_order(order["orderId"]).payload["order"]
    assert "packages" not in without and "fulfillment" not in without


def test_partial_confirmation(sandbox, orders, client, reader):
    order = pick(orders, units=2)
    item = max(order["orderItems"], key=lambda i: i["quantityOrdered"])
    shipped = {i["orderItemId"]: 0 for i in order["orderItems"]}
    shipped[item["orderItemId"]] = 1
    confirm(client, order, items=lines(order, shipped))
    shown = fetched(reader, order)
    assert shown["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
    quantities = {
        i["orderItemId"]: (
            i["fulfillment"]["quantityFulfilled"],
            i["fulfillment"]["quantityUnfulfilled"],
        )
        for i in shown["orderItems"]
    }
    for other in order["orderItems"]:
        done = shipped[other["orderItemId"]]
        assert quantities[other["orderItemId"]] == (
            done,
            other["quantityOrdered"] - done,
        )


def test_two_packages_ship_the_order(sandbox, orders, client, reader, orders_2026):
    order = pick(orders, items=2)
    first, *rest = order["orderItems"]
    confirm(
        client,
        order,
        reference="1",
        items=lines(order, {i["orderItemId"]: 0 for i in rest}),
    )
    assert fetched(reader, order)["fulfillment"]["fulfillmentStatus"] == (
        "PARTIALLY_SHIPPED"
    )
    confirm(
        client,
        order,
        reference="2",
        items=lines(order, {first["orderItemId"]: 0}),
        carrierCode="FedEx",
        trackingNumber="794612345678",
    )
    shown = fetched(reader, order)
    assert_valid(orders_2026.validator("Order"), shown)
    assert shown["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    packages = shown["packages"]
    assert [p["packageReferenceId"] for p in packages] == ["1", "2"]
    assert [p["carrier"] for p in packages] == ["UPS", "FedEx"]
    assert [p["trackingNumber"] for p in packages] == [
        "1Z999AA10123456781",
        "794612345678",
    ]
    assert packages[0]["packageItems"] == [
        {"orderItemId": first["orderItemId"], "quantity": first["quantityOrdered"]}
    ]


def test_resending_a_package_reference_replaces_it(sandbox, orders, client, reader):
    order = pick(orders, units=2)
    confirm(client, order, trackingNumber="FIRST")
    created = sandbox.packages_of(order["orderId"])[0]["createdTime"]
    confirm(client, order, trackingNumber="SECOND", carrierCode="DHL")
    [package] = sandbox.packages_of(order["orderId"])
    assert package["trackingNumber"] == "SECOND"
    assert package["carrier"] == "DHL"
    assert package["createdTime"] == created
    shown = fetched(reader, order)
    assert shown["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert all(
        i["fulfillment"]["quantityFulfilled"] == i["quantityOrdered"]
        for i in shown["orderItems"]
    )

    item = max(order["orderItems"], key=lambda i: i["quantityOrdered"])
    fewer = {item["orderItemId"]: item["quantityOrdered"] - 1}
    confirm(client, order, items=lines(order, fewer), trackingNumber="THIRD")
    shown = fetched(reader, order)
    assert len(shown["packages"]) == 1
    assert shown["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
    kept = sandbox.confirmations_of(order["orderId"])
    tracking = [c["body"]["packageDetail"]["trackingNumber"] for c in kept]
    assert tracking == ["FIRST", "SECOND", "THIRD"]


def test_other_carrier_with_its_name(sandbox, orders, client):
    order = pick(orders)
    confirm(client, order, carrierCode="Other", carrierName="Kurierdienst Nord")
    assert sandbox.packages_of(order["orderId"])[0]["carrier"] == "Kurierdienst Nord"
    [kept] = sandbox.confirmations_of(order["orderId"])
    assert kept["body"] == body(
        order, carrierCode="Other", carrierName="Kurierdienst Nord"
    )


@pytest.mark.parametrize(
    "code",
    [
        "DHL",
        "DHL eCommerce",
        "Deutsche Post",
        "DPD",
        "USPS",
        "Royal Mail",
        "Hermes",
        "GLS",
        "Japan Post",
        "YamatoTransport",
        "SagawaExpress",
        "Correios",
        "Canada Post",
        "La Poste",
        "Chronopost",
        "Colissimo",
        "Poste Italiane",
        "SEUR",
        "Correos",
    ],
)
def test_amazon_carrier_codes_are_accepted(sandbox, orders, client, code):
    assert code in CARRIER_CODES
    order = pick(orders)
    confirm(client, order, carrierCode=code)
    assert sandbox.packages_of(order["orderId"])[0]["carrier"] == code


def test_transparency_codes_are_kept(sandbox, orders, client, reader):
    order = pick(orders)
    items = lines(order)
    items[0]["transparencyCodes"] = ["AZ:1234567890ABCDEF"]
    confirm(client, order, items=items)
    package = fetched(reader, order)["packages"][0]
    assert package["packageItems"][0]["transparencyCodes"] == ["AZ:1234567890ABCDEF"]
    assert all(set(line) <= PACKAGE_ITEM_PROPERTIES for line in package["packageItems"])


def test_cash_on_delivery_in_japan(sandbox, client):
    orders = sandbox.seed_orders(9, 80, marketplaces=["JP"])
    order = pick(orders, market=JP)
    request = body(order, carrierCode="YamatoTransport")
    request["codCollectionMethod"] = "DirectPayment"
    client.confirm_shipment(order["orderId"], **request)
    assert sandbox.packages_of(order["orderId"])[0]["carrier"] == "YamatoTransport"


def test_search_by_last_update_finds_the_confirmed_order(
    sandbox, orders, client, reader, search_all
):
    order = pick(orders)
    since = iso(sandbox.now())
    assert search_all(reader, lastUpdatedAfter=since, marketplaceIds=ALL)[0] == []
    confirm(client, order)
    found, _ = search_all(
        reader,
        lastUpdatedAfter=since,
        marketplaceIds=ALL,
        includedData="PACKAGES,FULFILLMENT",
    )
    assert [o["orderId"] for o in found] == [order["orderId"]]
    assert found[0]["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert found[0]["packages"][0]["trackingNumber"] == "1Z999AA10123456781"
    shipped, _ = search_all(
        reader,
        lastUpdatedAfter=since,
        marketplaceIds=ALL,
        fulfillmentStatuses="SHIPPED",
    )
    assert [o["orderId"] for o in shipped] == [order["orderId"]]


# refusals ------------------------------------------------------------------------


def test_more_units_than_ordered_are_refused(sandbox, orders, client):
    order = pick(orders)
    items = lines(order)
    items[0]["quantity"] += 1
    error = refused(client, order["orderId"], body(order, items=items))
    assert error.amzn_code == "Invalid Input"
    assert "ordered" in error.message
    assert error.error[0]["details"] == "packageDetail.orderItems[0].quantity"
    assert_unchanged(sandbox, order)


def test_more_units_than_ordered_across_packages_are_refused(sandbox, orders, client):
    order = pick(orders)
    confirm(client, order, reference="1")
    shipped = sandbox.get_order_data(order["orderId"])
    error = refused(client, order["orderId"], body(order, reference="2"))
    assert error.amzn_code == "Invalid Input"
    assert sandbox.get_order_data(order["orderId"]) == shipped


def test_fba_order_is_refused(sandbox, orders, client):
    order = pick(orders, status="SHIPPED", by="AMAZON")
    error = refused(client, order["orderId"], body(order))
    assert error.amzn_code == "Invalid Input"
    assert "fulfilled by Amazon" in error.message
    assert_unchanged(sandbox, order)


def test_cancelled_order_is_refused(sandbox, orders, client):
    order = pick(orders)
    cancelled = sandbox.cancel_order(order["orderId"])
    error = refused(client, order["orderId"], body(order))
    assert error.amzn_code == "Invalid Input"
    assert "cancelled" in error.message
    assert_unchanged(sandbox, cancelled)


def test_pending_order_is_refused(sandbox, orders, client):
    order = pick(orders, status="PENDING")
    error = refused(client, order["orderId"], body(order))
    assert error.amzn_code == "Invalid Input"
    assert "PENDING" in error.message
    assert_unchanged(sandbox, order)


def test_unknown_order_is_not_found(orders, client, orders_v0):
    order = pick(orders)
    error = refused(
        client, "111-0000000-0000000", body(order), SellingApiNotFoundException
    )
    assert_valid(
        orders_v0.validator("ConfirmShipmentErrorResponse"), {"errors": error.error}
    )
    assert error.amzn_code == "NotFound"
    assert error.error[0]["details"] == "111-0000000-0000000"


def test_unknown_item_is_refused(sandbox, orders, client):
    order = pick(orders)
    items = [*lines(order), {"orderItemId": "99999999999999", "quantity": 1}]
    error = refused(client, order["orderId"], body(order, items=items))
    assert error.amzn_code == "Invalid Input"
    assert "99999999999999" in error.message
    assert_unchanged(sandbox, order)


def test_item_of_another_order_is_refused(sandbox, orders, client):
    order = pick(orders)
    other = next(o for o in orders if o["orderId"] != order["orderId"])
    error = refused(client, order["orderId"], body(order, items=lines(other)))
    assert error.amzn_code == "Invalid Input"
    assert_unchanged(sandbox, order)


@pytest.mark.parametrize("code", ["DHL Paket", "dhl", "UPS ", "Kurierdienst Nord", ""])
def test_unknown_carrier_code_is_refused(sandbox, orders, client, code):
    order = pick(orders)
    error = refused(client, order["orderId"], body(order, carrierCode=code))
    assert error.amzn_code == "Invalid Input"
    assert error.error[0]["details"] == "packageDetail.carrierCode"
    assert_unchanged(sandbox, order)


@pytest.mark.parametrize("name", [None, "", "  "])
def test_other_carrier_needs_a_name(sandbox, orders, client, name):
    order = pick(orders)
    request = body(order, carrierCode="Other")
    if name is not None:
        request["packageDetail"]["carrierName"] = name
    error = refused(client, order["orderId"], request)
    assert error.amzn_code == "Invalid Input"
    assert error.error[0]["details"] == "packageDetail.carrierName"
    assert_unchanged(sandbox, order)


@pytest.mark.parametrize("reference", ["0", "-1", "abc", "", "1.5", " 1", "00"])
def test_package_reference_must_be_a_positive_number(
    sandbox, orders, client, reference
):
    order = pick(orders)
    error = refused(client, order["orderId"], body(order, reference=reference))
    assert error.amzn_code == "Invalid Input"
    assert "positive numeric" in error.message
    assert_unchanged(sandbox, order)


def test_package_reference_must_be_a_string(sandbox, orders, client):
    order = pick(orders)
    error = refused(client, order["orderId"], body(order, reference=1))
    assert error.amzn_code == "Invalid Input"
    assert "invalid type [packageDetail.packageReferenceId]" in error.message
    assert_unchanged(sandbox, order)


def _without(path):
    def change(request):
        target = request
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


def _setting(path, value):
    def change(request):
        target = request
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


BAD_BODIES = {
    "no marketplaceId": (_without(["marketplaceId"]), "marketplaceId"),
    "no packageDetail": (_without(["packageDetail"]), "packageDetail"),
    "no trackingNumber": (
        _without(["packageDetail", "trackingNumber"]),
        "packageDetail.trackingNumber",
    ),
    "no carrierCode": (
        _without(["packageDetail", "carrierCode"]),
        "packageDetail.carrierCode",
    ),
    "no shipDate": (_without(["packageDetail", "shipDate"]), "packageDetail.shipDate"),
    "no orderItems": (
        _without(["packageDetail", "orderItems"]),
        "packageDetail.orderItems",
    ),
    "no orderItemId": (
        _without(["packageDetail", "orderItems", 0, "orderItemId"]),
        "packageDetail.orderItems[0].orderItemId",
    ),
    "no quantity": (
        _without(["packageDetail", "orderItems", 0, "quantity"]),
        "packageDetail.orderItems[0].quantity",
    ),
    "US date": (
        _setting(["packageDetail", "shipDate"], "02/21/2022"),
        "packageDetail.shipDate",
    ),
    "date only": (
        _setting(["packageDetail", "shipDate"], "2026-01-20"),
        "packageDetail.shipDate",
    ),
    "no offset": (
        _setting(["packageDetail", "shipDate"], "2026-01-20T10:00:00"),
        "packageDetail.shipDate",
    ),
    "quantity as text": (
        _setting(["packageDetail", "orderItems", 0, "quantity"], "1"),
        "packageDetail.orderItems[0].quantity",
    ),
    "quantity zero": (
        _setting(["packageDetail", "orderItems", 0, "quantity"], 0),
        "packageDetail.orderItems[0].quantity",
    ),
    "quantity negative": (
        _setting(["packageDetail", "orderItems", 0, "quantity"], -2),
        "packageDetail.orderItems[0].quantity",
    ),
    "quantity fraction": (
        _setting(["packageDetail", "orderItems", 0, "quantity"], 1.5),
        "packageDetail.orderItems[0].quantity",
    ),
    "tracking as number": (
        _setting(["packageDetail", "trackingNumber"], 12345),
        "packageDetail.trackingNumber",
    ),
    "empty tracking": (
        _setting(["packageDetail", "trackingNumber"], " "),
        "packageDetail.trackingNumber",
    ),
    "items not a list": (
        _setting(["packageDetail", "orderItems"], {"orderItemId": "1"}),
        "packageDetail.orderItems",
    ),
    "no items": (
        _setting(["packageDetail", "orderItems"], []),
        "packageDetail.orderItems",
    ),
    "codes not a list": (
        _setting(["packageDetail", "orderItems", 0, "transparencyCodes"], "AZ:1"),
        "packageDetail.orderItems[0].transparencyCodes",
    ),
    "unknown COD method": (
        _setting(["codCollectionMethod"], "CashOnDelivery"),
        "codCollectionMethod",
    ),
    "COD outside Japan": (
        _setting(["codCollectionMethod"], "DirectPayment"),
        "codCollectionMethod",
    ),
    "other marketplace": (
        _setting(["marketplaceId"], "A1PA6795UKMFR9"),
        "marketplaceId",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_invalid_bodies_are_refused(sandbox, orders, client, orders_v0, case):
    order = pick(orders, market=US)
    request = body(order)
    change, field = BAD_BODIES[case]
    change(request)
    error = refused(client, order["orderId"], request)
    assert_valid(
        orders_v0.validator("ConfirmShipmentErrorResponse"), {"errors": error.error}
    )
    assert error.amzn_code == "Invalid Input"
    assert error.error[0]["details"] == field
    assert error.message
    assert error.headers["x-amzn-RateLimit-Limit"] == "2000"
    assert_unchanged(sandbox, order)


def test_the_body_is_the_request_itself_not_wrapped(sandbox, orders, client):
    order = pick(orders)
    error = refused(client, order["orderId"], {"payload": body(order)})
    assert error.amzn_code == "Invalid Input"
    assert error.error[0]["details"] == "marketplaceId"
    error = refused(client, order["orderId"], {"body": body(order)})
    assert error.amzn_code == "Invalid Input"
    assert_unchanged(sandbox, order)


def test_a_body_that_is_not_json_is_refused(sandbox, orders, sp_client):
    order = pick(orders)
    token = sp_client(Orders).auth.access_token
    answer = httpx.post(
        f"{sandbox.url}/orders/v0/orders/{order['orderId']}/shipmentConfirmation",
        content=b"{not json",
        headers={"x-amz-access-token": token, "content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "Invalid Input"
    assert_unchanged(sandbox, order)


# the model's own examples and the request schema -----------------------------------


def _model_order(orders):
    """A stored US merchant order under the model's example ids."""
    order = copy.deepcopy(pick(orders, market=US))
    order["orderId"] = MODEL_ORDER_ID
    order["orderItems"] = order["orderItems"][:1]
    order["orderItems"][0]["orderItemId"] = MODEL_ITEM_ID
    order["orderItems"][0]["quantityOrdered"] = 1
    order["orderItems"][0]["fulfillment"] = {
        "quantityFulfilled": 0,
        "quantityUnfulfilled": 1,
    }
    return order


def test_the_models_sandbox_examples(sandbox, orders, client, reader):
    sandbox.add_orders([_model_order(orders)])
    error = refused(client, MODEL_ORDER_ID, copy.deepcopy(MODEL_INVALID_BODY))
    assert error.amzn_code == "Invalid Input"
    assert error.error[0]["details"] == "packageDetail.shipDate"
    response = client.confirm_shipment(
        MODEL_ORDER_ID, **copy.deepcopy(MODEL_SUCCESS_BODY)
    )
    assert response.payload == {"status_code": 204}
    order = reader.get_order(MODEL_ORDER_ID, includedData="PACKAGES,FULFILLMENT")
    order = order.payload["order"]
    assert order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert order["packages"][0]["carrier"] == "FedEx"
    assert order["packages"][0]["shipTime"] == "2022-02-11T01:00:00Z"
    assert order["packages"][0]["packageItems"] == [
        {
            "orderItemId": MODEL_ITEM_ID,
            "quantity": 1,
            "transparencyCodes": ["09876543211234567890"],
        }
    ]


def test_request_schema_is_the_models(orders_v0):
    Draft4Validator.check_schema(REQUEST_SCHEMA)
    assert "$ref" not in json.dumps(REQUEST_SCHEMA)
    operation = orders_v0.document["paths"][CONFIRM_PATH]["post"]
    assert operation["operationId"] == CONFIRM
    [body] = [p for p in operation["parameters"] if p["in"] == "body"]
    assert (body["name"], body["required"]) == ("payload", True)
    assert body["schema"] == {"$ref": "#/definitions/ConfirmShipmentRequest"}
    assert REQUEST_SCHEMA["required"] == ["marketplaceId", "packageDetail"]
    detail = REQUEST_SCHEMA["properties"]["packageDetail"]
    assert set(detail["properties"]) == {
        "packageReferenceId",
        "carrierCode",
        "carrierName",
        "shippingMethod",
        "trackingNumber",
        "shipDate",
        "shipFromSupplySourceId",
        "orderItems",
    }
    assert set(detail["required"]) == {
        "packageReferenceId",
        "carrierCode",
        "trackingNumber",
        "shipDate",
        "orderItems",
    }
    assert detail["properties"]["shipDate"]["format"] == "date-time"
    item = detail["properties"]["orderItems"]["items"]
    assert set(item["required"]) == {"orderItemId", "quantity"}
    assert item["properties"]["quantity"]["type"] == "integer"
    assert REQUEST_SCHEMA["properties"]["codCollectionMethod"]["enum"] == [
        "DirectPayment"
    ]
    assert not schema_errors(REQUEST_SCHEMA, MODEL_SUCCESS_BODY)
    assert schema_errors(REQUEST_SCHEMA, MODEL_INVALID_BODY) == [
        (("packageDetail", "shipDate"), "format")
    ]


def test_route_follows_the_models_usage_plan_and_answers(orders_v0):
    [route] = ROUTES
    operation = orders_v0.document["paths"][CONFIRM_PATH]["post"]
    assert (route.method, route.pattern, route.operation) == (
        "POST",
        CONFIRM_PATH,
        operation["operationId"],
    )
    assert (route.rate, route.burst) == (
        operation["x-usage-plan"]["rate"],
        operation["x-usage-plan"]["burst"],
    )
    assert "schema" not in operation["responses"]["204"]


def test_schema_keywords_the_sandbox_cannot_check_are_refused(orders_v0, tmp_path):
    document = copy.deepcopy(orders_v0.document)
    document["definitions"]["PackageReferenceId"]["pattern"] = "^[1-9][0-9]*$"
    changed = tmp_path / "ordersV0.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="pattern"):
        load_request_schema(changed)
    document = copy.deepcopy(orders_v0.document)
    document["definitions"]["PackageDetail"]["properties"]["shipDate"]["format"] = (
        "date"
    )
    changed.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="format:date"):
        load_request_schema(changed)
    assert load_request_schema(SCHEMAS_DIR / "ordersV0.json") == REQUEST_SCHEMA


def _variants():
    """Bodies around the model's example, valid and not, for the schema alone."""
    variants = [copy.deepcopy(MODEL_SUCCESS_BODY), {}, [], "text", None]
    for change, _ in BAD_BODIES.values():
        request = copy.deepcopy(MODEL_SUCCESS_BODY)
        change(request)
        variants.append(request)
    extra = copy.deepcopy(MODEL_SUCCESS_BODY)
    extra["packageDetail"]["unknownField"] = 1
    variants.append(extra)
    boolean = copy.deepcopy(MODEL_SUCCESS_BODY)
    boolean["packageDetail"]["orderItems"][0]["quantity"] = True
    variants.append(boolean)
    return variants


def test_sandbox_schema_checks_agree_with_jsonschema(orders_v0):
    """The sandbox's checks and jsonschema on the model's definition (formats
    aside: jsonschema checks date-time only with an optional package)."""
    model = Draft4Validator(
        {"$ref": f"{orders_v0.uri}#/definitions/ConfirmShipmentRequest"},
        registry=orders_v0.registry,
    )
    format_problems = 0
    for request in _variants():
        ours = schema_errors(REQUEST_SCHEMA, request)
        structural = [problem for problem in ours if problem[1] != "format"]
        format_problems += len(ours) - len(structural)
        assert model.is_valid(request) == (not structural), request
    assert format_problems == 3


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2022-02-11T01:00:00.000Z", "2022-02-11T01:00:00Z"),
        ("2026-01-20T10:00:00Z", "2026-01-20T10:00:00Z"),
        ("2026-01-20t10:00:00z", "2026-01-20T10:00:00Z"),
        ("2026-01-20T10:00:00+09:00", "2026-01-20T01:00:00Z"),
        ("2026-01-20T10:00:00.123456789-05:30", "2026-01-20T15:30:00Z"),
        ("2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"),
    ],
)
def test_date_times_the_schema_accepts(text, expected):
    assert iso(parse_date_time(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "02/21/2022",
        "2026-01-20",
        "2026-01-20T10:00:00",
        "2026-01-20 10:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-01-20T25:00:00Z",
        "2026-01-20T10:00Z",
        "20260120T100000Z",
        "2026-01-20T10:00:00+0100",
        "",
    ],
)
def test_date_times_the_schema_refuses(text):
    with pytest.raises(ValueError):
        parse_date_time(text)


# quota and faults ------------------------------------------------------------------


def test_burst_of_ten_then_429(sandbox, orders, client, orders_v0):
    order = pick(orders)
    sandbox.time_scale = 0.0001
    for _ in range(10):
        confirm(client, order)
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        confirm(client, order)
    assert caught.value.amzn_code == "QuotaExceeded"
    assert_valid(
        orders_v0.validator("ConfirmShipmentErrorResponse"),
        {"errors": caught.value.error},
    )
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "0.0002"
    assert [s for op, s, _ in sandbox.calls if op == CONFIRM] == [204] * 10 + [429]
    assert len(sandbox.packages_of(order["orderId"])) == 1
    sandbox.reset_rate_limits()
    assert confirm(client, order).payload == {"status_code": 204}


def test_invalid_calls_spend_the_quota_too(sandbox, orders, client):
    order = pick(orders)
    sandbox.time_scale = 0.0001
    for _ in range(10):
        refused(client, order["orderId"], body(order, carrierCode="Nope"))
    with pytest.raises(SellingApiRequestThrottledException):
        confirm(client, order)
    assert sandbox.packages_of(order["orderId"]) == []


def test_reset_after_apply_keeps_the_package(sandbox, orders, client):
    order = pick(orders)
    sandbox.inject_fault(CONFIRM, "reset_after_apply")
    with pytest.raises(httpx.TransportError):
        confirm(client, order)
    assert sandbox.calls[-1][:2] == (CONFIRM, 0)
    [package] = sandbox.packages_of(order["orderId"])
    assert package["packageReferenceId"] == "1"
    stored = sandbox.get_order_data(order["orderId"])
    assert stored["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert confirm(client, order).payload == {"status_code": 204}
    assert len(sandbox.packages_of(order["orderId"])) == 1


def test_slow_after_apply_times_out_but_keeps_the_package(sandbox, orders, sp_client):
    client = sp_client(Orders, timeout=0.3)
    order = pick(orders)
    sandbox.inject_fault(CONFIRM, "slow_after_apply", delay=3.0)
    with pytest.raises(httpx.TimeoutException):
        confirm(client, order)
    [package] = sandbox.packages_of(order["orderId"])
    assert package["trackingNumber"] == "1Z999AA10123456781"
    assert (
        sandbox.get_order_data(order["orderId"])["fulfillment"]["fulfillmentStatus"]
        == "SHIPPED"
    )


@pytest.mark.parametrize(
    "kind, exception",
    [
        ("server_error", SellingApiTemporarilyUnavailableException),
        ("throttle", SellingApiRequestThrottledException),
        ("expired_token", SellingApiForbiddenException),
        ("reset", httpx.TransportError),
    ],
)
def test_faults_before_apply_store_nothing(sandbox, orders, client, kind, exception):
    order = pick(orders)
    sandbox.inject_fault(CONFIRM, kind)
    with pytest.raises(exception):
        confirm(client, order)
    assert_unchanged(sandbox, order)
    confirm(client, order)
    assert len(sandbox.packages_of(order["orderId"])) == 1


def test_slow_fault_answers_late(sandbox, orders, client):
    order = pick(orders)
    sandbox.inject_fault(CONFIRM, "slow", delay=0.05)
    assert confirm(client, order).payload == {"status_code": 204}
    assert len(sandbox.packages_of(order["orderId"])) == 1


def test_after_apply_faults_on_other_operations(sandbox, orders, reader):
    order = orders[0]
    sandbox.inject_fault("getOrder", "reset_after_apply")
    with pytest.raises(httpx.TransportError):
        reader.get_order(order["orderId"])
    assert sandbox.calls[-1][:2] == ("getOrder", 0)
    assert (
        reader.get_order(order["orderId"]).payload["order"]["orderId"]
        == (order["orderId"])
    )


def test_fault_arguments_are_checked(sandbox):
    with pytest.raises(ValueError):
        sandbox.inject_fault(CONFIRM, "slow_after_apply", delay=-1)
    with pytest.raises(ValueError):
        sandbox.inject_fault(CONFIRM, "reset_after_apply", status=500)
    with pytest.raises(ValueError):
        sandbox.inject_fault(CONFIRM, "apply_and_explode")


# control API and the other order changes -------------------------------------------


def test_control_routes_for_packages(sandbox, orders, client):
    order = pick(orders)
    with httpx.Client(base_url=sandbox.url) as http:
        answer = http.get(f"/_sandbox/orders/{order['orderId']}/packages")
        assert answer.status_code == 200 and answer.json() == {"packages": []}
        answer = http.post(
            "/_sandbox/faults",
            json={"operation": CONFIRM, "kind": "reset_after_apply"},
        )
        assert answer.status_code == 201 and answer.json() == {"pending": 1}
        with pytest.raises(httpx.TransportError):
            confirm(client, order)
        answer = http.get(f"/_sandbox/orders/{order['orderId']}/packages")
        assert [p["packageReferenceId"] for p in answer.json()["packages"]] == ["1"]
        answer = http.get(f"/_sandbox/orders/{order['orderId']}/confirmations")
        [kept] = answer.json()["confirmations"]
        assert kept["body"] == body(order)
        stored = sandbox.get_order_data(order["orderId"])
        assert kept["receivedTime"] == stored["lastUpdatedTime"]
        answer = http.get("/_sandbox/orders/111-0000000-0000000/packages")
        assert answer.status_code == 404


def test_packages_of_unknown_order_raises(sandbox):
    with pytest.raises(KeyError):
        sandbox.packages_of("111-0000000-0000000")


def test_ship_order_after_a_partial_confirmation(sandbox, orders, client, reader):
    order = pick(orders, items=2)
    rest = order["orderItems"][1:]
    confirm(
        client,
        order,
        reference="3",
        items=lines(order, {i["orderItemId"]: 0 for i in rest}),
    )
    shipped = sandbox.ship_order(order["orderId"], carrier="DHL", tracking_number="T2")
    assert shipped["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert [p["packageReferenceId"] for p in shipped["packages"]] == ["3", "4"]
    assert shipped["packages"][1]["packageItems"] == [
        {"orderItemId": i["orderItemId"], "quantity": i["quantityOrdered"]}
        for i in rest
    ]
    with pytest.raises(ValueError):
        sandbox.cancel_order(order["orderId"])
    error = refused(client, order["orderId"], body(order, reference="5"))
    assert error.amzn_code == "Invalid Input"


def test_confirmation_after_ship_order_edits_its_package(sandbox, orders, client):
    order = pick(orders)
    shipped = sandbox.ship_order(order["orderId"], tracking_number="GENERATED")
    reference = shipped["packages"][0]["packageReferenceId"]
    confirm(client, order, reference=reference, trackingNumber="CORRECTED")
    [package] = sandbox.packages_of(order["orderId"])
    assert package["trackingNumber"] == "CORRECTED"
    assert package["createdTime"] == shipped["packages"][0]["createdTime"]


def test_partially_shipped_generated_order_takes_the_rest(
    sandbox, orders, client, reader
):
    order = pick(orders, status="PARTIALLY_SHIPPED")
    remaining = {
        i["orderItemId"]: i["fulfillment"]["quantityUnfulfilled"]
        for i in order["orderItems"]
    }
    reference = str(len(order["packages"]) + 1)
    confirm(client, order, reference=reference, items=lines(order, remaining))
    shown = fetched(reader, order)
    assert shown["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert len(shown["packages"]) == len(order["packages"]) + 1
    assert shown["packages"][:-1] == order["packages"]
