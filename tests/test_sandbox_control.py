"""The /_sandbox control endpoints and the command line."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sp_api.api import OrdersV20260101, Sellers
from sp_api.base import SellingApiTemporarilyUnavailableException

SANDBOX_DIR = Path(__file__).resolve().parent / "sandbox"
NEW_SELLER = {
    "seller_id": "A9CONTROLSELLER",
    "client_id": "amzn1.application-oa2-client.control",
    "client_secret": "control-secret",
    "refresh_token": "Atzr|control-refresh",
    "marketplaces": ["US", "A1PA6795UKMFR9"],
}


def test_control_endpoints(sandbox, sp_client):
    with httpx.Client(base_url=sandbox.url) as http:
        answer = http.post("/_sandbox/sellers", json=NEW_SELLER)
        assert answer.status_code == 201
        assert answer.json()["marketplaces"] == ["ATVPDKIKX0DER", "A1PA6795UKMFR9"]

        answer = http.post(
            "/_sandbox/seed",
            json={"seed": 1, "count": 30, "seller_id": NEW_SELLER["seller_id"]},
        )
        assert answer.status_code == 201
        seeded = answer.json()
        assert seeded["count"] == 30 and len(seeded["orderIds"]) == 30

        client = sp_client(
            OrdersV20260101,
            refresh_token=NEW_SELLER["refresh_token"],
            client_id=NEW_SELLER["client_id"],
            client_secret=NEW_SELLER["client_secret"],
        )
        found = client.search_orders(
            createdAfter="2000-01-01T00:00:00Z",
            marketplaceIds="ATVPDKIKX0DER,A1PA6795UKMFR9",
        )
        assert {o["orderId"] for o in found.payload["orders"]} == set(
            seeded["orderIds"]
        )

        answer = http.post(
            "/_sandbox/faults",
            json={"operation": "searchOrders", "kind": "server_error", "count": 1},
        )
        assert answer.status_code == 201 and answer.json() == {"pending": 1}
        with pytest.raises(SellingApiTemporarilyUnavailableException):
            client.search_orders(
                createdAfter="2000-01-01T00:00:00Z", marketplaceIds="ATVPDKIKX0DER"
            )

        calls = http.get("/_sandbox/calls").json()["calls"]
        assert [c["operation"] for c in calls] == [
            "getAccessToken",
            "searchOrders",
            "searchOrders",
        ]
        assert calls[-1]["status"] == 503
        assert calls[-1]["query"]["marketplaceIds"] == "ATVPDKIKX0DER"
        only = http.get(
            "/_sandbox/calls", params={"operation": "getAccessToken"}
        ).json()
        assert len(only["calls"]) == 1

        order_id = seeded["orderIds"][0]
        stored = http.get(f"/_sandbox/orders/{order_id}").json()["order"]
        assert stored["orderId"] == order_id
        assert http.get("/_sandbox/orders/999-0000000-0000000").status_code == 404

        unshipped = next(
            oid
            for oid in seeded["orderIds"]
            if sandbox.get_order_data(oid)["fulfillment"]["fulfillmentStatus"]
            in ("UNSHIPPED", "PENDING")
        )
        answer = http.post(
            f"/_sandbox/orders/{unshipped}/ship", json={"carrier": "UPS"}
        )
        assert answer.json()["order"]["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
        answer = http.post(f"/_sandbox/orders/{unshipped}/cancel", json={})
        assert answer.status_code == 400

        answer = http.post(
            "/_sandbox/rates", json={"operation": "searchOrders", "rate": 1, "burst": 5}
        )
        assert answer.status_code == 200
        assert http.post("/_sandbox/tokens/expire").json() == {"expired": True}
        assert http.delete("/_sandbox/calls").json() == {"calls": []}

        assert (
            http.post(
                "/_sandbox/faults", json={"operation": "nope", "kind": "reset"}
            ).status_code
            == 400
        )
        assert (
            http.post("/_sandbox/sellers", json={"seller_id": "X"}).status_code == 400
        )
        assert http.post("/_sandbox/seed", content=b"not json").status_code == 400
    assert sandbox.call_count() == 0


def test_unknown_paths_and_methods(sandbox):
    with httpx.Client(base_url=sandbox.url) as http:
        answer = http.get("/orders/v0/unknown")
        assert answer.status_code == 404
        assert answer.json()["errors"][0]["code"] == "NotFound"
        answer = http.delete("/orders/2026-01-01/orders")
        assert answer.status_code == 405


def test_host_header_is_ignored(sandbox, sp_client):
    client = sp_client(Sellers)
    assert client.headers["host"] != f"127.0.0.1:{sandbox.port}"
    assert client.get_marketplace_participation().payload


def test_command_line_runs_the_demo_seller():
    process = subprocess.Popen(
        [
            sys.executable,
            str(SANDBOX_DIR),
            "--port",
            "0",
            "--orders",
            "40",
            "--seed",
            "2",
            "--time-scale",
            "100",
            "--settle-seconds",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("SP-API sandbox listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        form = {
            "grant_type": "refresh_token",
            "refresh_token": "Atzr|demo-refresh-token",
            "client_id": "amzn1.application-oa2-client.demo",
            "client_secret": "demo-secret",
        }
        token = httpx.post(f"{url}/auth/o2/token", data=form).json()["access_token"]
        answer = httpx.get(
            f"{url}/sellers/v1/marketplaceParticipations",
            headers={"x-amz-access-token": token},
        )
        ids = [row["marketplace"]["id"] for row in answer.json()["payload"]]
        assert ids == [
            "ATVPDKIKX0DER",
            "A2EUQ1WTGCTBG2",
            "A1PA6795UKMFR9",
            "A13V1IB3VIYZZH",
            "A1F83G8C2ARO7P",
            "APJ6JRA9NG5V4",
            "A1RKKUPIHCS9HS",
        ]
        assert answer.headers["x-amzn-RateLimit-Limit"] == "1.6"
        answer = httpx.get(
            f"{url}/orders/2026-01-01/orders",
            headers={"x-amz-access-token": token},
            params={"createdAfter": "2000-01-01T00:00:00Z"},
        )
        assert len(answer.json()["orders"]) == 40
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_command_line_seller_option():
    from sandbox.cli import build_parser

    args = build_parser().parse_args(
        ["--seller", "A1X:amzn1.application-oa2-client.x:se:cr:et:Atzr|r:DE,UK"]
    )
    (seller,) = args.seller
    assert seller == {
        "seller_id": "A1X",
        "client_id": "amzn1.application-oa2-client.x",
        "client_secret": "se:cr:et",
        "refresh_token": "Atzr|r",
        "marketplaces": ["A1PA6795UKMFR9", "A1F83G8C2ARO7P"],
    }
