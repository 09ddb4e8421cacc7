"""Shared set-up of the connector's tests: a real SP-API sandbox.

The sandbox (``tests/sandbox`` at the repository root) is a loopback HTTP
server speaking Amazon's request and response shapes. The real ``sp_api``
client talks to it through the account's endpoint overrides, so nothing of
``sp_api``, ``httpx`` or the connector is mocked.
"""

import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from odoo import fields
from odoo.tests.common import HttpCase, TransactionCase

from odoo.addons.amazon_refund_connector.models.amazon_rate_limit import (
    PgRateLimiter,
    seller_bucket,
)
from odoo.addons.amazon_refund_connector.sp_api.errors import redact


def _repository_tests():
    """Put the repository's tests folder (AMAZON_SPAPI_SANDBOX, or the one
    beside the addon) on the import path."""
    folder = os.environ.get("AMAZON_SPAPI_SANDBOX") or str(
        Path(__file__).resolve().parents[2] / "tests"
    )
    if not Path(folder, "sandbox", "__init__.py").is_file():
        raise RuntimeError(
            f"The SP-API sandbox is not at {folder}/sandbox: set "
            "AMAZON_SPAPI_SANDBOX to the repository's tests folder."
        )
    if folder not in sys.path:
        sys.path.insert(0, folder)


def sandbox_class():
    """The sandbox server class, from AMAZON_SPAPI_SANDBOX or the repository."""
    _repository_tests()
    from sandbox import SandboxServer  # pylint: disable=import-outside-toplevel

    return SandboxServer


class AmazonSandboxCase(TransactionCase):
    """A running sandbox with one seller, and an account connected to it."""

    marketplaces = ("A1PA6795UKMFR9", "A13V1IB3VIYZZH", "A1F83G8C2ARO7P")
    region = "EU"
    time_scale = 1000.0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = sandbox_class()(time_scale=cls.time_scale, settle_seconds=0)
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.seller = cls._add_seller()
        cls.account = cls.env["amazon.account"].create(
            cls._account_vals(cls.seller, name="Amazon EU test")
        )

    @classmethod
    def _add_seller(cls, marketplaces=None):
        token = uuid.uuid4().hex
        seller = {
            "seller_id": f"A{token[:12].upper()}",
            "client_id": f"amzn1.application-oa2-client.{token[:16]}",
            "client_secret": f"secret-{token}",
            "refresh_token": f"Atzr|refresh-{token}",
            "marketplaces": list(marketplaces or cls.marketplaces),
        }
        cls.sandbox.add_seller(**seller)
        return seller

    @classmethod
    def _account_vals(cls, seller, **vals):
        return {
            "name": f"Amazon {seller['seller_id']}",
            "region": cls.region,
            "seller_ref": seller["seller_id"],
            "lwa_client_id": seller["client_id"],
            "lwa_client_secret": seller["client_secret"],
            "refresh_token": seller["refresh_token"],
            "endpoint_override": cls.sandbox.url,
            "lwa_endpoint_override": f"{cls.sandbox.url}/auth/o2/token",
            **vals,
        }

    @classmethod
    def _rate_eur(cls, rate=0.9):
        """Activate the euro with a rate that covers every seeded date."""
        eur = cls.env.ref("base.EUR")
        eur.active = True
        cls.env["res.currency.rate"].create(
            {
                "currency_id": eur.id,
                "company_id": cls.env.company.id,
                "name": fields.Date.today() - timedelta(days=400),
                "rate": rate,
            }
        )

    @classmethod
    def _products_of(cls, orders):
        """A storable product per seller SKU of ``orders``."""
        skus = sorted(
            {i["product"]["sellerSku"] for o in orders for i in o["orderItems"]}
        )
        return cls.env["product.product"].create(
            [{"name": sku, "default_code": sku, "is_storable": True} for sku in skus]
        )

    def setUp(self):
        super().setUp()
        self.sandbox.clear_faults()
        self.sandbox.clear_calls()

    def use_manual_clock(self):
        """Stop the time of the sandbox's quotas and tokens and of the
        connector's rate limits until the test ends; returns the clock, which
        ``clock.advance(seconds)`` moves for both. Dates stay real, as Odoo's
        ``now`` does."""
        # sandbox_class() has put the sandbox on sys.path.
        from sandbox.timeutil import (  # pylint: disable=import-outside-toplevel
            ManualClock,
        )

        clock = ManualClock(real_dates=True)
        self.sandbox.clock = clock
        self.addCleanup(setattr, self.sandbox, "clock", None)
        self.patch(PgRateLimiter, "clock", clock)
        return clock

    def _reset_rate_limits(self, account=None):
        """Forget the buckets of the account's seller (committed, shared rows)."""
        account = account or self.account
        bucket = seller_bucket(account.region, account.seller_ref, account.id)
        with self.env.registry.cursor() as cr:
            cr.execute("DELETE FROM amazon_rate_limit WHERE bucket = %s", (bucket,))

    def assertNoSecret(self, text, seller=None):
        """``text`` holds none of the seller's secrets."""
        seller = seller or self.seller
        secrets = (seller["client_secret"], seller["refresh_token"])
        self.assertEqual(redact(text or "", secrets), text or "")
        self.assertNotIn("Atza|", text or "")


class AmazonUiCase(HttpCase):
    """A sandbox seller of ``seed_count`` seeded orders on Amazon.de for the
    tours; ``self.account`` connects to it once :meth:`_connect` ran."""

    seller_name = "UITOUR"
    account_name = "Amazon tour account"
    seed = 31
    seed_count = 12

    def setUp(self):
        super().setUp()
        self.sandbox = sandbox_class()(time_scale=1000.0, settle_seconds=0)
        self.sandbox.start()
        self.addCleanup(self.sandbox.stop)
        name = self.seller_name.lower()
        self.seller = {
            "seller_id": f"A{self.seller_name}SELLER1",
            "client_id": f"amzn1.application-oa2-client.{name}",
            "client_secret": f"{name}-secret",
            "refresh_token": f"Atzr|{name}-refresh",
            "marketplaces": ["A1PA6795UKMFR9"],
        }
        self.sandbox.add_seller(**self.seller)
        self.orders = self.sandbox.seed_orders(
            self.seed, self.seed_count, seller_id=self.seller["seller_id"]
        )
        euro = self.env.ref("base.EUR")
        euro.active = True
        if self.env.company.currency_id != euro:
            self.env["res.currency.rate"].create(
                {"currency_id": euro.id, "rate": 0.9, "name": "2000-01-01"}
            )
        self.account = self.env["amazon.account"].create(
            {
                "name": self.account_name,
                "region": "EU",
                "lwa_client_id": self.seller["client_id"],
                "lwa_client_secret": self.seller["client_secret"],
                "refresh_token": self.seller["refresh_token"],
                "endpoint_override": self.sandbox.url,
                "lwa_endpoint_override": f"{self.sandbox.url}/auth/o2/token",
            }
        )

    def _stock_products(self, quantity=100):
        """A storable product with stock for every SKU of the seeded orders."""
        skus = {i["product"]["sellerSku"] for o in self.orders for i in o["orderItems"]}
        warehouse = self.env.user._get_default_warehouse_id()
        for sku in sorted(skus):
            product = self.env["product.product"].create(
                {"name": sku, "default_code": sku, "is_storable": True}
            )
            self.env["stock.quant"]._update_available_quantity(
                product, warehouse.lot_stock_id, quantity
            )

    def _connect_and_sync(self):
        self.account.action_test_connection()
        self.account.action_sync_orders()
        return self.env["sale.order"].search(
            [("amazon_account_id", "=", self.account.id)]
        )


def order_shape(sale):
    """What two imports of one Amazon order must agree on (the repository's
    ``tests/order_compare.py``, which the benchmarks use too)."""
    _repository_tests()
    from order_compare import order_shape as shape  # pylint: disable=import-outside-toplevel

    return shape(sale)
