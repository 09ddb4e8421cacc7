from collections import Counter
from unittest.mock import patch

from .test_order_sync import OrderSyncCase, importable


class _RolledBack(Exception):
    """Ends a savepoint whose work is only looked at."""


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

    @staticmethod
    def _partner(sale, partner):
        """``partner`` as the order's delivery address, customer or other."""
        if partner == sale.partner_shipping_id:
            return "delivery"
        if partner == sale.partner_id:
            return "customer"
        return partner.id

    def _booked(self):
        """``{Amazon order: what its confirmation booked}``, in terms two
        imports of the same orders share (no ids or names of the records
        each import creates)."""

        def same(sale, text):
            return (
                str(text or "")
                .replace(f'data-oe-id="{sale.id}"', 'data-oe-id="<order>"')
                .replace(sale.name, "<order>")
            )

        booked = {}
        sales = self._amazon_orders()
        for sale in sales:
            pickings = []
            for picking in sale.picking_ids.sorted(lambda p: p.picking_type_id.id):
                moves = sorted(
                    (
                        move.sale_line_id.amazon_item_ref or "",
                        move.sale_line_id.amazon_charge or "",
                        move.product_id.id,
                        move.product_uom_qty,
                        move.quantity,
                        move.state,
                        move.location_id.id,
                        move.location_dest_id.id,
                        move.location_final_id.id,
                        move.picking_type_id.id,
                        move.procure_method,
                        move.rule_id.id,
                        move.warehouse_id.id,
                        self._partner(sale, move.partner_id),
                        move.group_id == sale.procurement_group_id,
                        same(sale, move.origin),
                        move.description_picking or "",
                        move.picked,
                        len(move.move_orig_ids),
                        len(move.move_dest_ids),
                        tuple(
                            sorted(
                                (
                                    line.location_id.id,
                                    line.location_dest_id.id,
                                    line.quantity,
                                    line.lot_id.id,
                                    line.package_id.id,
                                    line.picked,
                                    line.state,
                                )
                                for line in move.move_line_ids
                            )
                        ),
                    )
                    for move in picking.move_ids
                )
                notes = sorted(
                    (
                        same(sale, message.body),
                        message.message_type,
                        message.subtype_id.id,
                        message.author_id.id,
                    )
                    for message in picking.message_ids
                )
                pickings.append(
                    (
                        picking.picking_type_id.id,
                        picking.location_id.id,
                        picking.location_dest_id.id,
                        picking.state,
                        picking.move_type,
                        self._partner(sale, picking.partner_id),
                        picking.carrier_id.id,
                        picking.group_id == sale.procurement_group_id,
                        same(sale, picking.origin),
                        len(picking.message_follower_ids),
                        tuple(moves),
                        tuple(notes),
                    )
                )
            booked[sale.amazon_order_ref] = (sale.state, tuple(pickings))
        # Pickings are numbered in the order Odoo creates them.
        booked["(numbering)"] = [
            picking.sale_id.amazon_order_ref
            for picking in sales.picking_ids.sorted(
                lambda p: (p.picking_type_id.id, p.name)
            )
        ]
        quants = self.env["stock.quant"].search(
            [("product_id", "in", self.products.ids)]
        )
        booked["(stock)"] = sorted(
            (q.product_id.id, q.location_id.id, q.quantity, q.reserved_quantity)
            for q in quants
        )
        return booked

    def _booked_group_by_group(self):
        """What a sync books when Odoo confirms group by group; rolled back."""
        result = []
        try:
            with self.env.cr.savepoint():
                with patch.object(
                    self.Move, "_amazon_create_pickings", return_value={}
                ):
                    self._sync()
                result.append(self._booked())
                raise _RolledBack
        except _RolledBack:
            pass
        self.env.invalidate_all()
        self.assertFalse(self._amazon_orders())
        return result[0]

    def _sync_counting_batches(self):
        """Sync; returns the sizes of the batches of pickings created."""
        sizes = []
        create = self.Move._amazon_create_pickings

        def counted(moves):
            pickings = create(moves)
            sizes.append(len(pickings))
            return pickings

        with patch.object(self.Move, "_amazon_create_pickings", counted):
            self._sync()
        return sizes

    def _assert_books_as_odoo(self):
        expected = self._booked_group_by_group()
        sizes = self._sync_counting_batches()
        self.assertGreater(max(sizes), 10)
        booked = self._booked()
        self.assertEqual(
            {ref for ref in booked if not ref.startswith("(")},
            {o["orderId"] for o in self.orders if importable(o)},
        )
        for ref in expected:
            self.assertEqual(booked[ref], expected[ref], ref)
        return booked

    def test_page_of_orders_books_what_odoo_books_group_by_group(self):
        booked = self._assert_books_as_odoo()
        channels = Counter(
            sale.amazon_channel
            for sale in self._amazon_orders()
            if sale.state == "sale"
        )
        self.assertTrue(channels["FBA"] and channels["FBM"], channels)
        for sale in self._amazon_orders().filtered(lambda s: s.state == "sale"):
            # One picking, its note names its own order.
            self.assertEqual(len(sale.picking_ids), 1, sale.amazon_order_ref)
            notes = sale.picking_ids.message_ids.filtered(
                lambda m, s=sale: f'data-oe-id="{s.id}"' in str(m.body)
            )
            self.assertEqual(len(notes), 1, sale.amazon_order_ref)
        self.assertTrue(booked["(stock)"])

    def test_two_step_delivery_books_what_odoo_books(self):
        # Pick, then ship: Odoo books the picking first, whose moves go on
        # to the customer (the shipping is pushed when the picking is done).
        self.warehouse.delivery_steps = "pick_ship"
        self._assert_books_as_odoo()
        fbm = self._amazon_orders().filtered(
            lambda s: s.amazon_channel == "FBM" and s.state == "sale"
        )
        self.assertTrue(fbm)
        for sale in fbm:
            self.assertEqual(
                sale.picking_ids.picking_type_id,
                self.warehouse.pick_type_id,
                sale.amazon_order_ref,
            )

    def test_automatic_reordering_rule_is_triggered(self):
        shipped = Counter(
            item["product"]["sellerSku"]
            for order in self.orders
            if importable(order) and order["fulfillment"]["fulfilledBy"] == "AMAZON"
            for item in order["orderItems"]
        )
        product = self.products.filtered(lambda p: p.default_code in shipped).sorted(
            lambda p: -shipped[p.default_code]
        )[:1]
        self.assertTrue(product)
        self._fba_reordering_rule(
            product,
            self.warehouse,
            trigger="auto",
            product_min_qty=500,
            product_max_qty=600,
        )
        self.assertFalse(self._replenishment(product, self.warehouse))
        self._sync()
        self.assertTrue(self._replenishment(product, self.warehouse))
