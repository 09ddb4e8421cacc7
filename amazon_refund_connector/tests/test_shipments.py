"""FBM shipments told to Amazon (Orders v0 confirmShipment) against the sandbox."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user

from odoo.addons.queue_job.tests.common import trap_jobs

from .test_order_sync import OrderSyncCase


class ShipmentCase(OrderSyncCase):
    """The seeded orders of the class's marketplaces, imported once.

    ``currencies``: currencies beyond EUR and GBP that those marketplaces
    sell in (their rates are added).
    """

    seed = 21
    seed_count = 160
    currencies = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.marketplace_ids = cls.env["amazon.marketplace"].search(
            [("marketplace_ref", "in", list(cls.marketplaces))]
        )
        cls._add_rates(cls.currencies)
        cls._sync_class()
        warehouse = cls.env.user._get_default_warehouse_id()
        for product in cls.products:
            cls.env["stock.quant"]._update_available_quantity(
                product, warehouse.lot_stock_id, 500
            )
        cls.dhl = cls._carrier("dhl")
        cls.manager = new_test_user(
            cls.env,
            login="amazon_ship_manager",
            email="amazon.manager@example.com",
            groups="amazon_refund_connector.group_amazon_manager,stock.group_stock_user",
        )
        cls._used = set()

    @classmethod
    def _carrier(cls, name, **vals):
        return cls.env["delivery.carrier"].create(
            {
                "name": name,
                "product_id": cls.env.ref(
                    "amazon_refund_connector.product_shipping"
                ).id,
                **vals,
            }
        )

    @classmethod
    def _sync_class(cls):
        client = cls.account._get_client()
        try:
            result = cls.account._sync_orders(client)
        finally:
            client.close()
        assert not result.failures, result.failures

    def setUp(self):
        super().setUp()
        self._reset_rate_limits()

    def _fbm_order(self, min_items=1, min_qty=1):
        """An imported, unshipped FBM order no other test of the class took."""
        sales = self.SaleOrder.search(
            [
                ("amazon_account_id", "=", self.account.id),
                ("amazon_channel", "=", "FBM"),
                ("amazon_status", "=", "UNSHIPPED"),
                ("state", "=", "sale"),
            ],
            order="id",
        )
        for sale in sales:
            items = sale.order_line.filtered(lambda li: li.amazon_charge == "ITEM")
            if (
                sale.id not in self._used
                and len(items) >= min_items
                and max(items.mapped("product_uom_qty")) >= min_qty
                and items.product_id <= self.products
            ):
                self._used.add(sale.id)
                return sale
        self.fail("the seeded orders hold no such FBM order")

    def _open_picking(self, sale):
        return sale.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))

    def _deliver(
        self, sale, tracking="JD0002", carrier=None, quantities=None, backorder=True
    ):
        """Validate the open delivery of ``sale``, as a warehouse user would."""
        picking = self._open_picking(sale)
        picking.carrier_id = carrier or self.dhl
        picking.carrier_tracking_ref = tracking
        picking.action_assign()
        for move in picking.move_ids:
            wanted = (quantities or {}).get(move.sale_line_id, move.product_uom_qty)
            move.quantity = wanted
        picking.move_ids.picked = True
        action = picking.button_validate()
        if isinstance(action, dict) and action.get("res_model") == (
            "stock.backorder.confirmation"
        ):
            wizard = Form(
                self.env["stock.backorder.confirmation"].with_context(
                    **action["context"]
                )
            ).save()
            if backorder:
                wizard.process()
            else:
                wizard.process_cancel_backorder()
        self.assertEqual(picking.state, "done")
        return picking

    def _run(self):
        return self.account._job_confirm_shipments()

    def _packages(self, sale):
        return self.sandbox.packages_of(
            sale.amazon_order_ref, seller_id=self.seller["seller_id"]
        )

    def _confirmations(self, sale):
        return self.sandbox.confirmations_of(
            sale.amazon_order_ref, seller_id=self.seller["seller_id"]
        )

    def _due_now(self, pickings):
        pickings.amazon_shipment_ids.sudo().next_try = fields.Datetime.now() - (
            timedelta(seconds=1)
        )


class TestShipments(ShipmentCase):
    def test_full_delivery_is_confirmed_once(self):
        sale = self._fbm_order()
        with trap_jobs() as trap:
            picking = self._deliver(sale, tracking="00340434161094000001")
        # Nothing is sent in the transaction that validates the delivery.
        self.assertEqual(picking.amazon_sync_state, "pending")
        self.assertFalse(self._confirmations(sale))
        jobs = [j for j in trap.enqueued_jobs if j.recordset == self.account]
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs[0].channel, "root.amazon")
        self.assertEqual(jobs[0].method_name, "_job_confirm_shipments")
        self.sandbox.clear_calls()
        jobs[0].perform()
        self.assertEqual(picking.amazon_sync_state, "synced")
        self.assertEqual(self.sandbox.call_count("confirmShipment"), 1)
        [package] = self._packages(sale)
        self.assertEqual(package["packageReferenceId"], "1")
        self.assertEqual(package["carrier"], "DHL")
        self.assertEqual(package["trackingNumber"], "00340434161094000001")
        items = sale.order_line.filtered(lambda li: li.amazon_charge == "ITEM")
        self.assertEqual(
            {i["orderItemId"]: i["quantity"] for i in package["packageItems"]},
            {li.amazon_item_ref: int(li.product_uom_qty) for li in items},
        )
        body = self._confirmations(sale)[0]["body"]
        self.assertEqual(
            body["marketplaceId"], sale.amazon_marketplace_id.marketplace_ref
        )
        # Running again sends nothing more.
        self.sandbox.clear_calls()
        self._run()
        self.assertEqual(self.sandbox.call_count("confirmShipment"), 0)
        # The next order sync sees the order shipped.
        self.assertEqual(
            self._live(sale.amazon_order_ref)["fulfillment"]["fulfillmentStatus"],
            "SHIPPED",
        )
        self.account.last_order_sync = fields.Datetime.now() - timedelta(hours=1)
        self._sync()
        self.assertEqual(sale.amazon_status, "SHIPPED")

    def test_partial_delivery_then_backorder(self):
        sale = self._fbm_order(min_qty=2)
        line = sale.order_line.filtered(
            lambda li: li.amazon_charge == "ITEM" and li.product_uom_qty >= 2
        )[0]
        first = self._deliver(sale, tracking="PART-1", quantities={line: 1})
        self._run()
        self.assertEqual(first.amazon_sync_state, "synced")
        [package] = self._packages(sale)
        shipped = {i["orderItemId"]: i["quantity"] for i in package["packageItems"]}
        self.assertEqual(shipped[line.amazon_item_ref], 1)
        self.assertEqual(
            self._live(sale.amazon_order_ref)["fulfillment"]["fulfillmentStatus"],
            "PARTIALLY_SHIPPED",
        )
        backorder = self._deliver(sale, tracking="PART-2")
        self.assertNotEqual(backorder, first)
        self._run()
        self.assertEqual(backorder.amazon_sync_state, "synced")
        refs = [p["packageReferenceId"] for p in self._packages(sale)]
        self.assertEqual(refs, ["1", "2"])
        second = self._packages(sale)[1]
        self.assertEqual(
            {i["orderItemId"]: i["quantity"] for i in second["packageItems"]}[
                line.amazon_item_ref
            ],
            int(line.product_uom_qty) - 1,
        )
        self.assertEqual(
            self._live(sale.amazon_order_ref)["fulfillment"]["fulfillmentStatus"],
            "SHIPPED",
        )

    def test_several_packages_one_call_each(self):
        sale = self._fbm_order(min_items=2)
        picking = self._open_picking(sale)
        picking.action_assign()
        boxes = self.env["stock.quant.package"].create([{}, {}])
        for move, box in zip(picking.move_ids[:2], boxes, strict=True):
            move.quantity = move.product_uom_qty
            move.move_line_ids.result_package_id = box
        for move in picking.move_ids[2:]:
            move.quantity = move.product_uom_qty
            move.move_line_ids.result_package_id = boxes[1]
        self.sandbox.clear_calls()
        self._deliver(sale, tracking="BOX-A, BOX-B")
        self._run()
        self.assertEqual(self.sandbox.call_count("confirmShipment"), 2)
        packages = self._packages(sale)
        self.assertEqual(
            [(p["packageReferenceId"], p["trackingNumber"]) for p in packages],
            [("1", "BOX-A"), ("2", "BOX-B")],
        )
        self.assertEqual(picking.amazon_sync_state, "synced")
        self.assertEqual(
            set(picking.amazon_shipment_ids.stock_package_id.ids), set(boxes.ids)
        )

    def test_tracking_reference_is_required(self):
        sale = self._fbm_order()
        picking = self._open_picking(sale)
        picking.carrier_id = self.dhl
        picking.action_assign()
        picking.move_ids.quantity = 1
        with self.assertRaises(UserError) as caught:
            picking.button_validate()
        self.assertIn("tracking reference", str(caught.exception))
        self.assertIn(sale.amazon_order_ref, str(caught.exception))
        self.assertNotEqual(picking.state, "done")
        self.assertFalse(picking.amazon_shipment_ids)

    def test_carrier_is_required(self):
        sale = self._fbm_order()
        picking = self._open_picking(sale)
        picking.carrier_tracking_ref = "X1"
        picking.action_assign()
        with self.assertRaises(UserError) as caught:
            picking.button_validate()
        self.assertIn("carrier", str(caught.exception))
        self.assertNotEqual(picking.state, "done")

    def test_carrier_without_code_goes_as_other(self):
        courier = self._carrier("Kurierdienst Müller")
        sale = self._fbm_order()
        picking = self._deliver(sale, carrier=courier)
        self._run()
        self.assertEqual(picking.amazon_sync_state, "synced")
        body = self._confirmations(sale)[0]["body"]["packageDetail"]
        self.assertEqual(body["carrierCode"], "Other")
        self.assertEqual(body["carrierName"], "Kurierdienst Müller")

    def test_carrier_names_match_amazon_codes(self):
        Carrier = self.env["amazon.carrier"]
        cases = {
            "DHL": "DHL",
            "ups": "UPS",
            "FedEx": "FedEx",
            "usps": "USPS",
            "royal mail": "Royal Mail",
            "DEUTSCHE POST": "Deutsche Post",
            "dpd": "DPD",
            "GLS": "GLS",
            "Hermes": "Hermes",
            "Japan Post": "Japan Post",
            "yamato": "YamatoTransport",
            "Correios": "Correios",
            "DHL Paket Deutschland": "DHL",
            "DHL eCommerce": "DHL eCommerce",
        }
        for name, code in cases.items():
            carrier = self._carrier(name)
            self.assertEqual(Carrier._amazon_match(carrier), (code, None), name)
        mapped = self._carrier(
            "Our van",
            amazon_carrier_id=self.env.ref("amazon_refund_connector.carrier_gls").id,
        )
        self.assertEqual(Carrier._amazon_match(mapped), ("GLS", None))

    def test_non_amazon_fba_and_return_pickings_send_nothing(self):
        customer = self.env["res.partner"].create({"name": "Walk-in customer"})
        plain = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [
                    fields.Command.create(
                        {"product_id": self.products[0].id, "product_uom_qty": 1}
                    )
                ],
            }
        )
        plain.action_confirm()
        plain.picking_ids.move_ids.quantity = 1
        plain.picking_ids.button_validate()
        self.assertEqual(plain.picking_ids.state, "done")
        self.assertFalse(plain.picking_ids.amazon_shipment_ids)
        self.assertFalse(plain.picking_ids.amazon_sync_state)
        fba = self.SaleOrder.search(
            [("amazon_channel", "=", "FBA"), ("state", "=", "sale")], limit=1
        )
        self.assertTrue(fba.picking_ids)
        self.assertFalse(fba.picking_ids.amazon_shipment_ids)
        # A return of a confirmed Amazon delivery.
        sale = self._fbm_order()
        delivery = self._deliver(sale)
        self._run()
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_id=delivery.id, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = 1
        returned = self.env["stock.picking"].browse(
            wizard.action_create_returns()["res_id"]
        )
        returned.move_ids.quantity = 1
        returned.button_validate()
        self.assertEqual(returned.state, "done")
        self.assertFalse(returned.is_amazon_fbm)
        self.assertFalse(returned.amazon_shipment_ids)

    def test_search_filters_and_group_by(self):
        synced = self._fbm_order()
        self._deliver(synced)
        self._run()
        failing = self._fbm_order()
        failing_picking = self._deliver(failing)
        failing.order_line.filtered(
            lambda li: li.amazon_charge == "ITEM"
        ).amazon_item_ref = "99999999999999"
        failing_picking.amazon_shipment_ids.sudo().items = {"99999999999999": 1}
        self._run()
        Picking = self.env["stock.picking"]
        self.assertIn(
            failing_picking, Picking.search([("amazon_sync_state", "=", "failed")])
        )
        self.assertIn(
            synced.picking_ids, Picking.search([("amazon_sync_state", "=", "synced")])
        )
        groups = dict(
            Picking._read_group(
                [("amazon_sync_state", "!=", False)], ["amazon_sync_state"], ["__count"]
            )
        )
        self.assertGreaterEqual(groups.get("synced", 0), 1)
        self.assertGreaterEqual(groups.get("failed", 0), 1)
        view = self.env.ref("amazon_refund_connector.view_picking_search_amazon")
        for name in (
            "amazon_sync_pending",
            "amazon_sync_synced",
            "amazon_sync_failed",
            "group_amazon_sync_state",
        ):
            self.assertIn(f'name="{name}"', view.arch_db)


class TestShipmentFailures(ShipmentCase):
    seed = 22

    def _mails(self):
        return self.env["mail.mail"].search(
            [
                ("model", "=", "amazon.account"),
                ("res_id", "=", self.account.id),
                ("subject", "ilike", "did not confirm"),
            ]
        )

    def test_unknown_item_fails_with_amazons_message_and_one_mail(self):
        pickings = self.env["stock.picking"]
        for _n in range(2):
            sale = self._fbm_order()
            picking = self._deliver(sale)
            picking.amazon_shipment_ids.sudo().items = {"12345678901234": 1}
            pickings |= picking
        before = self._mails()
        self._run()
        self.assertEqual(set(pickings.mapped("amazon_sync_state")), {"failed"})
        for picking in pickings:
            self.assertIn("12345678901234", picking.amazon_sync_message)
            self.assertIn(
                "Amazon did not confirm the shipment",
                picking.message_ids[0].body,
            )
        mails = self._mails() - before
        self.assertEqual(len(mails), 1, "one e-mail per run")
        self.assertIn(self.manager.partner_id, mails.recipient_ids)
        for picking in pickings:
            self.assertIn(picking.name, mails.body_html)
            self.assertIn(picking.sale_id.amazon_order_ref, mails.body_html)
        self.assertIn("12345678901234", mails.body_html)
        # Permanent refusals wait for a person: the cron does not resend.
        self.sandbox.clear_calls()
        with trap_jobs() as trap:
            self.env["amazon.account"]._cron_confirm_shipments()
        self.assertFalse([j for j in trap.enqueued_jobs if j.recordset == self.account])
        self._run()
        self.assertEqual(self.sandbox.call_count("confirmShipment"), 0)
        self.assertEqual(len(self._mails() - before), 1)

    def test_retry_turns_failed_into_synced(self):
        sale = self._fbm_order()
        picking = self._deliver(sale, carrier=self._carrier("Nobody"))
        picking.amazon_shipment_ids.sudo().write(
            {"carrier_code": "Other", "carrier_name": False}
        )
        self._run()
        self.assertEqual(picking.amazon_sync_state, "failed")
        # The user corrects the carrier, then retries from the list.
        picking.carrier_id = self.dhl
        user = new_test_user(
            self.env, login="amazon_ship_clerk", groups="stock.group_stock_user"
        )
        action = self.env.ref(
            "amazon_refund_connector.action_picking_amazon_retry_sync"
        )
        with trap_jobs() as trap:
            action.with_user(user).with_context(
                active_model="stock.picking", active_ids=picking.ids
            ).run()
        self.assertEqual(picking.amazon_sync_state, "pending")
        self.assertTrue([j for j in trap.enqueued_jobs if j.recordset == self.account])
        self._run()
        self.assertEqual(picking.amazon_sync_state, "synced")
        self.assertEqual(self._packages(sale)[0]["carrier"], "DHL")
        with self.assertRaises(UserError):
            picking.action_amazon_retry_sync()

    def test_order_cancelled_on_amazon_before_shipping(self):
        sale = self._fbm_order()
        self.sandbox.cancel_order(
            sale.amazon_order_ref, seller_id=self.seller["seller_id"]
        )
        picking = self._deliver(sale)
        self._run()
        self.assertEqual(picking.amazon_sync_state, "failed")
        self.assertIn("cancelled on Amazon", picking.amazon_sync_message)
        self.assertEqual(sale.amazon_status, "CANCELLED")
        self.assertFalse(self._packages(sale))

    def test_throttle_storm_keeps_pending_and_reschedules(self):
        sale = self._fbm_order()
        picking = self._deliver(sale)
        self.sandbox.inject_fault("confirmShipment", "throttle", count=20)
        with trap_jobs() as trap:
            self._run()
        self.assertEqual(picking.amazon_sync_state, "pending")
        self.assertFalse(self._confirmations(sale))
        later = [j for j in trap.enqueued_jobs if j.recordset == self.account]
        self.assertEqual(len(later), 1)
        self.assertTrue(later[0].eta)
        # Bounded: a storm costs a few calls, not a busy loop.
        self.assertLessEqual(self.sandbox.call_count("confirmShipment"), 3)
        self.sandbox.clear_faults()
        self._reset_rate_limits()
        self._run()
        self.assertEqual(picking.amazon_sync_state, "synced")
        self.assertEqual(len(self._confirmations(sale)), 1)

    def test_server_errors_retry_with_backoff_then_fail(self):
        sale = self._fbm_order()
        picking = self._deliver(sale)
        self.sandbox.inject_fault("confirmShipment", "server_error", count=50)
        self._run()
        shipment = picking.amazon_shipment_ids
        self.assertEqual(picking.amazon_sync_state, "pending")
        self.assertEqual(shipment.attempts, 1)
        self.assertTrue(shipment.transient)
        self.assertGreater(shipment.next_try, fields.Datetime.now())
        self.assertIn("Attempt 1 of 5", picking.amazon_sync_message)
        # Not due yet: nothing is sent.
        self.sandbox.clear_calls()
        self._run()
        self.assertEqual(self.sandbox.call_count("confirmShipment"), 0)
        for _n in range(4):
            self._due_now(picking)
            self._run()
        self.assertEqual(shipment.attempts, 5)
        self.assertEqual(picking.amazon_sync_state, "failed")
        self.assertIn("has not confirmed", picking.amazon_sync_message)
        # The cron goes on with transient failures once Amazon answers.
        self.sandbox.clear_faults()
        self._due_now(picking)
        with trap_jobs() as trap:
            self.env["amazon.account"]._cron_confirm_shipments()
        self.assertTrue([j for j in trap.enqueued_jobs if j.recordset == self.account])
        self._run()
        self.assertEqual(picking.amazon_sync_state, "synced")

    def test_reset_after_amazon_applied_is_checked_not_resent(self):
        sale = self._fbm_order()
        picking = self._deliver(sale)
        self.sandbox.inject_fault("confirmShipment", "reset_after_apply")
        self._run()
        shipment = picking.amazon_shipment_ids
        self.assertEqual(picking.amazon_sync_state, "pending")
        self.assertTrue(shipment.outcome_unknown)
        self.assertEqual(len(self._packages(sale)), 1)
        self._due_now(picking)
        self.sandbox.clear_calls()
        self._run()
        self.assertEqual(picking.amazon_sync_state, "synced")
        self.assertEqual(self.sandbox.call_count("getOrder"), 1)
        self.assertEqual(self.sandbox.call_count("confirmShipment"), 0)
        self.assertEqual(len(self._confirmations(sale)), 1)

    def test_timeout_after_amazon_applied(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "amazon_refund_connector.timeout", "0.5"
        )
        sale = self._fbm_order()
        picking = self._deliver(sale)
        self.sandbox.inject_fault("confirmShipment", "slow_after_apply", delay=2)
        self._run()
        self.assertTrue(picking.amazon_shipment_ids.outcome_unknown)
        self.assertEqual(picking.amazon_sync_state, "pending")
        self.env["ir.config_parameter"].sudo().set_param(
            "amazon_refund_connector.timeout", "20"
        )
        self._due_now(picking)
        self._run()
        self.assertEqual(picking.amazon_sync_state, "synced")
        self.assertEqual(len(self._confirmations(sale)), 1)

    def test_unknown_outcome_not_applied_is_sent_again(self):
        sale = self._fbm_order()
        picking = self._deliver(sale)
        self.sandbox.inject_fault("confirmShipment", "reset")
        self._run()
        self.assertTrue(picking.amazon_shipment_ids.outcome_unknown)
        self.assertFalse(self._packages(sale))
        self._due_now(picking)
        self._run()
        self.assertEqual(picking.amazon_sync_state, "synced")
        self.assertEqual(len(self._confirmations(sale)), 1)

    def test_expired_token_is_renewed(self):
        sale = self._fbm_order()
        picking = self._deliver(sale)
        self.sandbox.expire_tokens()
        self._run()
        self.assertEqual(picking.amazon_sync_state, "synced")

    def test_two_deliveries_of_one_order_take_different_references(self):
        sale = self._fbm_order(min_qty=2)
        line = sale.order_line.filtered(
            lambda li: li.amazon_charge == "ITEM" and li.product_uom_qty >= 2
        )[0]
        first = self._deliver(sale, quantities={line: 1})
        second = self._deliver(sale)
        refs = (first | second).amazon_shipment_ids.mapped("package_ref")
        self.assertEqual(sorted(refs), [1, 2])
        self._run()
        self.assertEqual(
            [p["packageReferenceId"] for p in self._packages(sale)], ["1", "2"]
        )
