from collections import Counter

from .test_order_sync import OrderSyncCase, importable


class TestOrderConfirmation(OrderSyncCase):
    """Imported orders are confirmed page by page: their pickings, moves and
    notes are those Odoo books when it confirms them one procurement group
    at a time."""

    seed = 23
    seed_count = 140

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Move = cls.env.registry["stock.move"]
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], order="id", limit=1
        )
        # Stock for half the products: their moves are reserved when
        # confirmed, the others' go negative when Amazon's shipment is booked.
        quant = cls.env["stock.quant"]
        for product in cls.products[::2]:
            quant._update_available_quantity(product, cls.account.fba_location_id, 40)
            quant._update_available_quantity(product, cls.warehouse.lot_stock_id, 40)

    def test_automatic_reordering_rule_is_triggered(self):
        fba_warehouse = self.account.fba_location_id.warehouse_id
        fba_warehouse.resupply_wh_ids = self.warehouse
        route = fba_warehouse.resupply_route_ids.filtered(
            lambda r: self.warehouse in r.rule_ids.location_src_id.warehouse_id
        )[:1]
        shipped = Counter(
            item["product"]["sellerSku"]
            for order in self.orders
            if importable(order) and order["fulfillment"]["fulfilledBy"] == "AMAZON"
            for item in order["orderItems"]
        )
        product = self.products.filtered(lambda p: p.default_code in shipped).sorted(
            lambda p: -shipped[p.default_code]
        )[:1]
        self.assertTrue(route and product)
        product.route_ids = route
        self.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": product.id,
                "warehouse_id": fba_warehouse.id,
                "location_id": self.account.fba_location_id.id,
                "trigger": "auto",
                "product_min_qty": 500,
                "product_max_qty": 600,
            }
        )
        self._sync()
        # The rule's route sends the warehouse's stock towards the FBA location.
        resupply = self.env["stock.move"].search(
            [
                ("product_id", "=", product.id),
                ("location_id", "=", self.warehouse.lot_stock_id.id),
                ("location_dest_id.usage", "!=", "customer"),
            ]
        )
        self.assertTrue(resupply)
