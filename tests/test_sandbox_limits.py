"""Usage plans (429 and recovery) and injected faults, as sp_api experiences them."""

import time

import httpx
import pytest
from sandbox.marketplaces import CODE_TO_ID
from sp_api.api import OrdersV20260101, Sellers
from sp_api.base import (
    SellingApiForbiddenException,
    SellingApiRequestThrottledException,
    SellingApiServerException,
    SellingApiTemporarilyUnavailableException,
)

EPOCH = "2000-01-01T00:00:00Z"
US = CODE_TO_ID["US"]


def search(client):
    return client.search_orders(createdAfter=EPOCH, marketplaceIds=US)


def test_rate_header_is_the_scaled_rate(sandbox, sp_client):
    sandbox.seed_orders(1, 5)
    client = sp_client(OrdersV20260101)
    assert search(client).headers["x-amzn-RateLimit-Limit"] == "5.6"
    sandbox.time_scale = 1
    assert search(client).headers["x-amzn-RateLimit-Limit"] == "0.0056"
    sandbox.time_scale = 2.5
    assert search(client).headers["x-amzn-RateLimit-Limit"] == "0.014"


def test_burst_then_429_then_recovery(sandbox, sp_client):
    sandbox.time_scale = 2 / 0.0056
    client = sp_client(OrdersV20260101)
    successes = 0
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        for _ in range(40):
            search(client)
            successes += 1
    assert 20 <= successes <= 21
    assert caught.value.error == [
        {
            "code": "QuotaExceeded",
            "message": "You exceeded your quota for the requested resource.",
        }
    ]
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "2"
    time.sleep(0.6)
    assert search(client).payload["orders"] == []
    assert [status for _, status, _ in sandbox.calls][-2:] == [429, 200]


def test_set_rate_overrides_the_usage_plan(sandbox, sp_client):
    sandbox.set_rate("getMarketplaceParticipations", 0.001, 3)
    client = sp_client(Sellers)
    for _ in range(3):
        client.get_marketplace_participation()
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        client.get_marketplace_participation()
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "1"
    sandbox.reset_rate_limits()
    client.get_marketplace_participation()


def test_quota_is_per_operation(sandbox, sp_client):
    sandbox.set_rate("searchOrders", 0.0001, 1)
    orders = sandbox.seed_orders(2, 3)
    client = sp_client(OrdersV20260101)
    search(client)
    with pytest.raises(SellingApiRequestThrottledException):
        search(client)
    assert client.get_order(orders[0]["orderId"]).payload["order"]


def test_lwa_has_no_quota(sandbox, seller):
    form = {
        "grant_type": "refresh_token",
        "refresh_token": seller["refresh_token"],
        "client_id": seller["client_id"],
        "client_secret": seller["client_secret"],
    }
    with httpx.Client() as http:
        answers = [
            http.post(f"{sandbox.url}/auth/o2/token", data=form) for _ in range(60)
        ]
    assert {answer.status_code for answer in answers} == {200}
    assert "x-amzn-RateLimit-Limit" not in answers[0].headers


def test_request_log(sandbox, sp_client):
    client = sp_client(Sellers)
    client.get_marketplace_participation()
    orders = sp_client(OrdersV20260101)
    orders.search_orders(createdAfter=EPOCH, marketplaceIds=US, includedData="BUYER")
    assert sandbox.call_count() == 3
    assert sandbox.call_count("getAccessToken") == 1
    assert sandbox.call_count("getMarketplaceParticipations") == 1
    operation, status, query = sandbox.calls[-1]
    assert (operation, status) == ("searchOrders", 200)
    assert query == {
        "createdAfter": EPOCH,
        "marketplaceIds": US,
        "includedData": "BUYER",
    }
    sandbox.clear_calls()
    assert sandbox.call_count() == 0


# faults -------------------------------------------------------------------------


def test_server_error_raises(sandbox, sp_client):
    client = sp_client(Sellers)
    sandbox.inject_fault("getMarketplaceParticipations", "server_error")
    with pytest.raises(SellingApiTemporarilyUnavailableException) as caught:
        client.get_marketplace_participation()
    assert caught.value.amzn_code == "InternalFailure"
    sandbox.inject_fault("getMarketplaceParticipations", "server_error", status=500)
    with pytest.raises(SellingApiServerException):
        client.get_marketplace_participation()
    assert client.get_marketplace_participation().payload


def test_html_error_gives_an_empty_payload(sandbox, sp_client):
    client = sp_client(Sellers)
    sandbox.inject_fault("getMarketplaceParticipations", "server_error_html")
    response = client.get_marketplace_participation()
    assert response.payload == {}
    assert sandbox.calls[-1][1] == 503


def test_malformed_json_gives_an_empty_payload(sandbox, sp_client):
    sandbox.seed_orders(1, 20)
    client = sp_client(OrdersV20260101)
    sandbox.inject_fault("searchOrders", "malformed")
    response = search(client)
    assert response.payload == {}
    assert response.next_token is None
    assert search(client).payload["orders"]


def test_malformed_body_is_cut_json(sandbox, sp_client, seller):
    client = sp_client(Sellers)
    token = client.auth.access_token
    sandbox.inject_fault("getMarketplaceParticipations", "malformed")
    answer = httpx.get(
        f"{sandbox.url}/sellers/v1/marketplaceParticipations",
        headers={"x-amz-access-token": token},
    )
    assert answer.status_code == 200
    assert answer.text.startswith('{"payload": [')
    with pytest.raises(ValueError):
        answer.json()


def test_throttle_fault(sandbox, sp_client):
    client = sp_client(Sellers)
    sandbox.inject_fault("getMarketplaceParticipations", "throttle", count=2)
    for _ in range(2):
        with pytest.raises(SellingApiRequestThrottledException) as caught:
            client.get_marketplace_participation()
        assert caught.value.headers["x-amzn-RateLimit-Limit"] == "16"
    assert client.get_marketplace_participation().payload


def test_expired_token_fault(sandbox, sp_client):
    client = sp_client(Sellers)
    sandbox.inject_fault("getMarketplaceParticipations", "expired_token")
    with pytest.raises(SellingApiForbiddenException) as caught:
        client.get_marketplace_participation()
    assert (
        caught.value.error[0]["details"] == "The access token you provided has expired."
    )
    assert client.get_marketplace_participation().payload


def test_reset_raises_a_transport_error(sandbox, sp_client):
    client = sp_client(Sellers)
    client.get_marketplace_participation()
    sandbox.inject_fault("getMarketplaceParticipations", "reset")
    with pytest.raises(httpx.TransportError):
        client.get_marketplace_participation()
    assert sandbox.calls[-1][:2] == ("getMarketplaceParticipations", 0)
    assert client.get_marketplace_participation().payload


def test_slow_answers_late_or_times_out(sandbox, sp_client):
    client = sp_client(Sellers, timeout=0.3)
    sandbox.inject_fault("getMarketplaceParticipations", "slow", delay=0.1)
    started = time.monotonic()
    assert client.get_marketplace_participation().payload
    assert time.monotonic() - started >= 0.1
    sandbox.inject_fault("getMarketplaceParticipations", "slow", delay=1.0)
    with pytest.raises(httpx.TimeoutException):
        client.get_marketplace_participation()


def test_faults_are_consumed_in_order(sandbox, sp_client):
    client = sp_client(Sellers)
    sandbox.inject_fault("getMarketplaceParticipations", "throttle")
    sandbox.inject_fault("getMarketplaceParticipations", "server_error", count=2)
    with pytest.raises(SellingApiRequestThrottledException):
        client.get_marketplace_participation()
    for _ in range(2):
        with pytest.raises(SellingApiTemporarilyUnavailableException):
            client.get_marketplace_participation()
    assert client.get_marketplace_participation().payload
    statuses = [s for op, s, _ in sandbox.calls if op == "getMarketplaceParticipations"]
    assert statuses == [429, 503, 503, 200]


def test_fault_on_the_token_endpoint(sandbox, sp_client):
    client = sp_client(Sellers)
    sandbox.inject_fault("getAccessToken", "reset")
    with pytest.raises(httpx.TransportError):
        client.get_marketplace_participation()
    assert client.get_marketplace_participation().payload


def test_fault_for_any_operation_and_validation(sandbox, sp_client):
    client = sp_client(Sellers)
    client.get_marketplace_participation()
    sandbox.inject_fault("*", "throttle")
    with pytest.raises(SellingApiRequestThrottledException):
        client.get_marketplace_participation()
    with pytest.raises(ValueError):
        sandbox.inject_fault("searchOrder", "throttle")
    with pytest.raises(ValueError):
        sandbox.inject_fault("searchOrders", "explode")
