from odoo.tests import tagged

from .common import AmazonUiCase


@tagged("post_install", "-at_install")
class TestAmazonUi(AmazonUiCase):
    """A person connects an account, synchronises and opens the orders."""

    seller_name = "UITOUR"
    seed = 31
    seed_count = 12

    def setUp(self):
        super().setUp()
        self.expected = {
            o["orderId"]
            for o in self.orders
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
