"""Sandbox answers and generated orders against Amazon's own models."""

import json
import os
import re
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4
from sandbox import generate_orders, supported_marketplaces
from sandbox.marketplaces import CODE_TO_ID
from sandbox.ops.orders import INCLUDED_DATA
from sp_api.api import OrdersV20260101, Sellers
from sp_api.base import SellingApiException

ORDERS_MODEL = "orders_2026-01-01.json"
SELLERS_MODEL = "sellers.json"
SEARCH_PATH = "/orders/2026-01-01/orders"
GET_PATH = "/orders/2026-01-01/orders/{orderId}"
PARTICIPATIONS_PATH = "/sellers/v1/marketplaceParticipations"
MODELS_DIR = Path(
    os.environ.get(
        "AMAZON_MODELS_DIR",
        Path(__file__).resolve().parents[2] / "shared" / "amazon-models",
    )
)
US = CODE_TO_ID["US"]
ALL_MARKETPLACES = ",".join(
    CODE_TO_ID[code] for code in ("US", "UK", "DE", "FR", "IT", "ES", "JP")
)

INCLUDED_COMBINATIONS = [
    None,
    "BUYER",
    "PROCEEDS,FULFILLMENT",
    "RECIPIENT,PACKAGES,CANCELLATION",
    "EXPENSE,PROMOTION,TAX,PAYMENT,FULFILLMENT_ORDERS",
    ",".join(INCLUDED_DATA),
]


class Model:
    """A swagger 2.0 model whose $refs resolve inside the file."""

    def __init__(self, name):
        path = MODELS_DIR / name
        if not path.exists():
            pytest.skip(f"Amazon model {path} is not available")
        self.document = json.loads(path.read_text(encoding="utf-8"))
        self.uri = f"urn:amazon-model:{name}"
        self.registry = Registry().with_resource(
            self.uri, DRAFT4.create_resource(self.document)
        )

    def validator(self, ref):
        assert ref.startswith("#/"), ref
        return Draft4Validator(
            {"$ref": self.uri + ref},
            registry=self.registry,
            format_checker=Draft4Validator.FORMAT_CHECKER,
        )

    def definition(self, name):
        return self.validator(f"#/definitions/{name}")

    def operation(self, path, method="get"):
        return self.document["paths"][path][method]

    def response(self, path, status, method="get"):
        schema = self.operation(path, method)["responses"][str(status)]["schema"]
        return self.validator(schema["$ref"])


def assert_valid(validator, instance):
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, error.path))}: {error.message[:300]}"
        for error in errors[:10]
    )


def raw_body(response):
    """The JSON document the sandbox sent, rebuilt from sp_api's ApiResponse."""
    if isinstance(response.payload, list):
        return {"payload": response.payload}
    body = dict(response.payload)
    if response.pagination:
        body["pagination"] = response.pagination
    return body


@pytest.fixture(scope="module")
def orders_model():
    return Model(ORDERS_MODEL)


@pytest.fixture(scope="module")
def sellers_model():
    return Model(SELLERS_MODEL)


@pytest.mark.parametrize("seed", [1, 2, 3, 7, 42])
def test_generated_orders_validate_against_order_definition(orders_model, seed):
    validator = orders_model.definition("Order")
    orders = generate_orders(seed, 200)
    for order in orders:
        assert_valid(validator, order)


def test_generated_orders_validate_in_every_supported_marketplace(orders_model):
    validator = orders_model.definition("Order")
    orders = generate_orders(5, 300, marketplaces=supported_marketplaces())
    assert {o["salesChannel"]["marketplaceId"] for o in orders} == set(
        supported_marketplaces()
    )
    for order in orders:
        assert_valid(validator, order)


@pytest.mark.parametrize("seed", [1, 9])
def test_search_orders_answers_validate(sandbox, sp_client, orders_model, seed):
    sandbox.seed_orders(seed, 150)
    client = sp_client(OrdersV20260101)
    validator = orders_model.response(SEARCH_PATH, 200)
    for included in INCLUDED_COMBINATIONS:
        params = {
            "createdAfter": "2020-01-01T00:00:00Z",
            "marketplaceIds": ALL_MARKETPLACES,
            "maxResultsPerPage": 60,
        }
        if included:
            params["includedData"] = included
        pages = 0
        while True:
            response = client.search_orders(**params)
            body = raw_body(response)
            assert_valid(validator, body)
            pages += 1
            if not response.next_token:
                break
            params["paginationToken"] = response.next_token
        assert pages == 3


def test_search_by_last_update_validates(sandbox, sp_client, orders_model):
    sandbox.seed_orders(3, 40)
    client = sp_client(OrdersV20260101)
    response = client.search_orders(
        lastUpdatedAfter="2020-01-01T00:00:00Z",
        marketplaceIds=ALL_MARKETPLACES,
        includedData=",".join(INCLUDED_DATA),
    )
    assert_valid(orders_model.response(SEARCH_PATH, 200), raw_body(response))
    assert "lastUpdatedBefore" in response.payload


@pytest.mark.parametrize("seed", [2, 11])
def test_get_order_answers_validate(sandbox, sp_client, orders_model, seed):
    orders = sandbox.seed_orders(seed, 25)
    client = sp_client(OrdersV20260101)
    validator = orders_model.response(GET_PATH, 200)
    for index, order in enumerate(orders):
        included = INCLUDED_COMBINATIONS[index % len(INCLUDED_COMBINATIONS)]
        kwargs = {"includedData": included} if included else {}
        response = client.get_order(order["orderId"], **kwargs)
        assert_valid(validator, raw_body(response))


def test_marketplace_participations_validate(sandbox, sp_client, sellers_model):
    response = sp_client(Sellers).get_marketplace_participation()
    assert_valid(sellers_model.response(PARTICIPATIONS_PATH, 200), raw_body(response))


def _error_body(call):
    with pytest.raises(SellingApiException) as caught:
        call()
    return {"errors": caught.value.error}, caught.value


def test_error_answers_validate(sandbox, sp_client, orders_model, sellers_model):
    sandbox.seed_orders(1, 5)
    client = sp_client(OrdersV20260101)

    body, _ = _error_body(
        lambda: client.search_orders(createdAfter="not-a-date", marketplaceIds=US)
    )
    assert_valid(orders_model.response(SEARCH_PATH, 400), body)

    body, _ = _error_body(lambda: client.get_order("111-0000000-0000000"))
    assert_valid(orders_model.response(GET_PATH, 404), body)

    sandbox.inject_fault("searchOrders", "throttle")
    body, _ = _error_body(
        lambda: client.search_orders(
            createdAfter="2020-01-01T00:00:00Z", marketplaceIds=US
        )
    )
    assert_valid(orders_model.response(SEARCH_PATH, 429), body)

    sandbox.inject_fault("getOrder", "server_error")
    body, _ = _error_body(lambda: client.get_order("111-0000000-0000000"))
    assert_valid(orders_model.response(GET_PATH, 503), body)

    sandbox.inject_fault("getOrder", "server_error", status=500)
    body, _ = _error_body(lambda: client.get_order("111-0000000-0000000"))
    assert_valid(orders_model.response(GET_PATH, 500), body)

    sandbox.expire_tokens()
    body, _ = _error_body(lambda: client.get_order("111-0000000-0000000"))
    assert_valid(orders_model.response(GET_PATH, 403), body)

    sellers_client = sp_client(Sellers)
    body, _ = _error_body(sellers_client.get_marketplace_participation)
    assert_valid(sellers_model.response(PARTICIPATIONS_PATH, 403), body)


USAGE_PLAN = re.compile(r"\|\s*([0-9.]+)\s*\|\s*([0-9]+)\s*\|")


@pytest.mark.parametrize(
    "model_name, path, operation",
    [
        (ORDERS_MODEL, SEARCH_PATH, "searchOrders"),
        (ORDERS_MODEL, GET_PATH, "getOrder"),
        (SELLERS_MODEL, PARTICIPATIONS_PATH, "getMarketplaceParticipations"),
    ],
)
def test_usage_plans_follow_the_models(sandbox, model_name, path, operation):
    model = Model(model_name)
    op = model.operation(path)
    assert op["operationId"] == operation
    rate, burst = USAGE_PLAN.search(op["description"]).groups()
    route = next(r for r in sandbox.router if r.operation == operation)
    assert (route.rate, route.burst) == (float(rate), int(burst))
    assert route.pattern == path


def test_implemented_parameters_are_the_models(orders_model):
    search = {p["name"] for p in orders_model.operation(SEARCH_PATH)["parameters"]}
    assert search == {
        "createdAfter",
        "createdBefore",
        "lastUpdatedAfter",
        "lastUpdatedBefore",
        "fulfillmentStatuses",
        "marketplaceIds",
        "fulfilledBy",
        "maxResultsPerPage",
        "paginationToken",
        "includedData",
    }
    included = next(
        p
        for p in orders_model.operation(SEARCH_PATH)["parameters"]
        if p["name"] == "includedData"
    )
    assert tuple(included["items"]["enum"]) == INCLUDED_DATA
