from collections import Counter

from .test_order_sync import OrderSyncCase, importable


def _shipped_by_sku(orders, fulfilled_by):
    """Units Amazon shipped per SKU, for orders fulfilled by ``fulfilled_by``."""
    totals = Counter()
    for order in orders:
        if order["fulfillment"]["fulfilledBy"] != fulfilled_by or not importable(order):
            continue
        for item in order["orderItems"]:
            shipped = (item.get("fulfillment") or {}).get("quantityFulfilled") or 0
            totals[item["product"]["sellerSku"]] += shipped
    return totals


class TestFbaStock(OrderSyncCase):
    seed = 21
    seed_count = 150

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Quant = cls.env["stock.quant"]
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], order="id", limit=1
        )
        cls.fba_location = cls.account.fba_location_id
        cls.by_sku = {p.default_code: p for p in cls.products}
        for product in cls.products:
            cls.Quant._update_available_quantity(product, cls.fba_location, 50)
            cls.Quant._update_available_quantity(
                product, cls.warehouse.lot_stock_id, 80
            )

    def _qty(self, sku, location):
        return self.by_sku[sku].with_context(location=location.id).qty_available

    def test_account_gets_company_fba_location(self):
        warehouse = self.env.company.amazon_fba_warehouse_id
        self.assertTrue(warehouse)
        self.assertEqual(self.fba_location, warehouse.lot_stock_id)
        self.assertEqual(self.fba_location.usage, "internal")
        second = self.env["amazon.account"].create(
            self._account_vals(self.seller, name="Second EU account")
        )
        self.assertEqual(second.fba_location_id, self.fba_location)

    def test_fba_orders_leave_fba_location_only(self):
        fba = _shipped_by_sku(self.orders, "AMAZON")
        fbm = _shipped_by_sku(self.orders, "MERCHANT")
        skus = [s for s in self.by_sku if fba[s] or fbm[s]]
        before = {
            s: (
                self._qty(s, self.fba_location),
                self._qty(s, self.warehouse.lot_stock_id),
            )
            for s in skus
        }
        self._sync()
        self._sync()
        for sku in skus:
            fba_before, wh_before = before[sku]
            self.assertEqual(
                self._qty(sku, self.fba_location), fba_before - fba[sku], sku
            )
            # FBM deliveries wait for the warehouse: no stock left it yet.
            self.assertEqual(
                self._qty(sku, self.warehouse.lot_stock_id), wh_before, sku
            )

        sales = self._amazon_orders()
        fba_sales = sales.filtered(lambda s: s.amazon_channel == "FBA")
        shipped = fba_sales.filtered(lambda s: s.amazon_status == "SHIPPED")
        self.assertTrue(shipped)
        for sale in shipped:
            self.assertEqual(set(sale.picking_ids.mapped("state")), {"done"})
            moves = sale.picking_ids.move_ids
            self.assertEqual(moves.location_id, self.fba_location)
            self.assertEqual(moves.location_dest_id.usage, "customer")
            self.assertTrue(sale.picking_ids.origin.startswith(sale.name))
            item_lines = sale.order_line.filtered(
                lambda line: line.amazon_charge == "ITEM"
            )
            self.assertEqual(
                len(moves),
                len(item_lines.filtered(lambda line: line.product_id.is_storable)),
            )
        # Nothing of Amazon's shipments waits in any warehouse.
        todo = self.env["stock.picking"].search(
            [("sale_id", "in", fba_sales.ids), ("state", "not in", ("done", "cancel"))]
        )
        self.assertFalse(todo)
        cancelled = fba_sales.filtered(lambda s: s.amazon_status == "CANCELLED")
        self.assertTrue(cancelled)
        for sale in cancelled:
            self.assertFalse(sale.picking_ids.move_ids)
            self.assertFalse(
                self.env["stock.move"].search(
                    [("sale_line_id", "in", sale.order_line.ids)]
                )
            )
            self.assertEqual(sale.state, "cancel")
        # FBM orders wait in the ordinary warehouse.
        fbm_sales = sales.filtered(
            lambda s: s.amazon_channel == "FBM" and s.state == "sale"
        )
        self.assertTrue(fbm_sales.picking_ids)
        self.assertEqual(fbm_sales.picking_ids.location_id, self.warehouse.lot_stock_id)
        self.assertNotIn("done", fbm_sales.picking_ids.mapped("state"))

    def test_mixed_sku_after_warehouse_ships(self):
        fba = _shipped_by_sku(self.orders, "AMAZON")
        fbm_ordered = Counter()
        for order in self.orders:
            if (
                order["fulfillment"]["fulfilledBy"] == "MERCHANT"
                and importable(order)
                and order["fulfillment"]["fulfillmentStatus"] != "CANCELLED"
            ):
                for item in order["orderItems"]:
                    fbm_ordered[item["product"]["sellerSku"]] += item["quantityOrdered"]
        mixed = [s for s in self.by_sku if fba[s] and fbm_ordered[s]]
        self.assertTrue(mixed, "the seeded batch sells a SKU both ways")
        before = {
            s: (
                self._qty(s, self.fba_location),
                self._qty(s, self.warehouse.lot_stock_id),
            )
            for s in mixed
        }
        self._sync()
        fbm = self._amazon_orders().filtered(
            lambda s: s.amazon_channel == "FBM" and s.state == "sale"
        )
        pickings = fbm.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        for move in pickings.move_ids:
            move._set_quantity_done(move.product_uom_qty)
        pickings.move_ids.picked = True
        pickings.with_context(cancel_backorder=True)._action_done()
        for sku in mixed:
            fba_before, wh_before = before[sku]
            self.assertEqual(self._qty(sku, self.fba_location), fba_before - fba[sku])
            self.assertEqual(
                self._qty(sku, self.warehouse.lot_stock_id),
                wh_before - fbm_ordered[sku],
            )

    def test_replenishment_is_an_internal_transfer(self):
        product = self.products[0]
        before = self._qty(product.default_code, self.fba_location)
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.int_type_id.id,
                "location_id": self.warehouse.lot_stock_id.id,
                "location_dest_id": self.fba_location.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": 7,
                            "product_uom": product.uom_id.id,
                            "location_id": self.warehouse.lot_stock_id.id,
                            "location_dest_id": self.fba_location.id,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self.assertEqual(self._qty(product.default_code, self.fba_location), before + 7)

    def test_inventory_adjustment_at_fba_location(self):
        product = self.products[1]
        quant = self.Quant.with_context(inventory_mode=True).create(
            {
                "product_id": product.id,
                "location_id": self.fba_location.id,
                "inventory_quantity": 33,
            }
        )
        quant.action_apply_inventory()
        self.assertEqual(self._qty(product.default_code, self.fba_location), 33)

    def test_reordering_rule_replenishes_fba_from_warehouse(self):
        self.assertEqual(
            self.account.fba_location_id.warehouse_id,
            self.env.company.amazon_fba_warehouse_id,
        )
        product = self.products[2]
        orderpoint = self._fba_reordering_rule(
            product, self.warehouse, product_min_qty=60, product_max_qty=100
        )
        orderpoint.action_replenish()
        moves = self._replenishment(product, self.warehouse)
        self.assertTrue(moves)
        self.assertEqual(sum(moves.mapped("product_uom_qty")), 50)

    def test_resync_and_later_update_leave_moves_alone(self):
        self._sync()
        shipped = self._amazon_orders().filtered(
            lambda s: s.amazon_channel == "FBA" and s.amazon_status == "SHIPPED"
        )
        moves = shipped.picking_ids.move_ids
        ref = shipped[0].amazon_order_ref
        # Touched again on Amazon after it shipped (e.g. a refund).
        self.sandbox.update_order(
            ref, seller_id=self.seller["seller_id"], programs=["PRIME"]
        )
        result = self._sync()
        self.assertIn(shipped[0].id, result.updated)
        self.assertEqual(shipped.picking_ids.move_ids, moves)
        self.assertEqual(set(moves.mapped("state")), {"done"})


class TestFbaStockBadInput(OrderSyncCase):
    seed = 22
    seed_count = 60

    def _fba_refs(self):
        return {
            o["orderId"]
            for o in self.orders
            if importable(o)
            and o["fulfillment"]["fulfilledBy"] == "AMAZON"
            and o["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
        }

    def test_not_enough_stock_goes_negative_with_warning(self):
        self.assertFalse(self.account.fba_stock_warning)
        self._sync()
        shipped = self._amazon_orders().filtered(
            lambda s: s.amazon_channel == "FBA" and s.amazon_status == "SHIPPED"
        )
        self.assertEqual(set(shipped.mapped("amazon_order_ref")), self._fba_refs())
        self.assertEqual(set(shipped.picking_ids.mapped("state")), {"done"})
        self.account.invalidate_recordset(["fba_stock_warning"])
        warning = self.account.fba_stock_warning
        self.assertTrue(warning)
        product = shipped.picking_ids.move_ids.product_id[:1]
        self.assertIn(product.display_name, warning)
        self.assertLess(
            product.with_context(
                location=self.account.fba_location_id.id
            ).qty_available,
            0,
        )

    def test_unknown_sku_storable_default_product_moves(self):
        unknown = self.env.ref("amazon_refund_connector.product_unknown_item")
        unknown.is_storable = True
        self.products.filtered(lambda p: p.default_code.startswith("TUMBLER")).unlink()
        self._sync()
        lines = (
            self._amazon_orders()
            .filtered(
                lambda s: s.amazon_channel == "FBA" and s.amazon_status == "SHIPPED"
            )
            .order_line.filtered(lambda line: line.product_id == unknown)
        )
        self.assertTrue(lines)
        self.assertTrue(lines.move_ids)
        self.assertEqual(set(lines.move_ids.mapped("state")), {"done"})

    def test_unknown_sku_non_storable_default_product_flags(self):
        self.products.filtered(lambda p: p.default_code.startswith("TUMBLER")).unlink()
        self._sync()
        unknown = self.env.ref("amazon_refund_connector.product_unknown_item")
        sales = self._amazon_orders().filtered(
            lambda s: s.amazon_channel == "FBA" and unknown in s.order_line.product_id
        )
        self.assertTrue(sales)
        for sale in sales:
            self.assertIn("not tracked in stock", sale.amazon_issue)

    def _assert_fba_waits(self, result, reason):
        fba = self._fba_refs()
        self.assertTrue(fba)
        for ref in fba:
            self.assertIn(reason, result.failures[ref][1])
        refs = set(self._amazon_orders().mapped("amazon_order_ref"))
        self.assertFalse(refs & fba)
        fbm = {
            o["orderId"]
            for o in self.orders
            if importable(o) and o["fulfillment"]["fulfilledBy"] == "MERCHANT"
        }
        self.assertTrue(fbm <= refs)
        self.assertIn(reason, self.account.last_error)

    def test_archived_fba_location(self):
        location = self.env["stock.location"].create(
            {
                "name": "FBA archived",
                "usage": "internal",
                "location_id": self.account.fba_location_id.location_id.id,
            }
        )
        self.account.fba_location_id = location
        location.active = False
        result = self._sync()
        self._assert_fba_waits(result, "is archived")
        # Once the location is usable again, the next sync books them.
        location.active = True
        self.assertFalse(self._sync().failures)
        self.assertTrue(
            self._fba_refs() <= set(self._amazon_orders().mapped("amazon_order_ref"))
        )

    def test_fba_location_of_another_company(self):
        other = self.env["res.company"].create({"name": "Other FBA company"})
        foreign = other._amazon_fba_warehouse().lot_stock_id
        # Bypass the form's company check, as a data import could.
        self.env.cr.execute(
            "UPDATE amazon_account SET fba_location_id = %s WHERE id = %s",
            (foreign.id, self.account.id),
        )
        self.account.invalidate_recordset(["fba_location_id"])
        result = self._sync()
        self._assert_fba_waits(result, "belongs to")


class TestFbaStockSecondAccount(OrderSyncCase):
    seed = 23
    seed_count = 40

    def test_split_account_with_own_location_and_company(self):
        own = self.env["stock.location"].create(
            {
                "name": "FBA UK",
                "usage": "internal",
                "location_id": self.account.fba_location_id.location_id.id,
            }
        )
        seller = self._add_seller(marketplaces=["A1F83G8C2ARO7P"])
        orders = self.sandbox.seed_orders(24, 40, seller_id=seller["seller_id"])
        uk = self.env["amazon.account"].create(
            self._account_vals(
                seller,
                name="Amazon UK",
                fba_location_id=own.id,
                marketplace_ids=self.env["amazon.marketplace"]
                .search([("marketplace_ref", "=", "A1F83G8C2ARO7P")])
                .ids,
            )
        )
        self._sync(uk)
        self._sync()
        uk_moves = self._amazon_orders(uk).picking_ids.move_ids.filtered(
            lambda m: m.state == "done"
        )
        self.assertTrue(uk_moves)
        self.assertEqual(uk_moves.location_id, own)
        # Stock follows: the split account's location went down by its
        # shipments only.
        for product in uk_moves.product_id.filtered("is_storable"):
            shipped = sum(
                uk_moves.filtered(lambda m, p=product: m.product_id == p).mapped(
                    "quantity"
                )
            )
            self.assertEqual(
                product.with_context(location=own.id).qty_available, -shipped
            )
        eu_moves = self._amazon_orders().picking_ids.move_ids.filtered(
            lambda m: m.state == "done"
        )
        self.assertEqual(eu_moves.location_id, self.account.fba_location_id)
        self.assertTrue(
            any(o["fulfillment"]["fulfilledBy"] == "AMAZON" for o in orders)
        )

    def test_each_company_uses_its_own_fba_location(self):
        other = self.env["res.company"].create(
            {"name": "Amazon Seller B", "currency_id": self.env.company.currency_id.id}
        )
        seller = self._add_seller()
        account = self.env["amazon.account"].create(
            self._account_vals(seller, name="B", company_id=other.id)
        )
        self.assertEqual(account.fba_location_id.company_id, other)
        self.assertNotEqual(account.fba_location_id, self.account.fba_location_id)
        self.assertEqual(
            account.fba_location_id, other.amazon_fba_warehouse_id.lot_stock_id
        )


class TestFbaStockShapes(OrderSyncCase):
    seed = 25
    seed_count = 40

    def _fba_shipped_ref(self, index=0):
        return [
            o["orderId"]
            for o in self.orders
            if o["fulfillment"]["fulfilledBy"] == "AMAZON"
            and o["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
            and all(
                i["product"]["sellerSku"] not in self.unmapped for i in o["orderItems"]
            )
        ][index]

    def test_shipped_items_without_fulfilled_quantity(self):
        ref = self._fba_shipped_ref()

        def strip(order):
            for item in order["orderItems"]:
                item.pop("fulfillment", None)

        self.sandbox.corrupt_order(ref, strip, seller_id=self.seller["seller_id"])
        self._sync()
        sale = self.SaleOrder.search([("amazon_order_ref", "=", ref)])
        moves = sale.picking_ids.move_ids
        self.assertTrue(moves)
        self.assertEqual(set(moves.mapped("state")), {"done"})
        items = self.sandbox.get_order_data(ref, seller_id=self.seller["seller_id"])
        self.assertEqual(
            sum(moves.mapped("quantity")),
            sum(i["quantityOrdered"] for i in items["orderItems"]),
        )

    def test_fba_location_in_the_fbm_warehouse_is_refused(self):
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], order="id", limit=1
        )
        self.account.fba_location_id = self.env["stock.location"].create(
            {
                "name": "Amazon shelf",
                "usage": "internal",
                "location_id": warehouse.lot_stock_id.id,
            }
        )
        result = self._sync()
        ref = self._fba_shipped_ref()
        self.assertIn("merchant-fulfilled orders ship from", result.failures[ref][1])
        self.assertFalse(self.SaleOrder.search([("amazon_order_ref", "=", ref)]))

    def test_failed_delivery_is_completed_by_a_later_sync(self):
        ref = self._fba_shipped_ref(1)
        raw = self.sandbox.get_order_data(ref, seller_id=self.seller["seller_id"])
        skus = {i["product"]["sellerSku"] for i in raw["orderItems"]}
        tracked = self.products.filtered(lambda p: p.default_code in skus)
        tracked.tracking = "lot"
        self._sync()
        sale = self.SaleOrder.search([("amazon_order_ref", "=", ref)])
        self.assertEqual(sale.state, "sale")
        self.assertIn("could not be booked", sale.amazon_issue)
        self.assertNotEqual(set(sale.picking_ids.mapped("state")), {"done"})
        # The products are fixed; Amazon touches the order again.
        tracked.tracking = "none"
        self.sandbox.update_order(
            ref, seller_id=self.seller["seller_id"], programs=["PRIME"]
        )
        self._sync()
        self.assertEqual(set(sale.picking_ids.mapped("state")), {"done"})
        self.assertEqual(
            sale.picking_ids.move_ids.location_id, self.account.fba_location_id
        )

    def test_second_company_books_at_its_own_location(self):
        other = self.env["res.company"].create(
            {
                "name": "Amazon Seller B",
                "currency_id": self.env.company.currency_id.id,
                "country_id": self.env.ref("base.de").id,
            }
        )
        self._add_rates(["EUR", "GBP"], other)
        seller = self._add_seller()
        self.sandbox.seed_orders(26, 30, seller_id=seller["seller_id"])
        account = self.env["amazon.account"].create(
            self._account_vals(
                seller,
                name="B",
                company_id=other.id,
                marketplace_ids=self.account.marketplace_ids.ids,
            )
        )
        self.env["product.product"].search([("default_code", "!=", False)]).write(
            {"company_id": False}
        )
        self._sync(account)
        sales = self._amazon_orders(account)
        self.assertTrue(sales)
        self.assertEqual(sales.company_id, other)
        done = sales.picking_ids.move_ids.filtered(lambda m: m.state == "done")
        self.assertTrue(done)
        self.assertEqual(done.location_id, other.amazon_fba_warehouse_id.lot_stock_id)
        self.assertEqual(done.company_id, other)
        self.assertEqual(sales.partner_id.company_id, other)
