"""LWA tokens, access tokens and seller isolation, through the real sp_api client."""

import httpx
import pytest
from sandbox.marketplaces import CODE_TO_ID, MARKETPLACES
from sp_api.api import OrdersV20260101, Sellers
from sp_api.auth import access_token_client as token_cache
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import SellingApiForbiddenException, SellingApiNotFoundException

EPOCH = "2000-01-01T00:00:00Z"
OTHER = {
    "seller_id": "A2OTHERSELLER9",
    "client_id": "amzn1.application-oa2-client.tests",
    "client_secret": "tests-secret",
    "refresh_token": "Atzr|other-refresh-token",
    "marketplaces": ["DE", "FR"],
}


def test_lwa_issues_bearer_tokens(sandbox, seller):
    answer = httpx.post(
        f"{sandbox.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": seller["refresh_token"],
            "client_id": seller["client_id"],
            "client_secret": seller["client_secret"],
        },
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["access_token"].startswith("Atza|")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"] == seller["refresh_token"]
    assert sandbox.calls[-1][:2] == ("getAccessToken", 200)


def test_wrong_client_secret_is_invalid_client(sandbox, sp_client):
    client = sp_client(Sellers, client_secret="wrong")
    with pytest.raises(AuthorizationError) as caught:
        client.get_marketplace_participation()
    assert caught.value.status_code == 401
    assert caught.value.error_code == "invalid_client"
    assert caught.value.message == "Client authentication failed"


def test_unknown_client_is_invalid_client(sandbox, sp_client):
    client = sp_client(Sellers, client_id="amzn1.application-oa2-client.nobody")
    with pytest.raises(AuthorizationError) as caught:
        client.get_marketplace_participation()
    assert (caught.value.status_code, caught.value.error_code) == (
        401,
        "invalid_client",
    )


def test_unknown_refresh_token_is_invalid_grant(sandbox, sp_client):
    client = sp_client(Sellers, refresh_token="Atzr|revoked")
    with pytest.raises(AuthorizationError) as caught:
        client.get_marketplace_participation()
    assert caught.value.status_code == 400
    assert caught.value.error_code == "invalid_grant"
    assert caught.value.message == (
        "The request has an invalid grant parameter : refresh_token"
    )


def test_other_grant_types_are_refused(sandbox, seller):
    answer = httpx.post(
        f"{sandbox.url}/auth/o2/token",
        data={
            "grant_type": "client_credentials",
            "scope": "sellingpartnerapi::notifications",
            "client_id": seller["client_id"],
            "client_secret": seller["client_secret"],
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_unknown_access_token_is_unauthorized(sandbox, sp_client):
    client = sp_client(Sellers)
    client.restricted_data_token = "Atza|made-up"
    with pytest.raises(SellingApiForbiddenException) as caught:
        client.get_marketplace_participation()
    assert caught.value.error == [
        {
            "code": "Unauthorized",
            "message": "Access to requested resource is denied.",
            "details": "",
        }
    ]


def test_missing_access_token_is_unauthorized(sandbox):
    answer = httpx.get(f"{sandbox.url}/sellers/v1/marketplaceParticipations")
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "Unauthorized"


def test_expired_tokens_stay_cached_by_sp_api_until_dropped(sandbox, sp_client, seller):
    client = sp_client(Sellers)
    client.get_marketplace_participation()
    sandbox.expire_tokens()
    for _ in range(2):
        with pytest.raises(SellingApiForbiddenException) as caught:
            client.get_marketplace_participation()
        assert (
            caught.value.error[0]["details"]
            == "The access token you provided has expired."
        )
    token_cache.cache.clear()
    assert client.get_marketplace_participation().payload
    assert sandbox.call_count("getAccessToken") == 2


def test_participations_list_the_sellers_marketplaces(sandbox, sp_client, seller):
    response = sp_client(Sellers).get_marketplace_participation()
    rows = response.payload
    assert [row["marketplace"]["id"] for row in rows] == seller["marketplaces"]
    de = next(row for row in rows if row["marketplace"]["id"] == CODE_TO_ID["DE"])
    assert de["marketplace"] == {
        "id": "A1PA6795UKMFR9",
        "name": "Amazon.de",
        "countryCode": "DE",
        "defaultCurrencyCode": "EUR",
        "defaultLanguageCode": "de_DE",
        "domainName": "www.amazon.de",
    }
    jp = next(row for row in rows if row["marketplace"]["id"] == CODE_TO_ID["JP"])
    assert jp["marketplace"]["defaultCurrencyCode"] == "JPY"
    assert all(
        row["participation"] == {"isParticipating": True, "hasSuspendedListings": False}
        for row in rows
    )
    assert response.headers["x-amzn-RateLimit-Limit"] == "16"


def test_marketplace_table_has_the_documented_marketplaces():
    expected = {
        "ATVPDKIKX0DER": ("US", "USD"),
        "A1PA6795UKMFR9": ("DE", "EUR"),
        "A1F83G8C2ARO7P": ("GB", "GBP"),
        "A13V1IB3VIYZZH": ("FR", "EUR"),
        "APJ6JRA9NG5V4": ("IT", "EUR"),
        "A1RKKUPIHCS9HS": ("ES", "EUR"),
        "A1805IZSGTT6HS": ("NL", "EUR"),
        "A2NODRKZP88ZB9": ("SE", "SEK"),
        "A1C3SOZRARQ6R3": ("PL", "PLN"),
        "A2EUQ1WTGCTBG2": ("CA", "CAD"),
        "A1AM78C64UM0Y8": ("MX", "MXN"),
        "A2Q3Y263D00KWC": ("BR", "BRL"),
        "A1VC38T7YXB528": ("JP", "JPY"),
        "A39IBJ37TRP1C6": ("AU", "AUD"),
        "A19VAU5U5O7RUS": ("SG", "SGD"),
        "A21TJRUUN4KGV": ("IN", "INR"),
        "A2VIGQ35RCS4UG": ("AE", "AED"),
        "A33AVAJ2PDY3EV": ("TR", "TRY"),
        "ARBP9OOSHTCHU": ("EG", "EGP"),
        "A17E79C6D8DWNP": ("SA", "SAR"),
        "AMEN7PMS3EDWL": ("BE", "EUR"),
        "A28R8C7NBKEWEA": ("IE", "EUR"),
    }
    for mid, (country, currency) in expected.items():
        assert (MARKETPLACES[mid]["countryCode"], MARKETPLACES[mid]["currency"]) == (
            country,
            currency,
        )


def test_each_seller_sees_only_its_own_data(sandbox, sp_client, search_all):
    sandbox.add_seller(**OTHER)
    mine = sandbox.seed_orders(4, 60)
    theirs = sandbox.seed_orders(5, 40, seller_id=OTHER["seller_id"])
    de_fr = f"{CODE_TO_ID['DE']},{CODE_TO_ID['FR']}"

    first = sp_client(OrdersV20260101)
    other = sp_client(OrdersV20260101, refresh_token=OTHER["refresh_token"])

    found, _ = search_all(other, createdAfter=EPOCH, marketplaceIds=de_fr)
    assert {o["orderId"] for o in found} == {o["orderId"] for o in theirs}
    found, _ = search_all(first, createdAfter=EPOCH, marketplaceIds=de_fr)
    assert {o["orderId"] for o in found} == {
        o["orderId"] for o in mine if o["salesChannel"]["marketplaceId"] in de_fr
    }

    with pytest.raises(SellingApiNotFoundException):
        other.get_order(mine[0]["orderId"])
    with pytest.raises(SellingApiNotFoundException):
        first.get_order(theirs[0]["orderId"])

    rows = sp_client(Sellers, refresh_token=OTHER["refresh_token"])
    ids = [
        row["marketplace"]["id"] for row in rows.get_marketplace_participation().payload
    ]
    assert ids == [CODE_TO_ID["DE"], CODE_TO_ID["FR"]]


def test_pagination_tokens_do_not_cross_sellers(sandbox, sp_client):
    sandbox.add_seller(**OTHER)
    sandbox.seed_orders(4, 30)
    sandbox.seed_orders(5, 30, seller_id=OTHER["seller_id"])
    de_fr = f"{CODE_TO_ID['DE']},{CODE_TO_ID['FR']}"
    first = sp_client(OrdersV20260101)
    other = sp_client(OrdersV20260101, refresh_token=OTHER["refresh_token"])
    page = other.search_orders(
        createdAfter=EPOCH, marketplaceIds=de_fr, maxResultsPerPage=2
    )
    assert page.next_token
    from sp_api.base import SellingApiBadRequestException

    with pytest.raises(SellingApiBadRequestException):
        first.search_orders(
            createdAfter=EPOCH, marketplaceIds=de_fr, paginationToken=page.next_token
        )


def test_quotas_are_per_seller(sandbox, sp_client):
    sandbox.add_seller(**OTHER)
    sandbox.set_rate("getMarketplaceParticipations", 0.0001, 2)
    first = sp_client(Sellers)
    other = sp_client(Sellers, refresh_token=OTHER["refresh_token"])
    first.get_marketplace_participation()
    first.get_marketplace_participation()
    other.get_marketplace_participation()
    other.get_marketplace_participation()
    statuses = [
        status
        for op, status, _ in sandbox.calls
        if op == "getMarketplaceParticipations"
    ]
    assert statuses == [200, 200, 200, 200]


def test_refresh_token_of_another_client_is_invalid_grant(sandbox, sp_client):
    sandbox.add_seller(
        seller_id="A3THIRDSELLER",
        client_id="amzn1.application-oa2-client.x",
        client_secret="x-secret",
        refresh_token="Atzr|third",
        marketplaces=["US"],
    )
    client = sp_client(Sellers, refresh_token="Atzr|third")
    with pytest.raises(AuthorizationError) as caught:
        client.get_marketplace_participation()
    assert caught.value.error_code == "invalid_grant"
    good = sp_client(
        Sellers,
        refresh_token="Atzr|third",
        client_id="amzn1.application-oa2-client.x",
        client_secret="x-secret",
    )
    assert len(good.get_marketplace_participation().payload) == 1


@pytest.mark.parametrize(
    "kind, status, error",
    [("server_error", 503, "server_error"), ("throttle", 429, "slow_down")],
)
def test_lwa_faults_answer_as_an_oauth_server(sandbox, seller, kind, status, error):
    sandbox.inject_fault("getAccessToken", kind)
    answer = httpx.post(
        f"{sandbox.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": seller["refresh_token"],
            "client_id": seller["client_id"],
            "client_secret": seller["client_secret"],
        },
    )
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert sandbox.calls[-1][:2] == ("getAccessToken", status)
