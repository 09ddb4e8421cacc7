from odoo.tests import tagged

from .common import AmazonUiCase


@tagged("post_install", "-at_install")
class TestShipmentUi(AmazonUiCase):
    """A warehouse user validates an Amazon delivery and sees Amazon confirm it."""

    seller_name = "UISHIP"
    seed = 33
    seed_count = 30

    def setUp(self):
        super().setUp()
        self._stock_products()
        self._connect_and_sync()
        self.sale = self.env["sale.order"].search(
            [
                ("amazon_account_id", "=", self.account.id),
                ("amazon_channel", "=", "FBM"),
                ("amazon_status", "=", "UNSHIPPED"),
            ],
            limit=1,
        )
        self.assertTrue(self.sale, "the seeded orders hold an unshipped FBM order")
        self.picking = self.sale.picking_ids
        self.picking.carrier_id = self.env["delivery.carrier"].create(
            {
                "name": "DHL",
                "product_id": self.env.ref(
                    "amazon_refund_connector.product_shipping"
                ).id,
            }
        )
        self.picking.action_assign()
        self.assertEqual(self.picking.state, "assigned")

    def test_validate_delivery_then_synced(self):
        url = f"/odoo/action-stock.action_picking_tree_all/{self.picking.id}"
        self.start_tour(url, "amazon_shipment_validate_tour", login="admin")
        self.assertEqual(self.picking.state, "done")
        self.assertEqual(self.picking.amazon_sync_state, "pending")
        # What the job runner does once the validation is committed.
        self.account._job_confirm_shipments()
        self.assertEqual(self.picking.amazon_sync_state, "synced")
        self.start_tour(url, "amazon_shipment_synced_tour", login="admin")
        [package] = self.sandbox.packages_of(
            self.sale.amazon_order_ref, seller_id=self.seller["seller_id"]
        )
        self.assertEqual(package["trackingNumber"], "00340434161094000042")
