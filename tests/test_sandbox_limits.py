"""Usage plans (429 and recovery) and injected faults, as sp_api experiences them.

Tests whose outcome depends on how much time passes between calls take the
`clock` fixture: the sandbox's time then moves only when they advance it.
"""

import time
from datetime import timedelta

import httpx
import pytest
from sandbox.marketplaces import CODE_TO_ID
from sandbox.ratelimit import RateLimiter
from sandbox.timeutil import ManualClock, format_time, utcnow
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


def test_burst_then_429_then_recovery(sandbox, sp_client, clock):
    sandbox.time_scale = 2 / 0.0056
    client = sp_client(OrdersV20260101)
    successes = 0
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        for _ in range(40):
            search(client)
            successes += 1
    assert successes == 20
    assert caught.value.error == [
        {
            "code": "QuotaExceeded",
            "message": "You exceeded your quota for the requested resource.",
        }
    ]
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "2"
    # Two tokens a second: a quarter of a second earns half a token.
    clock.advance(0.25)
    with pytest.raises(SellingApiRequestThrottledException):
        search(client)
    clock.advance(0.3)
    assert search(client).payload["orders"] == []
    assert [status for _, status, _ in sandbox.calls][-2:] == [429, 200]


def test_set_rate_overrides_the_usage_plan(sandbox, sp_client, clock):
    sandbox.set_rate("getMarketplaceParticipations", 0.001, 3)
    client = sp_client(Sellers)
    for _ in range(3):
        client.get_marketplace_participation()
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        client.get_marketplace_participation()
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "1"
    sandbox.reset_rate_limits()
    client.get_marketplace_participation()


def test_quota_is_per_operation(sandbox, sp_client, clock):
    sandbox.set_rate("searchOrders", 0.0001, 1)
    orders = sandbox.seed_orders(2, 3)
    client = sp_client(OrdersV20260101)
    search(client)
    with pytest.raises(SellingApiRequestThrottledException):
        search(client)
    assert client.get_order(orders[0]["orderId"]).payload["order"]


def test_quota_refills_only_as_the_clock_moves(sandbox, sp_client, clock):
    sandbox.set_rate("getMarketplaceParticipations", 0.001, 2)
    client = sp_client(Sellers)
    for _ in range(2):
        client.get_marketplace_participation()
    # However long the calls take, no token comes back until the clock moves.
    for _ in range(3):
        with pytest.raises(SellingApiRequestThrottledException):
            client.get_marketplace_participation()
    clock.advance(0.5)
    with pytest.raises(SellingApiRequestThrottledException):
        client.get_marketplace_participation()
    clock.advance(1.6)
    for _ in range(2):
        client.get_marketplace_participation()
    with pytest.raises(SellingApiRequestThrottledException):
        client.get_marketplace_participation()
    statuses = [s for op, s, _ in sandbox.calls if op == "getMarketplaceParticipations"]
    assert statuses == [200, 200, 429, 429, 429, 429, 200, 200, 429]


def test_switching_clocks_keeps_the_tokens_earned():
    seconds = [100.0]
    limiter = RateLimiter(time_scale=1, clock=lambda: seconds[0])
    limiter.set_plan("op", 1, 2)
    assert [limiter.allow("S", "op") for _ in range(3)] == [True, True, False]
    seconds[0] += 0.5
    # The epoch seconds of the manual clock are no refill of their own.
    manual = ManualClock()
    limiter.clock = manual
    assert limiter.clock is manual
    assert not limiter.allow("S", "op")
    manual.advance(0.5)
    assert limiter.allow("S", "op")
    assert not limiter.allow("S", "op")
    limiter.time_scale = 4
    manual.advance(0.25)
    assert limiter.allow("S", "op")


def test_manual_clock_moves_only_forward_when_told():
    start = "2025-08-01T10:00:00Z"
    clock = ManualClock(start)
    assert clock() == clock.time() == clock.monotonic()
    assert format_time(clock.now()) == start
    assert clock.advance(90) == clock()
    clock.sleep(30)
    assert format_time(clock.now()) == "2025-08-01T10:02:00Z"
    with pytest.raises(ValueError):
        clock.advance(-1)
    frozen = ManualClock(start, real_dates=True)
    before = utcnow()
    assert before <= frozen.now() <= utcnow()
    assert frozen() == ManualClock(start)()
    whole = ManualClock()
    assert whole() == int(whole())


def test_sandbox_now_and_tokens_follow_its_clock(sandbox, sp_client, clock):
    sandbox.settle_seconds = 120
    sandbox.seed_orders(1, 5)
    client = sp_client(OrdersV20260101)
    response = client.search_orders(lastUpdatedAfter=EPOCH, marketplaceIds=US)
    bound = format_time(clock.now() - timedelta(seconds=120))
    assert response.payload["lastUpdatedBefore"] == bound
    assert sandbox.now() == clock.now()
    clock.advance(3599)
    client.search_orders(lastUpdatedAfter=EPOCH, marketplaceIds=US)
    clock.advance(1)
    with pytest.raises(SellingApiForbiddenException) as caught:
        client.search_orders(lastUpdatedAfter=EPOCH, marketplaceIds=US)
    assert caught.value.error[0]["details"] == (
        "The access token you provided has expired."
    )


def test_advance_needs_a_manual_clock(sandbox):
    with pytest.raises(TypeError):
        sandbox.advance(1)
    sandbox.clock = ManualClock("2025-01-01T00:00:00Z")
    sandbox.advance(60)
    assert format_time(sandbox.now()) == "2025-01-01T00:01:00Z"
    sandbox.clock = None
    with pytest.raises(TypeError):
        sandbox.advance(1)


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
