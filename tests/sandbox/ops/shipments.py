"""Orders API v0: confirmShipment, one package of a merchant-fulfilled order.

POST /orders/v0/orders/{orderId}/shipmentConfirmation takes a
ConfirmShipmentRequest as the JSON body (the model names the body parameter
`payload`; python-amazon-sp-api sends the keyword arguments of
confirm_shipment(order_id, **kwargs) as that body) and answers 204 without a
body. The package then shows in Orders 2026-01-01 (includedData PACKAGES and
FULFILLMENT) and the order's lastUpdatedTime moves to now. Resending a
packageReferenceId replaces that package.

The body is checked against the model's ConfirmShipmentRequest (from
tests/schemas/ordersV0.json), then against Amazon's documented rules. Errors
follow the model: ConfirmShipmentErrorResponse, and code "Invalid Input" (with
a space, unlike the other APIs) for every 400.
"""

import copy
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..generator import set_shipped_units, ship_from_address
from ..routing import ApiError, Reply, Route
from ..timeutil import floor_seconds, format_time

CONFIRM = "confirmShipment"
INVALID_INPUT = "Invalid Input"
JAPAN = "A1VC38T7YXB528"

# Amazon's carrier codes as the shipment confirmation takes them (exact
# spelling; an unlisted carrier goes as "Other" with carrierName).
CARRIER_CODES = (
    "4PX",
    "Amazon Shipping",
    "Aramex",
    "Australia Post",
    "Blue Dart",
    "Blue Package",
    "BRT",
    "Canada Post",
    "Canpar",
    "China Post",
    "Chronopost",
    "City Link",
    "Colissimo",
    "Correios",
    "Correos",
    "Delhivery",
    "Deutsche Post",
    "DHL",
    "DHL eCommerce",
    "DHL Global Mail",
    "DPD",
    "Evri",
    "Fastway",
    "FedEx",
    "FedEx SmartPost",
    "GLS",
    "GO!",
    "Hermes",
    "Hermes Logistik Gruppe",
    "India Post",
    "Japan Post",
    "La Poste",
    "Lasership",
    "Newgistics",
    "NipponExpress",
    "Ninjavan",
    "OnTrac",
    "OSM",
    "Parcelforce",
    "Poste Italiane",
    "PostNL",
    "Purolator",
    "Qxpress",
    "Royal Mail",
    "SagawaExpress",
    "SDA",
    "SEUR",
    "SF Express",
    "Singapore Post",
    "Streamlite",
    "Target",
    "TNT",
    "UPS",
    "UPS Mail Innovations",
    "UPSMI",
    "USPS",
    "YamatoTransport",
    "Yanwen",
    "Yodel",
    "Other",
)
OTHER_CARRIER = "Other"

# The request schema is Amazon's ConfirmShipmentRequest, read from the schema
# derived from the Orders v0 model (tests/schemas/ordersV0.json) with its
# $refs inlined; schema_errors() checks every keyword it uses.
MODEL_FILE = Path(__file__).resolve().parents[2] / "schemas" / "ordersV0.json"
REQUEST_DEFINITION = "ConfirmShipmentRequest"
CHECKED_KEYWORDS = {
    "type",
    "required",
    "properties",
    "items",
    "enum",
    "format:date-time",
}


def _inline(node, definitions):
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/definitions/")
            return _inline(definitions[name], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, definitions) for value in node]
    return node


def _keywords(schema):
    """Keywords of the schema and its sub-schemas; a format counts as
    "format:<name>"."""
    found = {f"{key}:{schema[key]}" if key == "format" else key for key in schema}
    for sub in schema.get("properties", {}).values():
        found |= _keywords(sub)
    if isinstance(schema.get("items"), dict):
        found |= _keywords(schema["items"])
    return found


def load_request_schema(path=MODEL_FILE):
    """ConfirmShipmentRequest of the model file, self-contained (no $ref)."""
    model = json.loads(Path(path).read_text(encoding="utf-8"))
    schema = _inline(
        {"$ref": f"#/definitions/{REQUEST_DEFINITION}"}, model["definitions"]
    )
    unchecked = _keywords(schema) - CHECKED_KEYWORDS
    if unchecked:
        raise ValueError(
            f"{path}: {REQUEST_DEFINITION} uses keywords the sandbox does not "
            f"check: {sorted(unchecked)}"
        )
    return schema


REQUEST_SCHEMA = load_request_schema()

SHIPPABLE_STATUSES = ("UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED")
DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"([Zz]|([+-])(\d{2}):(\d{2}))$"
)
PACKAGE_REFERENCE = re.compile(r"^[0-9]+$")


def invalid(message, details=None):
    return ApiError(400, INVALID_INPUT, message, details)


# schema checking ---------------------------------------------------------------

_TYPES = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: (
        isinstance(value, (int, float)) and not isinstance(value, bool)
    ),
    "boolean": lambda value: isinstance(value, bool),
}


def parse_date_time(text):
    """An RFC 3339 date-time (JSON schema's "date-time") as an aware datetime.

    Raises ValueError for anything else.
    """
    found = DATE_TIME.match(text) if isinstance(text, str) else None
    if found is None:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    fraction = found.group(7)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    offset = timedelta(0)
    if found.group(9):
        offset = timedelta(hours=int(found.group(10)), minutes=int(found.group(11)))
        if found.group(9) == "-":
            offset = -offset
        if abs(offset) >= timedelta(hours=24):
            raise ValueError(f"offset out of range: {text!r}")
    moment = datetime(
        year, month, day, hour, minute, second, micro, tzinfo=timezone(offset)
    )
    return moment.astimezone(timezone.utc)


def schema_errors(schema, value, path=()):
    """(path, problem) pairs for the draft 4 keywords of CHECKED_KEYWORDS."""
    kind = schema.get("type")
    if kind is not None and not _TYPES[kind](value):
        return [(path, "type")]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append((path, "enum"))
    if schema.get("format") == "date-time":
        try:
            parse_date_time(value)
        except ValueError:
            problems.append((path, "format"))
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                problems.append(((*path, name), "required"))
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                problems.extend(schema_errors(sub, value[name], (*path, name)))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems.extend(schema_errors(schema["items"], item, (*path, index)))
    return problems


def _field(path):
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text or "body"


def check_schema(body):
    problems = schema_errors(REQUEST_SCHEMA, body)
    if not problems:
        return
    path, problem = problems[0]
    name = _field(path)
    if problem == "required":
        message = f"The request is missing the required field [{name}]."
    elif problem == "enum":
        allowed = _schema_at(path).get("enum", ())
        message = (
            f"The value of [{name}] is not supported; allowed values: "
            f"{', '.join(allowed)}."
        )
    elif problem == "format":
        message = (
            f"The value of [{name}] must be an ISO 8601 date-time "
            "(for example 2026-01-31T15:00:00Z)."
        )
    else:
        message = (
            "The input you have submitted is not valid. Please check the fields "
            f"with invalid type [{name}]."
        )
    raise invalid(message, name)


def _schema_at(path):
    schema = REQUEST_SCHEMA
    for part in path:
        schema = (
            schema["items"] if isinstance(part, int) else schema["properties"][part]
        )
    return schema


# request rules -------------------------------------------------------------------


def _body(request):
    try:
        return request.json()
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None


def _package_reference(value):
    if not PACKAGE_REFERENCE.match(value) or int(value) <= 0:
        raise invalid(
            "packageDetail.packageReferenceId is invalid: it must be a positive "
            f"numeric value, got {value!r}.",
            "packageDetail.packageReferenceId",
        )
    return str(int(value))


def _check_package(detail):
    code = detail["carrierCode"]
    if code not in CARRIER_CODES:
        raise invalid(
            f"The carrierCode {code!r} is not one of Amazon's carrier codes; use "
            '"Other" with carrierName for an unlisted carrier.',
            "packageDetail.carrierCode",
        )
    if code == OTHER_CARRIER and not detail.get("carrierName", "").strip():
        raise invalid(
            'carrierName is required when carrierCode is "Other".',
            "packageDetail.carrierName",
        )
    if not detail["trackingNumber"].strip():
        raise invalid(
            "trackingNumber must not be empty.", "packageDetail.trackingNumber"
        )
    lines = detail["orderItems"]
    if not lines:
        raise invalid(
            "orderItems must list at least one order item.",
            "packageDetail.orderItems",
        )
    seen = set()
    for index, line in enumerate(lines):
        where = f"packageDetail.orderItems[{index}]"
        if line["quantity"] < 1:
            raise invalid(
                f"The quantity of order item {line['orderItemId']} must be a "
                f"positive integer, got {line['quantity']}.",
                f"{where}.quantity",
            )
        if line["orderItemId"] in seen:
            raise invalid(
                f"Order item {line['orderItemId']} appears more than once in the "
                "package.",
                f"{where}.orderItemId",
            )
        seen.add(line["orderItemId"])


def _check_order(order_id, order, body):
    fulfillment = order.get("fulfillment") or {}
    marketplace = (order.get("salesChannel") or {}).get("marketplaceId")
    if body["marketplaceId"] != marketplace:
        raise invalid(
            f"The marketplaceId {body['marketplaceId']} is not the marketplace of "
            f"order {order_id}.",
            "marketplaceId",
        )
    if "codCollectionMethod" in body and marketplace != JAPAN:
        raise invalid(
            "codCollectionMethod is supported only in the JP marketplace.",
            "codCollectionMethod",
        )
    if fulfillment.get("fulfilledBy") == "AMAZON":
        raise invalid(
            f"Order {order_id} is fulfilled by Amazon; Amazon confirms its shipments.",
            "orderId",
        )
    status = fulfillment.get("fulfillmentStatus")
    if status == "CANCELLED":
        raise invalid(
            f"Order {order_id} is cancelled; a cancelled order cannot be shipped.",
            "orderId",
        )
    if status not in SHIPPABLE_STATUSES:
        raise invalid(
            f"Order {order_id} is {status} and cannot be shipped yet.", "orderId"
        )


def _shipped_units(packages):
    """Units shipped per orderItemId: what the packages hold."""
    shipped = {}
    for package in packages:
        for line in package.get("packageItems") or ():
            item_id = line.get("orderItemId")
            shipped[item_id] = shipped.get(item_id, 0) + int(line.get("quantity", 0))
    return shipped


def _unpackaged_units(order):
    """Units fulfilled before, beyond what the packages hold (an order stored
    with quantities but without packages)."""
    packaged = _shipped_units(order.get("packages") or ())
    extra = {}
    for item in order.get("orderItems", []):
        fulfilled = (item.get("fulfillment") or {}).get("quantityFulfilled", 0)
        beyond = fulfilled - packaged.get(item["orderItemId"], 0)
        if beyond > 0:
            extra[item["orderItemId"]] = beyond
    return extra


def _package(order, detail, reference, now, previous):
    code = detail["carrierCode"]
    package = {
        "packageReferenceId": reference,
        "createdTime": previous.get("createdTime", now) if previous else now,
        "packageStatus": {"status": "SHIPPED"},
        "carrier": detail["carrierName"] if code == OTHER_CARRIER else code,
        "shipTime": format_time(parse_date_time(detail["shipDate"])),
    }
    if detail.get("shippingMethod"):
        package["shippingService"] = detail["shippingMethod"]
    package["trackingNumber"] = detail["trackingNumber"]
    package["shipFromAddress"] = ship_from_address(order)
    lines = []
    for line in detail["orderItems"]:
        entry = {"orderItemId": line["orderItemId"], "quantity": line["quantity"]}
        if line.get("transparencyCodes"):
            entry["transparencyCodes"] = list(line["transparencyCodes"])
        lines.append(entry)
    package["packageItems"] = lines
    return package


def apply_confirmation(order_id, order, detail, reference, now):
    """Put the package into a copy of the order; items and status follow.

    Raises ApiError when an item is not the order's or would ship more units
    than ordered.
    """
    order = copy.deepcopy(order)
    items = {item["orderItemId"]: item for item in order.get("orderItems", [])}
    for index, line in enumerate(detail["orderItems"]):
        if line["orderItemId"] not in items:
            raise invalid(
                f"Order item {line['orderItemId']} is not an item of order {order_id}.",
                f"packageDetail.orderItems[{index}].orderItemId",
            )
    extra = _unpackaged_units(order)
    packages = list(order.get("packages") or ())
    position = next(
        (
            index
            for index, package in enumerate(packages)
            if str(package.get("packageReferenceId")) == reference
        ),
        None,
    )
    previous = packages[position] if position is not None else None
    package = _package(order, detail, reference, now, previous)
    if position is None:
        packages.append(package)
    else:
        packages[position] = package
    shipped = _shipped_units(packages)
    for item_id, units in extra.items():
        shipped[item_id] = shipped.get(item_id, 0) + units
    for index, line in enumerate(detail["orderItems"]):
        item = items[line["orderItemId"]]
        if shipped[line["orderItemId"]] > item["quantityOrdered"]:
            raise invalid(
                f"Order item {line['orderItemId']} would ship "
                f"{shipped[line['orderItemId']]} units in all packages; "
                f"{item['quantityOrdered']} were ordered.",
                f"packageDetail.orderItems[{index}].quantity",
            )
    order["packages"] = packages
    set_shipped_units(order, shipped)
    return order


# handler -------------------------------------------------------------------------


def confirm_shipment(server, request):
    order_id = request.path_params["orderId"]
    body = _body(request)
    check_schema(body)
    detail = body["packageDetail"]
    reference = _package_reference(detail["packageReferenceId"])
    _check_package(detail)
    seller_id = request.seller.seller_id
    with server.state.lock:
        stored = server.state.sellers[seller_id].orders.get(order_id)
        if stored is None:
            raise ApiError(
                404, "NotFound", "The requested order was not found.", order_id
            )
        _check_order(order_id, stored.order, body)
        now = format_time(floor_seconds(server.now()))
        order = apply_confirmation(order_id, stored.order, detail, reference, now)
        order["lastUpdatedTime"] = now
        server.state.put_order(seller_id, order, order_id)
        server.state.add_confirmation(seller_id, order_id, body, now)
    return Reply(204)


ROUTES = [
    Route(
        "POST",
        "/orders/v0/orders/{orderId}/shipmentConfirmation",
        CONFIRM,
        confirm_shipment,
        rate=2,
        burst=10,
    ),
]
