"""Control endpoints under /_sandbox/ for a sandbox running as its own process.

They take and return JSON; errors answer {"error": "..."} with 400 or 404.
"""

from ..routing import Reply, Route


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _body(request):
    try:
        data = request.json()
    except ValueError:
        raise ControlError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise ControlError(400, "the body must be a JSON object")
    return data


def _required(data, *names):
    missing = [name for name in names if data.get(name) in (None, "")]
    if missing:
        raise ControlError(400, f"missing field(s): {', '.join(missing)}")


def add_seller(server, request):
    data = _body(request)
    _required(
        data, "seller_id", "client_id", "client_secret", "refresh_token", "marketplaces"
    )
    seller = server.add_seller(
        data["seller_id"],
        data["client_id"],
        data["client_secret"],
        data["refresh_token"],
        data["marketplaces"],
        store_name=data.get("store_name"),
    )
    return Reply(
        201,
        {
            "sellerId": seller.seller_id,
            "marketplaces": seller.marketplaces,
            "storeName": seller.store_name,
        },
    )


def seed(server, request):
    data = _body(request)
    options = {
        key: data[key]
        for key in ("marketplaces", "start", "end", "fba_share")
        if key in data
    }
    orders = server.seed_orders(
        int(data.get("seed", 1)),
        int(data.get("count", 100)),
        seller_id=data.get("seller_id"),
        **options,
    )
    seller = server.state.seller(data.get("seller_id"))
    return Reply(
        201,
        {
            "sellerId": seller.seller_id,
            "count": len(orders),
            "orderIds": [order["orderId"] for order in orders],
        },
    )


def add_fault(server, request):
    data = _body(request)
    _required(data, "operation", "kind")
    server.inject_fault(
        data["operation"],
        data["kind"],
        count=int(data.get("count", 1)),
        delay=float(data.get("delay", 0.0)),
        status=data.get("status"),
    )
    return Reply(201, {"pending": server.faults.pending(data["operation"])})


def list_calls(server, request):
    operation = request.query_dict().get("operation")
    calls = [
        {"operation": op, "status": status, "query": query}
        for op, status, query in server.calls
        if operation in (None, op)
    ]
    return Reply(200, {"calls": calls})


def clear_calls(server, request):
    server.clear_calls()
    return Reply(200, {"calls": []})


def get_order(server, request):
    return Reply(200, {"order": server.get_order_data(request.path_params["orderId"])})


def cancel_order(server, request):
    data = _body(request)
    order = server.cancel_order(
        request.path_params["orderId"],
        cancelled_by=data.get("cancelled_by", "BUYER"),
        reason=data.get("reason"),
    )
    return Reply(200, {"order": order})


def ship_order(server, request):
    data = _body(request)
    order = server.ship_order(
        request.path_params["orderId"],
        carrier=data.get("carrier"),
        tracking_number=data.get("tracking_number"),
    )
    return Reply(200, {"order": order})


def order_packages(server, request):
    packages = server.packages_of(
        request.path_params["orderId"],
        seller_id=request.query_dict().get("seller_id"),
    )
    return Reply(200, {"packages": packages})


def order_confirmations(server, request):
    confirmations = server.confirmations_of(
        request.path_params["orderId"],
        seller_id=request.query_dict().get("seller_id"),
    )
    return Reply(200, {"confirmations": confirmations})


def expire_tokens(server, request):
    server.expire_tokens()
    return Reply(200, {"expired": True})


def set_rate(server, request):
    data = _body(request)
    _required(data, "operation", "rate", "burst")
    server.set_rate(data["operation"], float(data["rate"]), int(data["burst"]))
    return Reply(
        200,
        {"operation": data["operation"], "rate": data["rate"], "burst": data["burst"]},
    )


def refund_order(server, request):
    data = _body(request)
    transaction = server.refund_order(
        request.path_params["orderId"],
        items=data.get("items"),
        kind=data.get("kind", "RETURN"),
        amounts=data.get("amounts"),
        seller_id=data.get("seller_id"),
        posted=data.get("posted"),
        reason=data.get("reason"),
    )
    return Reply(201, {"transaction": transaction})


def post_refund(server, request):
    data = _body(request)
    _required(data, "order_id", "marketplace", "items")
    transaction = server.post_refund(
        data["order_id"],
        data["marketplace"],
        data["items"],
        kind=data.get("kind", "RETURN"),
        seller_id=data.get("seller_id"),
        posted=data.get("posted"),
        reason=data.get("reason"),
        network=data.get("network", "MFN"),
    )
    return Reply(201, {"transaction": transaction})


def add_transaction(server, request):
    data = _body(request)
    if "transaction" not in data:
        raise ControlError(400, "missing field(s): transaction")
    transaction = server.add_transaction(
        data["transaction"], seller_id=data.get("seller_id"), posted=data.get("posted")
    )
    return Reply(201, {"transaction": transaction})


def list_transactions(server, request):
    query = request.query_dict()
    transactions = server.transactions_of(
        seller_id=query.get("seller_id"), order_id=query.get("order_id")
    )
    return Reply(200, {"transactions": transactions})


def configure_finances(server, request):
    data = _body(request)
    return Reply(200, {"options": server.configure_finances(**data)})


def configure_reports(server, request):
    data = _body(request)
    seller_id = data.pop("seller_id", None)
    return Reply(200, {"options": server.configure_reports(seller_id, **data)})


def list_settlements(server, request):
    seller_id = request.query_dict().get("seller_id")
    return Reply(200, {"settlements": server.settlements(seller_id)})


def plant_settlement(server, request):
    data = _body(request)
    planted = server.plant_settlement(
        request.path_params["settlementId"],
        rows=data.get("rows"),
        total_delta=data.get("total_delta"),
        status=data.get("status"),
        listed_twice=data.get("listed_twice"),
    )
    return Reply(
        201,
        {
            "rows": len(planted.rows),
            "totalDelta": str(planted.total_delta),
            "status": planted.status,
            "listedTwice": planted.listed_twice,
        },
    )


def configure_order_reports(server, request):
    data = _body(request)
    seller_id = data.pop("seller_id", None)
    return Reply(200, {"options": server.configure_order_reports(seller_id, **data)})


def list_order_reports(server, request):
    seller_id = request.query_dict().get("seller_id")
    return Reply(200, {"reports": server.order_reports(seller_id)})


def run(handler, server, request):
    """Call a control handler, turning failures into JSON error answers."""
    try:
        return handler(server, request)
    except ControlError as error:
        return Reply(error.status, {"error": str(error)})
    except KeyError as error:
        return Reply(404, {"error": f"not found: {error.args[0]}"})
    except (LookupError, ValueError, TypeError) as error:
        return Reply(400, {"error": str(error)})


def _control(method, pattern, name, handler):
    return Route(
        method,
        pattern,
        name,
        lambda server, request: run(handler, server, request),
        kind="control",
    )


ROUTES = [
    _control("POST", "/_sandbox/sellers", "control.addSeller", add_seller),
    _control("POST", "/_sandbox/seed", "control.seed", seed),
    _control("POST", "/_sandbox/faults", "control.addFault", add_fault),
    _control("GET", "/_sandbox/calls", "control.listCalls", list_calls),
    _control("DELETE", "/_sandbox/calls", "control.clearCalls", clear_calls),
    _control("GET", "/_sandbox/orders/{orderId}", "control.getOrder", get_order),
    _control(
        "POST", "/_sandbox/orders/{orderId}/cancel", "control.cancelOrder", cancel_order
    ),
    _control(
        "POST", "/_sandbox/orders/{orderId}/ship", "control.shipOrder", ship_order
    ),
    _control(
        "GET",
        "/_sandbox/orders/{orderId}/packages",
        "control.orderPackages",
        order_packages,
    ),
    _control(
        "GET",
        "/_sandbox/orders/{orderId}/confirmations",
        "control.orderConfirmations",
        order_confirmations,
    ),
    _control("POST", "/_sandbox/tokens/expire", "control.expireTokens", expire_tokens),
    _control("POST", "/_sandbox/rates", "control.setRate", set_rate),
    _control(
        "POST", "/_sandbox/orders/{orderId}/refund", "control.refundOrder", refund_order
    ),
    _control("POST", "/_sandbox/refunds", "control.postRefund", post_refund),
    _control(
        "POST", "/_sandbox/transactions", "control.addTransaction", add_transaction
    ),
    _control(
        "GET", "/_sandbox/transactions", "control.listTransactions", list_transactions
    ),
    _control(
        "POST", "/_sandbox/finances", "control.configureFinances", configure_finances
    ),
    _control(
        "POST", "/_sandbox/reports", "control.configureReports", configure_reports
    ),
    _control(
        "GET", "/_sandbox/settlements", "control.listSettlements", list_settlements
    ),
    _control(
        "POST",
        "/_sandbox/settlements/{settlementId}",
        "control.plantSettlement",
        plant_settlement,
    ),
    _control(
        "POST",
        "/_sandbox/order-reports",
        "control.configureOrderReports",
        configure_order_reports,
    ),
    _control(
        "GET", "/_sandbox/order-reports", "control.listOrderReports", list_order_reports
    ),
]
