"""Sandbox answers and generated orders against Amazon's own models.

The schemas come from tests/schemas/, derived from Amazon's models by
tests/schemas/generate.py (see the README there).
"""

import importlib.util
import json
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
SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
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
        path = SCHEMAS_DIR / name
        self.document = json.loads(path.read_text(encoding="utf-8"))
        self.uri = f"urn:sp-api-schema:{name}"
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
    plan = op["x-usage-plan"]
    route = next(r for r in sandbox.router if r.operation == operation)
    assert (route.rate, route.burst) == (plan["rate"], plan["burst"])
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


# the derived schema files -------------------------------------------------------

SCHEMA_FILES = sorted(path.name for path in SCHEMAS_DIR.glob("*.json"))
PROSE = {"description", "summary", "title", "example", "examples", "x-example"}


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "schemas_generate", SCHEMAS_DIR / "generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = load_generator()


def schema_keys(node, found):
    """Every key used as a keyword (not as a property name) in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in ("properties", "definitions", "paths", "responses", "headers"):
                for child in value.values():
                    schema_keys(child, found)
            else:
                schema_keys(value, found)
    elif isinstance(node, list):
        for item in node:
            schema_keys(item, found)
    return found


def test_every_model_the_generator_names_is_here():
    assert SCHEMA_FILES == sorted(generator.MODELS)
    for name in ("README", "LICENSE"):
        assert (SCHEMAS_DIR / name).is_file()
    assert "Apache License" in (SCHEMAS_DIR / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_files_hold_structure_only(name):
    document = Model(name).document
    keys = schema_keys(document, set())
    assert not keys & PROSE
    assert not {key for key in keys if key.startswith("x-amzn")}
    assert "Apache License 2.0" in document["x-notice"]
    for path, item in document["paths"].items():
        for method, op in item.items():
            plan = op["x-usage-plan"]
            assert plan["rate"] > 0 and plan["burst"] >= 1, (path, method)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_reference_resolves_inside_its_file(name):
    model = Model(name)
    refs = generator.references(model.document)
    assert refs
    assert refs <= set(model.document["definitions"])
    # Nothing is kept that no operation uses.
    assert refs == set(model.document["definitions"])
    for ref in refs:
        model.definition(ref).check_schema(model.document["definitions"][ref])


def test_connector_rate_limits_are_the_usage_plans():
    from layer import load

    load()
    from amazon_refund_connector.sp_api.ratelimit import OPERATION_LIMITS

    plans = {}
    for name in SCHEMA_FILES:
        for item in Model(name).document["paths"].values():
            for op in item.values():
                plan = op["x-usage-plan"]
                plans[op["operationId"]] = (plan["rate"], plan["burst"])
    compared = {op: OPERATION_LIMITS[op] for op in plans if op in OPERATION_LIMITS}
    assert len(compared) >= 15
    assert compared == {op: plans[op] for op in compared}


# where Amazon's own examples contradict its schemas, the schemas rule -----------

FINANCES_MODEL = "finances_2024-06-19.json"
SHIPMENT_PATH = "/orders/v0/orders/{orderId}/shipmentConfirmation"


def _errors(validator, instance):
    return [error.message for error in validator.iter_errors(instance)]


def test_get_account_marketplaces_need_currency_and_language(sellers_model):
    # Amazon's getAccount sandbox example leaves both out.
    validator = sellers_model.response("/sellers/v1/account", 200)
    marketplace = {
        "id": US,
        "name": "Amazon.com",
        "countryCode": "US",
        "domainName": "www.amazon.com",
    }
    participation = {
        "marketplace": marketplace,
        "storeName": "Store",
        "participation": {"isParticipating": True, "hasSuspendedListings": False},
    }
    account = {
        "marketplaceParticipationList": [participation],
        "businessType": "PRIVATE_LIMITED",
        "sellingPlan": "PROFESSIONAL",
    }
    assert sorted(_errors(validator, {"payload": account})) == [
        "'defaultCurrencyCode' is a required property",
        "'defaultLanguageCode' is a required property",
    ]
    marketplace.update(defaultCurrencyCode="USD", defaultLanguageCode="en_US")
    assert_valid(validator, {"payload": account})


@pytest.mark.parametrize(
    "path, body",
    [
        ("/finances/2024-06-19/balances", {"balances": [{"asOfDate": "{}"}]}),
        (
            "/finances/2024-06-19/summary",
            {"summaries": [{"periodStart": "{}", "periodEnd": "{}"}]},
        ),
    ],
)
def test_finance_dates_are_date_times(path, body):
    # Amazon's listBalances and listSummary examples give plain dates.
    validator = Model(FINANCES_MODEL).response(path, 200)
    text = json.dumps(body)
    plain = json.loads(text.replace("{}", "2025-01-12"))
    assert _errors(validator, plain)
    assert_valid(validator, json.loads(text.replace("{}", "2025-01-12T00:00:00Z")))


def test_transaction_breakdowns_are_a_list():
    # Amazon's Transaction example gives breakdowns as one object.
    validator = Model(FINANCES_MODEL).definition("Transaction")
    breakdown = {
        "breakdownType": "Sales",
        "breakdownAmount": {"currencyCode": "EUR", "currencyAmount": 10},
        "breakdowns": [],
    }
    assert _errors(validator, {"breakdowns": breakdown})
    assert_valid(validator, {"breakdowns": [breakdown]})


def test_list_transactions_posted_bounds_are_date_times():
    # Amazon's listTransactions examples pass plain dates.
    op = Model(FINANCES_MODEL).operation("/finances/2024-06-19/transactions")
    formats = {p["name"]: p.get("format") for p in op["parameters"]}
    assert formats["postedAfter"] == formats["postedBefore"] == "date-time"


def test_confirm_shipment_body_and_errors():
    model = Model("ordersV0.json")
    op = model.operation(SHIPMENT_PATH, "post")
    # The model names the body "payload"; its sandbox request calls it "body".
    (body,) = [p for p in op["parameters"] if p["in"] == "body"]
    assert body["name"] == "payload"
    assert body["required"] is True
    request = model.validator(body["schema"]["$ref"])
    package = {
        "packageReferenceId": "1",
        "carrierCode": "DHL",
        "trackingNumber": "00340434161094042557",
        "shipDate": "2025-08-01T10:00:00Z",
        "orderItems": [{"orderItemId": "79039765272157", "quantity": 1}],
    }
    assert_valid(request, {"marketplaceId": "A1PA6795UKMFR9", "packageDetail": package})
    assert _errors(request, {"packageDetail": package})
    assert _errors(
        request,
        {
            "marketplaceId": "A1PA6795UKMFR9",
            "packageDetail": dict(package, shipDate="02/21/2022"),
        },
    )
    assert set(op["responses"]) >= {"204", "400", "429"}
    assert "schema" not in op["responses"]["204"]
    # Orders v0 answers "Invalid Input" where the other APIs say "InvalidInput".
    error = {"errors": [{"code": "Invalid Input", "message": "Invalid Input"}]}
    assert_valid(model.response(SHIPMENT_PATH, 400, "post"), error)
    assert _errors(model.response(SHIPMENT_PATH, 400, "post"), {"errors": [{}]})


# the generator, on a model of our own -------------------------------------------

TOY_MODEL = {
    "swagger": "2.0",
    "info": {"title": "Toy", "description": "Prose.", "version": "v1"},
    "host": "example.invalid",
    "produces": ["application/json"],
    "paths": {
        "/toys/{toyId}": {
            "parameters": [],
            "get": {
                "tags": ["toys"],
                "operationId": "getToy",
                "description": "Gets a toy.\n\n| Rate | Burst |\n| --- | --- |\n"
                "| 0.25 | 4 |\n",
                "parameters": [
                    {
                        "name": "toyId",
                        "in": "path",
                        "required": True,
                        "type": "string",
                        "description": "Its id.",
                        "x-example": "T1",
                    },
                    {
                        "name": "colours",
                        "in": "query",
                        "type": "array",
                        "items": {
                            "type": "string",
                            "enum": ["RED", "BLUE"],
                            "x-docgen-enum-table-extension": [],
                        },
                    },
                ],
                "responses": {
                    "200": {
                        "description": "A toy.",
                        "schema": {"$ref": "#/definitions/Toy"},
                        "headers": {
                            "x-amzn-RateLimit-Limit": {
                                "type": "string",
                                "description": "The rate.",
                            }
                        },
                        "examples": {"application/json": {"name": "Ball"}},
                        "x-amzn-api-sandbox": {"static": []},
                    }
                },
            },
            "delete": {
                "operationId": "deleteToy",
                "responses": {"204": {"schema": {"$ref": "#/definitions/Receipt"}}},
            },
        }
    },
    "definitions": {
        "Toy": {
            "type": "object",
            "description": "A toy.",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "example": "Ball"},
                "description": {"type": "string", "description": "Its text."},
                "items": {"type": "array", "items": {"$ref": "#/definitions/Part"}},
                "size": {"description": "How big.", "$ref": "#/definitions/Size"},
            },
            "example": {"name": "Ball"},
        },
        "Part": {"type": "object", "additionalProperties": {"type": "integer"}},
        "Size": {"type": "string", "enum": ["S", "L"], "title": "Size"},
        "Receipt": {"type": "object"},
        "Unused": {"type": "string"},
    },
}


def test_generator_keeps_structure_and_drops_prose():
    document = generator.derive("toys.json", TOY_MODEL, ("getToy",), "0" * 40)
    assert "commit " + "0" * 40 in document["x-notice"]
    assert document["info"] == {"version": "v1"}
    assert document["produces"] == ["application/json"]
    assert "host" not in document
    op = document["paths"]["/toys/{toyId}"]["get"]
    assert list(document["paths"]["/toys/{toyId}"]) == ["get"]
    assert op["x-usage-plan"] == {"rate": 0.25, "burst": 4}
    assert op["parameters"] == [
        {"name": "toyId", "in": "path", "required": True, "type": "string"},
        {
            "name": "colours",
            "in": "query",
            "type": "array",
            "items": {"type": "string", "enum": ["RED", "BLUE"]},
        },
    ]
    assert op["responses"] == {
        "200": {
            "schema": {"$ref": "#/definitions/Toy"},
            "headers": {"x-amzn-RateLimit-Limit": {"type": "string"}},
        }
    }
    # Properties named like keywords stay; Receipt and Unused are not reached.
    assert document["definitions"] == {
        "Toy": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/definitions/Part"}},
                "size": {"$ref": "#/definitions/Size"},
            },
        },
        "Part": {"type": "object", "additionalProperties": {"type": "integer"}},
        "Size": {"type": "string", "enum": ["S", "L"]},
    }
    everything = generator.derive("toys.json", TOY_MODEL)
    assert list(everything["paths"]["/toys/{toyId}"]) == ["get", "delete"]
    assert "Receipt" in everything["definitions"]
    assert "Unused" not in everything["definitions"]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m["definitions"]["Size"].update(oneOf=[]), "unexpected key"),
        (
            lambda m: m["definitions"]["Part"].update(
                additionalProperties={"$ref": "other.json#/definitions/X"}
            ),
            "leaves the model",
        ),
        (lambda m: m["definitions"].pop("Size"), "is not defined"),
    ],
)
def test_generator_refuses_what_it_cannot_keep(change, message):
    model = json.loads(json.dumps(TOY_MODEL))
    change(model)
    with pytest.raises(generator.ModelError, match=message):
        generator.derive("toys.json", model)


def test_generator_refuses_an_unknown_operation():
    with pytest.raises(generator.ModelError, match="no operation listToys"):
        generator.derive("toys.json", TOY_MODEL, ("getToy", "listToys"))


def test_generator_check_finds_stale_files(tmp_path):
    files = {"toys.json": generator.render(generator.derive("toys.json", TOY_MODEL))}
    assert generator.stale(files, tmp_path) == ["toys.json"]
    (tmp_path / "toys.json").write_text(files["toys.json"], encoding="utf-8")
    assert generator.stale(files, tmp_path) == []
    (tmp_path / "old.json").write_text("{}", encoding="utf-8")
    (tmp_path / "toys.json").write_text("{}\n", encoding="utf-8")
    assert generator.stale(files, tmp_path) == ["old.json", "toys.json"]


def test_generator_reads_a_clone_of_amazons_repository(tmp_path):
    models = tmp_path / "selling-partner-api-models" / "models"
    folder = models / "toys-api-model"
    folder.mkdir(parents=True)
    (folder / "toys.json").write_text(json.dumps(TOY_MODEL), encoding="utf-8")
    (models.parent / "LICENSE").write_text("Apache License\n", encoding="utf-8")
    assert generator.find_model(models, "toys.json") == folder / "toys.json"
    assert generator.find_license(models) == models.parent / "LICENSE"
    (models / "toys.json").write_text("{}", encoding="utf-8")
    assert generator.find_model(models, "toys.json") == models / "toys.json"
    with pytest.raises(generator.ModelError, match="not found"):
        generator.find_model(models, "ordersV0.json")
    (models / "SOURCE").write_text("copied at\n" + "ab" * 20 + " today\n")
    assert generator.source_commit(models) == "ab" * 20
