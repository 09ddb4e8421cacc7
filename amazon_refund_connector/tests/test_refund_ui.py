from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import AmazonUiCase


@tagged("post_install", "-at_install")
class TestRefundUi(AmazonUiCase):
    """A salesperson finds a refund in the overview and opens the order's
    refunds from it."""

    seller_name = "UIREFUND"
    account_name = "Amazon refund tour"
    seed = 34
    seed_count = 20

    def setUp(self):
        super().setUp()
        self._stock_products()
        sales = self._connect_and_sync().filtered(
            lambda s: s.amazon_channel == "FBA" and s.state == "sale"
        )
        self.sale, self.other = sales.filtered("invoice_ids")[:2]
        for sale in (self.sale, self.other):
            self.sandbox.refund_order(
                sale.amazon_order_ref,
                seller_id=self.seller["seller_id"],
                reason="Customer return",
                # Amazon lists what was posted at least two minutes ago.
                posted=fields.Datetime.now() - timedelta(hours=1),
            )
        self.account.action_import_refunds()
        self.entries = self.env["amazon.refund"].search(
            [("sale_order_id", "=", self.sale.id)]
        )
        self.assertTrue(self.entries, "the refund was imported")

    def test_open_an_orders_refunds_from_the_overview(self):
        total = self.env["amazon.refund"].search_count(
            [("account_id", "=", self.account.id)]
        )
        self.assertGreater(total, len(self.entries), "two orders were refunded")
        self.start_tour(
            "/odoo/action-amazon_refund_connector.action_amazon_refund",
            "amazon_refund_overview_tour",
            login="admin",
        )
