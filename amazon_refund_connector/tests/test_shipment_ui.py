from odoo.tests import HttpCase, tagged

from .common import sandbox_class


@tagged("post_install", "-at_install")
class TestShipmentUi(HttpCase):
    """A warehouse user validates an Amazon delivery and sees Amazon confirm it."""

    def setUp(self):
        super().setUp()
        self.sandbox = sandbox_class()(time_scale=1000.0, settle_seconds=0)
        self.sandbox.start()
        self.addCleanup(self.sandbox.stop)
        seller = {
            "seller_id": "AUISHIPSELLER1",
            "client_id": "amzn1.application-oa2-client.shiptour",
            "client_secret": "ship-tour-secret",
            "refresh_token": "Atzr|ship-tour-refresh",
            "marketplaces": ["A1PA6795UKMFR9"],
        }
        self.sandbox.add_seller(**seller)
        orders = self.sandbox.seed_orders(33, 30, seller_id=seller["seller_id"])
        euro = self.env.ref("base.EUR")
        euro.active = True
        if self.env.company.currency_id != euro:
            self.env["res.currency.rate"].create(
                {"currency_id": euro.id, "rate": 0.9, "name": "2000-01-01"}
            )
        skus = {i["product"]["sellerSku"] for o in orders for i in o["orderItems"]}
        warehouse = self.env.user._get_default_warehouse_id()
        for sku in skus:
            product = self.env["product.product"].create(
                {"name": sku, "default_code": sku, "is_storable": True}
            )
            self.env["stock.quant"]._update_available_quantity(
                product, warehouse.lot_stock_id, 100
            )
        self.account = self.env["amazon.account"].create(
            {
                "name": "Amazon shipment tour",
                "region": "EU",
                "lwa_client_id": seller["client_id"],
                "lwa_client_secret": seller["client_secret"],
                "refresh_token": seller["refresh_token"],
                "endpoint_override": self.sandbox.url,
                "lwa_endpoint_override": f"{self.sandbox.url}/auth/o2/token",
            }
        )
        self.account.action_test_connection()
        self.account.action_sync_orders()
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
            self.sale.amazon_order_ref, seller_id="AUISHIPSELLER1"
        )
        self.assertEqual(package["trackingNumber"], "00340434161094000042")
