"""The SP-API layer against the sandbox, through the real sp_api client."""

import logging

import pytest
from layer import load
from sandbox import SandboxServer

layer = load()

MARKETPLACES = ["A1PA6795UKMFR9", "A13V1IB3VIYZZH", "A1F83G8C2ARO7P"]
TIME_SCALE = 1000.0


@pytest.fixture(scope="module")
def server():
    with SandboxServer(time_scale=TIME_SCALE, settle_seconds=0) as srv:
        yield srv


@pytest.fixture
def seller(server):
    data = server.add_new_seller(MARKETPLACES)
    yield data
    server.clear_faults()


def make_client(server, seller, limiter=None, **kwargs):
    credentials = layer.Credentials(
        client_id=seller["client_id"],
        client_secret=seller["client_secret"],
        refresh_token=seller["refresh_token"],
        region="EU",
        endpoint=server.url,
        lwa_endpoint=f"{server.url}/auth/o2/token",
    )
    return layer.AmazonClient(credentials, limiter, **kwargs)


def test_credentials_hide_secrets_in_repr(seller):
    credentials = layer.Credentials(
        client_id="id",
        client_secret=seller["client_secret"],
        refresh_token=seller["refresh_token"],
    )
    assert seller["client_secret"] not in repr(credentials)
    assert seller["refresh_token"] not in repr(credentials)


def test_region_endpoints():
    credentials = layer.Credentials("id", "s3cret", "Atzr|x", region="FE")
    assert credentials.base_url == "https://sellingpartnerapi-fe.amazon.com"
    with pytest.raises(layer.AmazonInvalidInput):
        _ = layer.Credentials("id", "s3cret", "Atzr|x", region="XX").base_url


def test_participations(server, seller):
    with make_client(server, seller) as client:
        rows = client.get_marketplace_participations()
    assert sorted(r["marketplace"]["id"] for r in rows) == sorted(MARKETPLACES)


def test_search_orders_paginates_without_loss(server, seller):
    orders = server.seed_orders(seed=7, count=250, seller_id=seller["seller_id"])
    expected = {o["orderId"] for o in orders}
    with make_client(server, seller) as client:
        pages = list(
            client.iter_search_orders(
                marketplace_ids=MARKETPLACES,
                last_updated_after="2000-01-01T00:00:00Z",
                included_data=["PROCEEDS", "FULFILLMENT"],
            )
        )
        calls = client.calls
    got = [o["orderId"] for page in pages for o in page["orders"]]
    assert len(pages) == 3
    assert calls == 3
    assert len(got) == len(set(got)) == 250
    assert set(got) == expected
    assert pages[-1]["next_token"] is None
    assert pages[0]["before"]
    assert all("proceeds" in o for o in pages[0]["orders"])
    assert all("buyer" not in o for o in pages[0]["orders"])


def test_search_orders_filters(server, seller):
    server.seed_orders(seed=3, count=120, seller_id=seller["seller_id"])
    with make_client(server, seller) as client:
        page = client.search_orders_page(
            marketplace_ids=MARKETPLACES,
            last_updated_after="2000-01-01T00:00:00Z",
            fulfilled_by=["AMAZON"],
            fulfillment_statuses=["SHIPPED", "CANCELLED"],
            included_data=["FULFILLMENT"],
        )
    assert page["orders"]
    for order in page["orders"]:
        assert order["fulfillment"]["fulfilledBy"] == "AMAZON"
        assert order["fulfillment"]["fulfillmentStatus"] in ("SHIPPED", "CANCELLED")


def test_search_needs_exactly_one_lower_bound(server, seller):
    with make_client(server, seller) as client, pytest.raises(layer.AmazonInvalidInput):
        client.search_orders_page(marketplace_ids=MARKETPLACES)


def test_get_order_and_not_found(server, seller):
    orders = server.seed_orders(seed=5, count=3, seller_id=seller["seller_id"])
    with make_client(server, seller) as client:
        order = client.get_order(orders[0]["orderId"], included_data=["RECIPIENT"])
        assert order["orderId"] == orders[0]["orderId"]
        with pytest.raises(layer.AmazonNotFound):
            client.get_order("999-0000000-0000000")


def test_invalid_parameter_is_invalid_input(server, seller):
    with (
        make_client(server, seller) as client,
        pytest.raises(layer.AmazonInvalidInput) as caught,
    ):
        client.search_orders_page(
            marketplace_ids=MARKETPLACES,
            last_updated_after="not-a-date",
        )
    assert "searchOrders" in str(caught.value)


def test_local_bucket_stops_before_amazon_does(server, seller):
    clock = [0.0]
    limiter = layer.MemoryRateLimiter(clock=lambda: clock[0])
    with make_client(server, seller, limiter) as client:
        for _ in range(15):
            client.get_marketplace_participations()
        before = server.call_count("getMarketplaceParticipations")
        with pytest.raises(layer.AmazonThrottled) as caught:
            client.get_marketplace_participations()
    # The 16th call never left the process.
    assert server.call_count("getMarketplaceParticipations") == before
    # The sandbox announced its (time-scaled) rate; the limiter adopted it.
    assert caught.value.retry_after == pytest.approx(1 / (0.016 * TIME_SCALE))


def test_429_is_translated_with_retry_after(server, seller):
    server.inject_fault("getMarketplaceParticipations", "throttle", count=5)
    with (
        make_client(server, seller) as client,
        pytest.raises(layer.AmazonThrottled) as caught,
    ):
        client.get_marketplace_participations()
    assert caught.value.retry_after > 0
    assert caught.value.operation == "getMarketplaceParticipations"


def test_429_waited_out_within_max_wait(server, seller):
    server.inject_fault("getMarketplaceParticipations", "throttle", count=2)
    clock = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    limiter = layer.MemoryRateLimiter(clock=lambda: clock[0])
    with make_client(server, seller, limiter, max_wait=1.0, sleep=sleep) as client:
        rows = client.get_marketplace_participations()
    assert rows
    assert len(slept) == 2
    assert all(0 < s <= 1.0 for s in slept)


@pytest.mark.parametrize(
    "kind, error, text",
    [
        ("server_error", layer.AmazonServerError, "HTTP 503"),
        ("server_error_html", layer.AmazonServerError, "unreadable"),
        ("malformed", layer.AmazonServerError, "unreadable"),
        ("reset", layer.AmazonServerError, "could not be reached"),
    ],
)
def test_faults(server, seller, kind, error, text):
    server.inject_fault("getMarketplaceParticipations", kind)
    with make_client(server, seller) as client, pytest.raises(error) as caught:
        client.get_marketplace_participations()
    assert text in str(caught.value)
    assert caught.value.retryable


def test_timeout(server, seller):
    server.inject_fault("getMarketplaceParticipations", "slow", delay=1.5)
    with (
        make_client(server, seller, timeout=0.3) as client,
        pytest.raises(layer.AmazonServerError) as caught,
    ):
        client.get_marketplace_participations()
    assert caught.value.code == "Timeout"


def test_expired_token_is_dropped_and_renewed(server, seller):
    with make_client(server, seller) as client:
        client.get_marketplace_participations()
        server.expire_tokens()
        assert client.get_marketplace_participations()


def test_auth_errors(server, seller):
    bad = dict(seller, client_secret="wrong-secret-value")
    with make_client(server, bad) as client:
        client.forget_access_token()
        with pytest.raises(layer.AmazonAuthError) as caught:
            client.get_marketplace_participations()
    assert "invalid_client" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)
    bad = dict(seller, refresh_token="Atzr|unknown-refresh")
    with (
        make_client(server, bad) as client,
        pytest.raises(layer.AmazonAuthError) as caught,
    ):
        client.get_marketplace_participations()
    assert "invalid_grant" in str(caught.value)


def test_missing_credentials():
    with pytest.raises(layer.AmazonAuthError):
        layer.AmazonClient(layer.Credentials("id", "", "Atzr|x"))


def test_no_secret_in_sp_api_debug_logs(server, seller, caplog):
    logging.getLogger("sp_api.base.client").setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG), make_client(server, seller) as client:
            client.forget_access_token()
            client.get_marketplace_participations()
            client.forget_access_token()
            logging.getLogger("sp_api.base.client").setLevel(logging.DEBUG)
            client.get_marketplace_participations()
    finally:
        logging.getLogger("sp_api.base.client").setLevel(logging.INFO)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Request Headers" in text  # the records were kept, but redacted
    assert "Atza|" not in text
    assert seller["client_secret"] not in text
    assert seller["refresh_token"] not in text


def test_scrub():
    text = "{'x-amz-access-token': 'Atza|abcdef', 'client_secret': 'zzz999'}"
    cleaned = layer.scrub(text)
    assert "Atza|abcdef" not in cleaned
    assert "zzz999" not in cleaned


def test_token_bucket_math():
    state = layer.BucketState(rate=0.5, burst=2, tokens=2.0, stamp=0.0)
    state, wait = layer.take_token(state, 0.0)
    assert wait == 0
    state, wait = layer.take_token(state, 0.0)
    assert wait == 0
    state, wait = layer.take_token(state, 0.0)
    assert wait == pytest.approx(2.0)
    state, wait = layer.take_token(state, 2.0)
    assert wait == 0
    state = layer.drain(state, 2.0, rate=0.25)
    assert state.tokens == 0 and state.rate == 0.25


# -- Login with Amazon: outages against refused credentials ------------------


def _fresh_token(client):
    # sp_api caches access tokens by refresh token: ask Login with Amazon.
    client.forget_access_token()


@pytest.mark.parametrize(
    "kind, options, code",
    [
        ("server_error", {}, "LwaUnavailable"),
        ("server_error", {"status": 500}, "LwaUnavailable"),
        ("server_error_html", {}, "MalformedResponse"),
        ("throttle", {}, "LwaUnavailable"),
        ("reset", {}, "Unreachable"),
    ],
)
def test_lwa_outage_is_transient(server, seller, kind, options, code):
    server.inject_fault("getAccessToken", kind, **options)
    with (
        make_client(server, seller) as client,
        pytest.raises(layer.AmazonServerError) as caught,
    ):
        _fresh_token(client)
        client.get_marketplace_participations()
    assert caught.value.retryable
    assert caught.value.code == code
    assert "could not be reached" in str(caught.value)
    # Login with Amazon answered the fault: the outage was its own.
    assert server.faults.pending("getAccessToken") == 0


def test_lwa_timeout_is_transient(server, seller):
    server.inject_fault("getAccessToken", "slow", delay=1.5)
    with (
        make_client(server, seller, timeout=0.3) as client,
        pytest.raises(layer.AmazonServerError) as caught,
    ):
        _fresh_token(client)
        client.get_marketplace_participations()
    assert caught.value.retryable
    assert "could not be reached" in str(caught.value)


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"refresh_token": "Atzr|not-a-known-token"}, 400, "invalid_grant"),
        ({"client_secret": "not-the-secret"}, 401, "invalid_client"),
    ],
)
def test_lwa_refused_credentials_are_final(server, seller, change, status, code):
    with (
        make_client(server, {**seller, **change}) as client,
        pytest.raises(layer.AmazonAuthError) as caught,
    ):
        _fresh_token(client)
        client.get_marketplace_participations()
    assert not caught.value.retryable
    assert caught.value.status == status
    assert caught.value.code == code
    assert "refused the credentials" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)


@pytest.mark.parametrize(
    "url, problem",
    [
        ("sandbox.example.com", "scheme"),
        ("ftp://sandbox.example.com", "scheme"),
        ("https://", "host"),
        ("http:///auth/o2/token", "host"),
        ("https://sandbox.example.com:port", "port"),
        ("https://sandbox.example.com:99999", "port"),
        ("https://sand box.example.com", "spaces"),
        ("https://sandbox.example.com\n", "spaces"),
        ("https://sandbox.example.com/?x=1", "query"),
        ("  ", "empty"),
    ],
)
def test_malformed_endpoint_is_refused_not_retried(server, seller, url, problem):
    assert layer.endpoint_problem(url) == problem
    for field in ("endpoint", "lwa_endpoint"):
        credentials = layer.Credentials(
            client_id=seller["client_id"],
            client_secret=seller["client_secret"],
            refresh_token=seller["refresh_token"],
            region="EU",
            **{
                "endpoint": server.url,
                "lwa_endpoint": f"{server.url}/auth/o2/token",
                field: url,
            },
        )
        with (
            layer.AmazonClient(credentials) as client,
            pytest.raises(layer.AmazonInvalidInput) as caught,
        ):
            client.get_marketplace_participations()
        assert not caught.value.retryable
        assert "not a valid http(s) URL" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "https://sandbox.example.com/base/", "http://[::1]:9"],
)
def test_valid_endpoints_are_accepted(url):
    assert layer.endpoint_problem(url) is None


class _BookkeepingFails(layer.MemoryRateLimiter):
    """Buckets whose store gives up after Amazon has answered."""

    def observe(self, operation, rate):
        raise OSError("the rate-limit store is unavailable")

    def throttled(self, operation, rate=None):
        raise OSError("the rate-limit store is unavailable")


def test_answer_kept_when_bookkeeping_fails(server, seller, caplog):
    with make_client(server, seller, _BookkeepingFails()) as client:
        rows = client.get_marketplace_participations()
    assert sorted(r["marketplace"]["id"] for r in rows) == sorted(MARKETPLACES)
    assert "Could not record the rate" in caplog.text


def test_throttle_reported_when_bookkeeping_fails(server, seller):
    server.inject_fault("getMarketplaceParticipations", "throttle")
    with (
        make_client(server, seller, _BookkeepingFails()) as client,
        pytest.raises(layer.AmazonThrottled) as caught,
    ):
        client.get_marketplace_participations()
    assert caught.value.retry_after > 0
