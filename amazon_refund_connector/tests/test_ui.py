from odoo.tests import HttpCase, tagged

from .common import sandbox_class


@tagged("post_install", "-at_install")
class TestAmazonUi(HttpCase):
    """A person connects an account, synchronises and opens the orders."""

    def setUp(self):
        super().setUp()
        self.sandbox = sandbox_class()(time_scale=1000.0, settle_seconds=0)
        self.sandbox.start()
        self.addCleanup(self.sandbox.stop)
        seller = {
            "seller_id": "AUITOURSELLER1",
            "client_id": "amzn1.application-oa2-client.tour",
            "client_secret": "tour-secret",
            "refresh_token": "Atzr|tour-refresh",
            "marketplaces": ["A1PA6795UKMFR9"],
        }
        self.sandbox.add_seller(**seller)
        orders = self.sandbox.seed_orders(31, 12, seller_id=seller["seller_id"])
        euro = self.env.ref("base.EUR")
        euro.active = True
        if self.env.company.currency_id != euro:
            self.env["res.currency.rate"].create(
                {"currency_id": euro.id, "rate": 0.9, "name": "2000-01-01"}
            )
        self.account = self.env["amazon.account"].create(
            {
                "name": "Amazon tour account",
                "region": "EU",
                "lwa_client_id": seller["client_id"],
                "lwa_client_secret": seller["client_secret"],
                "refresh_token": seller["refresh_token"],
                "endpoint_override": self.sandbox.url,
                "lwa_endpoint_override": f"{self.sandbox.url}/auth/o2/token",
            }
        )
        self.expected = {
            o["orderId"]
            for o in orders
            if o["fulfillment"]["fulfillmentStatus"]
            in (
                ("SHIPPED", "CANCELLED")
                if o["fulfillment"]["fulfilledBy"] == "AMAZON"
                else ("UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED")
            )
        }

    def test_connect_sync_and_open_orders(self):
        self.start_tour(
            "/odoo/action-amazon_refund_connector.action_amazon_account",
            "amazon_account_sync_tour",
            login="admin",
        )
        self.assertEqual(self.account.connection_state, "ok")
        imported = self.env["sale.order"].search(
            [("amazon_account_id", "=", self.account.id)]
        )
        self.assertEqual(set(imported.mapped("amazon_order_ref")), self.expected)
