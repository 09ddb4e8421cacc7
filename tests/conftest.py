"""Shared fixtures of the Odoo-free suite: the SP-API sandbox and sp_api clients."""

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from sandbox import SandboxServer  # noqa: E402
from sandbox.marketplaces import CODE_TO_ID  # noqa: E402
from sandbox.timeutil import ManualClock  # noqa: E402

SELLER = {
    "seller_id": "A1SANDBOXSELLER",
    "client_id": "amzn1.application-oa2-client.tests",
    "client_secret": "tests-secret",
    "refresh_token": "Atzr|tests-refresh-token",
    "marketplaces": [
        CODE_TO_ID[code] for code in ("US", "CA", "UK", "DE", "FR", "IT", "ES", "JP")
    ],
}


@pytest.fixture(scope="session", autouse=True)
def load_registry():
    """These tests need no Odoo: replace pytest-odoo's autouse fixture of the
    same name, which would load a registry from a database, for this folder."""
    yield


def clear_token_cache():
    from sp_api.auth import access_token_client

    access_token_client.cache.clear()
    access_token_client.grantless_cache.clear()


@pytest.fixture
def seller():
    """The credentials and marketplaces of the sandbox fixture's seller."""
    return dict(SELLER, marketplaces=list(SELLER["marketplaces"]))


@pytest.fixture
def sandbox(seller):
    """A running sandbox: quotas refill 1000x faster, no settle delay, one seller."""
    clear_token_cache()
    server = SandboxServer(time_scale=1000, settle_seconds=0)
    server.add_seller(**seller)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        clear_token_cache()


@pytest.fixture
def clock(sandbox):
    """Stop the sandbox fixture's clock: from here on its quotas refill, its
    tokens age and its "now" moves only by clock.advance(seconds)."""
    sandbox.clock = ManualClock()
    return sandbox.clock


def token_client_class(server):
    """An sp_api AccessTokenClient subclass that asks the sandbox for tokens."""
    from sp_api.auth import AccessTokenClient

    return type(
        "SandboxAccessTokenClient",
        (AccessTokenClient,),
        {"scheme": "http://", "host": f"{server.host}:{server.port}"},
    )


@pytest.fixture
def sp_client(sandbox, seller):
    """Build a real sp_api client talking to the sandbox.

    sp_client(OrdersV20260101, refresh_token=..., client_id=..., client_secret=...,
    timeout=..., server=...); credentials default to the fixture's seller.
    """
    clients = []

    def make(
        api_class=None,
        refresh_token=None,
        client_id=None,
        client_secret=None,
        timeout=None,
        server=None,
    ):
        if api_class is None:
            from sp_api.api import OrdersV20260101 as api_class
        target = server or sandbox
        client = api_class(
            credentials={
                "lwa_app_id": client_id or seller["client_id"],
                "lwa_client_secret": client_secret or seller["client_secret"],
            },
            refresh_token=refresh_token or seller["refresh_token"],
            auth_token_client_class=token_client_class(target),
            timeout=timeout,
        )
        client.endpoint = target.url
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def search_all():
    """search_all(client, **params) -> (orders, responses), following nextToken."""

    def run(client, **params):
        orders, responses = [], []
        while True:
            response = client.search_orders(**params)
            responses.append(response)
            orders.extend(response.payload["orders"])
            if not response.next_token:
                return orders, responses
            params["paginationToken"] = response.next_token

    return run
