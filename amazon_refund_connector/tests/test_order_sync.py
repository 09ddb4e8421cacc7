from datetime import timedelta
from decimal import Decimal

from psycopg2 import IntegrityError

from odoo import fields
from odoo.tests import new_test_user
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError

from .common import AmazonSandboxCase

EU_MARKETPLACES = (
    "A1PA6795UKMFR9",  # DE
    "A13V1IB3VIYZZH",  # FR
    "APJ6JRA9NG5V4",  # IT
    "A1RKKUPIHCS9HS",  # ES
    "A1F83G8C2ARO7P",  # UK
)
IMPORTED = {
    "AMAZON": {"SHIPPED", "CANCELLED"},
    "MERCHANT": {"UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED"},
}


def importable(order):
    fulfillment = order["fulfillment"]
    return fulfillment["fulfillmentStatus"] in IMPORTED[fulfillment["fulfilledBy"]]


class OrderSyncCase(AmazonSandboxCase):
    marketplaces = EU_MARKETPLACES
    seed_count = 120
    seed = 11

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.marketplace_ids = cls.env["amazon.marketplace"].search(
            [("marketplace_ref", "in", list(EU_MARKETPLACES))]
        )
        cls._add_rates(["EUR", "GBP"])
        cls.orders = cls.sandbox.seed_orders(
            cls.seed, cls.seed_count, seller_id=cls.seller["seller_id"]
        )
        cls.skus = sorted(
            {i["product"]["sellerSku"] for o in cls.orders for i in o["orderItems"]}
        )
        # Every SKU but one family exists as a product; one goes through an offer.
        cls.unmapped = {s for s in cls.skus if s.startswith("SOCKS")}
        cls.products = cls.env["product.product"].create(
            [
                {"name": sku, "default_code": sku, "is_storable": True}
                for sku in cls.skus
                if sku not in cls.unmapped
            ]
        )
        cls.SaleOrder = cls.env["sale.order"]

    @classmethod
    def _add_rates(cls, codes, company=None):
        company = company or cls.env.company
        for code in codes:
            currency = (
                cls.env["res.currency"]
                .with_context(active_test=False)
                .search([("name", "=", code)])
            )
            currency.active = True
            if currency == company.currency_id:
                continue
            cls.env["res.currency.rate"].create(
                {
                    "currency_id": currency.id,
                    "company_id": company.id,
                    "name": fields.Date.today() - timedelta(days=400),
                    "rate": 0.9 if code == "EUR" else 0.8,
                }
            )

    def _sync(self, account=None):
        account = account or self.account
        client = account._get_client()
        try:
            return account._sync_orders(client)
        finally:
            client.close()

    def _fba_reordering_rule(self, product, warehouse, **values):
        """A reordering rule of ``product`` at the account's FBA location,
        replenished from ``warehouse`` (its resupply route)."""
        fba_location = self.account.fba_location_id
        fba_location.warehouse_id.resupply_wh_ids = warehouse
        route = fba_location.warehouse_id.resupply_route_ids.filtered(
            lambda r: warehouse in r.rule_ids.location_src_id.warehouse_id
        )[:1]
        self.assertTrue(route)
        product.route_ids = route
        return self.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": product.id,
                "warehouse_id": fba_location.warehouse_id.id,
                "location_id": fba_location.id,
                **values,
            }
        )

    def _replenishment(self, product, warehouse):
        """The moves that send ``product`` from ``warehouse`` towards the FBA
        location and are not done yet."""
        return self.env["stock.move"].search(
            [
                ("product_id", "=", product.id),
                ("location_id", "=", warehouse.lot_stock_id.id),
                ("location_dest_id.usage", "!=", "customer"),
                ("state", "not in", ("done", "cancel")),
            ]
        )

    def _amazon_orders(self, account=None):
        account = account or self.account
        return self.SaleOrder.search([("amazon_account_id", "=", account.id)])

    def _live(self, ref):
        return self.sandbox.get_order_data(ref, seller_id=self.seller["seller_id"])

    def _expected_refs(self):
        # As the sandbox holds them now: a test may have changed some.
        return {
            o["orderId"] for o in self.orders if importable(self._live(o["orderId"]))
        }


class TestOrderSyncSeveralHundred(OrderSyncCase):
    seed = 10
    seed_count = 300

    def test_sync_twice_gives_one_complete_order_each(self):
        result = self._sync()
        self.assertFalse(result.failures, result.failures)
        sales = self._amazon_orders()
        expected = self._expected_refs()
        self.assertEqual(set(sales.mapped("amazon_order_ref")), expected)
        self.assertEqual(len(sales), len(expected))
        partners = self.env["res.partner"].search_count([("amazon_key", "!=", False)])
        lines = len(sales.order_line)

        again = self._sync()
        self.assertFalse(again.created)
        self.assertEqual(self._amazon_orders(), sales)
        self.assertEqual(
            self.env["res.partner"].search_count([("amazon_key", "!=", False)]),
            partners,
        )
        self.assertEqual(len(sales.order_line), lines)

        for sale in sales:
            raw = self._live(sale.amazon_order_ref)
            channel = "FBA" if raw["fulfillment"]["fulfilledBy"] == "AMAZON" else "FBM"
            self.assertEqual(sale.amazon_channel, channel)
            self.assertEqual(
                sale.amazon_status, raw["fulfillment"]["fulfillmentStatus"]
            )
            self.assertEqual(sale.origin, "Amazon")
            self.assertEqual(sale.team_id, self.account.team_id)
            self.assertEqual(
                sale.amazon_marketplace_id.marketplace_ref,
                raw["salesChannel"]["marketplaceId"],
            )
            self.assertEqual(
                sale.currency_id.name, raw["proceeds"]["grandTotal"]["currencyCode"]
            )
            self.assertEqual(
                sale.state, "cancel" if sale.amazon_status == "CANCELLED" else "sale"
            )
            self.assertEqual(
                sale.date_order,
                fields.Datetime.to_datetime(raw["createdTime"][:19].replace("T", " ")),
            )
            grand_total = Decimal(raw["proceeds"]["grandTotal"]["amount"])
            self.assertEqual(
                Decimal(str(sale.amount_total)).quantize(grand_total),
                grand_total,
                f"{sale.amazon_order_ref}: {sale.amount_total} != {grand_total}",
            )
            item_refs = {i["orderItemId"] for i in raw["orderItems"]}
            self.assertEqual(
                set(
                    sale.order_line.filtered(
                        lambda line: line.amazon_charge == "ITEM"
                    ).mapped("amazon_item_ref")
                ),
                item_refs,
            )
            self.assertFalse(
                sale.order_line.filtered(
                    lambda line: line.amazon_charge in ("TAX", "ROUNDING")
                ),
                f"{sale.amazon_order_ref} needed a tax or rounding line",
            )

        # Taxes are the marketplaces' real rates, not rates made up from
        # rounded amounts.
        rates = {}
        for line in sales.order_line.filtered("tax_id"):
            country = line.order_id.amazon_marketplace_id.country_id.code
            rates.setdefault(country, set()).update(line.tax_id.mapped("amount"))
        self.assertLessEqual(rates.get("DE", set()), {19.0, 7.0})
        self.assertLessEqual(rates.get("FR", set()), {20.0, 10.0, 5.5, 2.1})
        self.assertLessEqual(rates.get("GB", set()), {20.0, 5.0})


class TestOrderSync(OrderSyncCase):
    def test_lines_follow_amazon_charges(self):
        self._sync()
        sales = self._amazon_orders()
        kinds = set(sales.order_line.mapped("amazon_charge"))
        # The seeded set has shipping, gift wrap and promotions.
        self.assertTrue({"ITEM", "SHIPPING", "GIFT_WRAP", "DISCOUNT"} <= kinds, kinds)
        discount = sales.order_line.filtered(
            lambda line: line.amazon_charge == "DISCOUNT"
        )
        self.assertTrue(all(line.price_unit < 0 for line in discount))
        for sale in sales.filtered(lambda s: s.amazon_status != "CANCELLED"):
            vat = sale.amazon_marketplace_id.country_id.code in (
                "DE",
                "FR",
                "IT",
                "ES",
                "GB",
            )
            taxes = sale.order_line.tax_id
            self.assertTrue(taxes, sale.amazon_order_ref)
            self.assertTrue(all(t.price_include == vat for t in taxes))

    def test_unknown_sku_is_flagged_never_dropped(self):
        self._sync()
        unknown = self.env.ref("amazon_refund_connector.product_unknown_item")
        with_unknown = self._amazon_orders().filtered(
            lambda s: any(
                i["product"]["sellerSku"] in self.unmapped
                for o in self.orders
                if o["orderId"] == s.amazon_order_ref
                for i in o["orderItems"]
            )
        )
        self.assertTrue(with_unknown)
        for sale in with_unknown:
            self.assertIn(unknown, sale.order_line.product_id)
            self.assertIn("matches no product", sale.amazon_issue)

    def test_offer_maps_sku_before_internal_reference(self):
        sku = sorted(self.unmapped)[0]
        mapped = self.env["product.product"].create({"name": "Socks via offer"})
        self.env["amazon.offer"].create(
            {"account_id": self.account.id, "sku": sku, "product_id": mapped.id}
        )
        self._sync()
        lines = self._amazon_orders().order_line.filtered(
            lambda line: line.name.startswith(f"[{sku}]")
        )
        self.assertTrue(lines)
        self.assertEqual(lines.product_id, mapped)

    def test_cursor_moves_to_amazon_window(self):
        self.assertFalse(self.account.last_order_sync)
        self._sync()
        self.assertTrue(self.account.last_order_sync)
        last = max(o["lastUpdatedTime"] for o in self.orders)
        self.assertGreaterEqual(
            fields.Datetime.to_string(self.account.last_order_sync),
            last[:19].replace("T", " "),
        )

    def test_cancellation_after_import_cancels(self):
        ref = next(
            o["orderId"]
            for o in self.orders
            if o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
            and o["fulfillment"]["fulfilledBy"] == "MERCHANT"
        )
        self._sync()
        sale = self.SaleOrder.search([("amazon_order_ref", "=", ref)])
        self.assertEqual(sale.state, "sale")
        self.assertTrue(sale.picking_ids)
        self.sandbox.cancel_order(ref, seller_id=self.seller["seller_id"])
        result = self._sync()
        self.assertIn(sale.id, result.updated)
        self.assertEqual(sale.state, "cancel")
        self.assertEqual(sale.amazon_status, "CANCELLED")
        self.assertEqual(set(sale.picking_ids.mapped("state")), {"cancel"})
        self.assertEqual(
            len(self.SaleOrder.search([("amazon_order_ref", "=", ref)])), 1
        )

    def test_status_change_updates_never_duplicates(self):
        # The last unshipped order: the cancellation test takes the first.
        ref = [
            o["orderId"]
            for o in self.orders
            if o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
            and o["fulfillment"]["fulfilledBy"] == "MERCHANT"
        ][-1]
        self._sync()
        self.sandbox.ship_order(ref, seller_id=self.seller["seller_id"])
        self._sync()
        sales = self.SaleOrder.search([("amazon_order_ref", "=", ref)])
        self.assertEqual(len(sales), 1)
        self.assertEqual(sales.amazon_status, "SHIPPED")

    @mute_logger("odoo.sql_db")
    def test_reference_unique_per_account_in_database(self):
        self._sync()
        sale = self._amazon_orders()[:1]
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            sale.copy(
                {
                    "amazon_order_ref": sale.amazon_order_ref,
                    "amazon_account_id": self.account.id,
                }
            )
            self.env.flush_all()

    def test_amazon_buyers_are_not_followers(self):
        self._sync()
        sales = self._amazon_orders().filtered(lambda s: s.state == "sale")
        buyers = sales.partner_id | sales.partner_shipping_id
        self.assertFalse(sales.message_partner_ids & buyers)
        self.assertTrue(sales.picking_ids)
        self.assertFalse(sales.picking_ids.message_partner_ids & buyers)

    def test_own_address_is_not_copied_as_delivery_address(self):
        self._sync()
        sales = self._amazon_orders()
        own = sales.filtered(lambda s: s.partner_shipping_id == s.partner_id)
        self.assertTrue(own)
        for sale in sales - own:
            self.assertEqual(sale.partner_shipping_id.parent_id, sale.partner_id)
            self.assertEqual(sale.partner_shipping_id.type, "delivery")


class TestOrderSyncWizards(OrderSyncCase):
    seed = 12
    seed_count = 40

    def test_recover_order_older_than_cursor(self):
        ref = next(o["orderId"] for o in self.orders if importable(o))
        self.account.last_order_sync = fields.Datetime.now()
        self.assertFalse(self._sync().created)
        wizard = self.env["amazon.order.recover"].create(
            {"account_id": self.account.id, "order_ref": ref}
        )
        action = wizard.action_recover()
        sale = self.SaleOrder.browse(action["res_id"])
        self.assertEqual(sale.amazon_order_ref, ref)
        # Recovering again refreshes the same order.
        action = wizard.action_recover()
        self.assertEqual(action["res_id"], sale.id)
        self.assertEqual(
            len(self.SaleOrder.search([("amazon_order_ref", "=", ref)])), 1
        )

    def test_recover_unknown_order_says_so(self):
        wizard = self.env["amazon.order.recover"].create(
            {"account_id": self.account.id, "order_ref": "999-9999999-9999999"}
        )
        action = wizard.action_recover()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("found nothing", action["params"]["message"])
        # The message stays on the account.
        self.assertIn("found nothing", self.account.last_error)

    def test_import_wizard_lists_what_it_imported(self):
        cursor = fields.Datetime.now() - timedelta(days=1)
        self.account.last_order_sync = cursor
        wizard = self.env["amazon.order.import"].create(
            {"account_id": self.account.id, "days": 31}
        )
        action = wizard.action_import()
        listed = self.SaleOrder.search(action["domain"])
        self.assertEqual(set(listed.mapped("amazon_order_ref")), self._expected_refs())
        self.assertEqual(action["res_model"], "sale.order")
        self.assertIn("created", action["help"])
        # The manual import leaves the automatic cursor alone.
        self.assertEqual(self.account.last_order_sync, cursor)
        # Importing the period again lists the same orders, updated.
        again = self.SaleOrder.search(wizard.action_import()["domain"])
        self.assertEqual(again, listed)

    def test_sales_search_view_filters_and_groups(self):
        self._sync()
        arch = self.SaleOrder.get_views([(False, "search")])["views"]["search"]["arch"]
        for name in (
            "amazon",
            "amazon_fba",
            "amazon_fbm",
            "group_amazon_account",
            "group_amazon_marketplace",
            "group_amazon_channel",
        ):
            self.assertIn(f'name="{name}"', arch)
        groups = self.SaleOrder._read_group(
            [("is_amazon_order", "=", True)],
            ["amazon_marketplace_id", "amazon_channel"],
            ["__count"],
        )
        self.assertEqual(
            sum(count for _m, _c, count in groups), len(self._amazon_orders())
        )

    def test_cron_enqueues_sync_of_automatic_accounts_only(self):
        from odoo.addons.queue_job.tests.common import trap_jobs

        manual = self.env["amazon.account"].create(
            self._account_vals(self.seller, name="Manual", auto_import_orders=False)
        )
        with trap_jobs() as trap:
            self.env["amazon.account"]._cron_sync_orders()
        accounts = {job.recordset for job in trap.enqueued_jobs}
        self.assertIn(self.account, accounts)
        self.assertNotIn(manual, accounts)
        job = next(j for j in trap.enqueued_jobs if j.recordset == self.account)
        self.assertEqual(job.channel, "root.amazon")
        self.assertEqual(job.method_name, "_job_sync_orders")
        # queue_job runs a job allowed to commit in a transaction of its own,
        # which cannot see this test's data: run the job's method here.
        self.assertTrue(job.job_config.allow_commit)
        self.account._job_sync_orders()
        self.assertEqual(
            set(self._amazon_orders().mapped("amazon_order_ref")), self._expected_refs()
        )


class TestOrderSyncBadInput(OrderSyncCase):
    seed = 13
    seed_count = 60

    def _ref(self, index, predicate=importable):
        """The index-th order matching ``predicate``: each test damages its own."""
        return [o["orderId"] for o in self.orders if predicate(o)][index]

    def _corrupt(self, ref, mutate):
        """Damage an order on Amazon's side for this test only."""
        original = self._live(ref)
        self.addCleanup(
            self.sandbox.corrupt_order,
            ref,
            lambda _o: original,
            seller_id=self.seller["seller_id"],
        )
        return self.sandbox.corrupt_order(
            ref, mutate, seller_id=self.seller["seller_id"]
        )

    def _assert_rest_imported(self, failed_refs):
        refs = set(self._amazon_orders().mapped("amazon_order_ref"))
        self.assertEqual(refs, self._expected_refs() - set(failed_refs))

    def _assert_cursor_not_past(self, ref):
        raw = self.sandbox.get_order_data(ref, seller_id=self.seller["seller_id"])
        self.assertLessEqual(
            fields.Datetime.to_string(self.account.last_order_sync),
            raw["lastUpdatedTime"][:19].replace("T", " "),
        )

    def test_malformed_order(self):
        ref = self._ref(0)
        original = self._live(ref)

        def mutate(order):
            del order["orderItems"]

        self._corrupt(ref, mutate)
        result = self._sync()
        self.assertIn(ref, result.failures)
        self.assertIn("orderItems", self.account.last_error)
        self.assertIn(ref, self.account.last_error)
        self._assert_rest_imported([ref])
        self._assert_cursor_not_past(ref)
        # Amazon sends it whole again: the next run completes it, no duplicate.
        self._corrupt(ref, lambda o: original)
        self.assertFalse(self._sync().failures)
        self._assert_rest_imported([])

    def test_non_numeric_amount(self):
        ref = self._ref(1)

        def mutate(order):
            order["orderItems"][0]["proceeds"]["breakdowns"][0]["subtotal"][
                "amount"
            ] = "12,5O"

        self._corrupt(ref, mutate)
        result = self._sync()
        self.assertIn("is not a number", result.failures[ref][1])
        self._assert_rest_imported([ref])

    def test_unknown_marketplace(self):
        # Searches ask for the account's marketplaces only, but getOrder (the
        # recovery wizard) returns an order whatever its marketplace.
        refs = [o["orderId"] for o in self.orders if importable(o)][2:6]
        raws = [self._live(ref) for ref in refs]
        raws[0]["salesChannel"]["marketplaceId"] = "AZZZUNKNOWN01"
        result = self.SaleOrder._amazon_import_orders(self.account, raws)
        self.assertEqual(list(result.failures), [refs[0]])
        self.assertIn("AZZZUNKNOWN01", result.failures[refs[0]][1])
        self.assertIn("unknown to Odoo", result.failures[refs[0]][1])
        self.assertEqual(
            set(self.SaleOrder.browse(result.created).mapped("amazon_order_ref")),
            set(refs[1:]),
        )

    def test_order_of_another_channel_is_skipped(self):
        # Multi-channel fulfilment orders are no Amazon sales.
        refs = [o["orderId"] for o in self.orders if importable(o)][6:8]
        raws = [self._live(ref) for ref in refs]
        raws[0]["salesChannel"] = {"channelName": "NON_AMAZON"}
        result = self.SaleOrder._amazon_import_orders(self.account, raws)
        self.assertFalse(result.failures)
        self.assertEqual(result.skipped, [refs[0]])
        self.assertEqual(len(result.created), 1)

    def test_missing_address(self):
        ref = self._ref(
            0,
            lambda o: (
                o["fulfillment"]["fulfilledBy"] == "MERCHANT"
                and o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
            ),
        )

        def mutate(order):
            del order["recipient"]

        self._corrupt(ref, mutate)
        result = self._sync()
        self.assertNotIn(ref, result.failures)
        sale = self.SaleOrder.search([("amazon_order_ref", "=", ref)])
        self.assertEqual(sale.partner_shipping_id, sale.partner_id)
        self.assertIn("no delivery address", sale.amazon_issue)
        self._assert_rest_imported([])

    def test_currency_without_rate(self):
        gbp = self.env.ref("base.GBP")
        self.env["res.currency.rate"].search([("currency_id", "=", gbp.id)]).unlink()
        uk = [
            o["orderId"]
            for o in self.orders
            if importable(o) and o["salesChannel"]["marketplaceId"] == "A1F83G8C2ARO7P"
        ]
        self.assertTrue(uk)
        result = self._sync()
        self.assertEqual(set(result.failures), set(uk))
        self.assertIn("no exchange rate", self.account.last_error)
        self._assert_rest_imported(uk)
        for ref in uk:
            self._assert_cursor_not_past(ref)
        self._add_rates(["GBP"])
        self.assertFalse(self._sync().failures)
        self._assert_rest_imported([])

    def test_throttled_mid_pagination(self):
        # A seller of its own with two pages of orders; Amazon's bucket for
        # searchOrders holds one call, and no time passes unless told.
        clock = self.use_manual_clock()
        seller = self._add_seller()
        orders = self.sandbox.seed_orders(14, 150, seller_id=seller["seller_id"])
        account = self.env["amazon.account"].create(
            self._account_vals(seller, marketplace_ids=self.account.marketplace_ids.ids)
        )
        self.sandbox.set_rate("searchOrders", 0.0001, 1)
        self.addCleanup(self.sandbox.set_rate, "searchOrders", 0.0056, 20)
        # Not assertRaises: Odoo's rolls back what the block did, and what
        # page 1 stored is the point here.
        try:
            account._job_sync_orders()
        except RetryableJobError as error:
            self.assertIn("searchOrders", str(error))
            self.assertGreaterEqual(error.seconds, 1)
            delay = error.seconds
        else:
            self.fail("the throttled second page did not re-schedule the job")
        stored = self._amazon_orders(account)
        expected = {o["orderId"] for o in orders if importable(o)}
        # Page 1 is stored, page 2 is not.
        self.assertTrue(0 < len(stored) < len(expected))
        self.assertTrue(set(stored.mapped("amazon_order_ref")) <= expected)
        self.assertFalse(account.last_order_sync)

        # A retry before the delay has passed stops at the connector's own
        # bucket, which took the rate Amazon announced: no call goes out.
        calls = self.sandbox.call_count("searchOrders")
        with self.assertRaises(RetryableJobError):
            account._job_sync_orders()
        self.assertEqual(self.sandbox.call_count("searchOrders"), calls)

        # Amazon's usage plan is back; run the job as queue_job would, each
        # attempt once the delay of the previous one has passed.
        self.sandbox.set_rate("searchOrders", 0.0056, 20)
        for _attempt in range(3):
            clock.advance(delay)
            try:
                account._job_sync_orders()
                break
            except RetryableJobError as retry:
                self.assertIn("searchOrders", str(retry))
                delay = retry.seconds
        else:
            self.fail("the order sync did not finish in three attempts")
        synced = self._amazon_orders(account)
        self.assertEqual(set(synced.mapped("amazon_order_ref")), expected)
        self.assertEqual(len(synced), len(expected))
        self.assertTrue(stored <= synced)
        self.assertTrue(account.last_order_sync)

    def test_server_error_leaves_cursor(self):
        self.sandbox.inject_fault("searchOrders", "server_error")
        with self.assertRaises(RetryableJobError):
            self.account._job_sync_orders()
        self.assertFalse(self.account.last_order_sync)
        self.account._job_sync_orders()
        self._assert_rest_imported([])

    def test_malformed_page(self):
        self.sandbox.inject_fault("searchOrders", "malformed")
        with self.assertRaises(RetryableJobError) as caught:
            self.account._job_sync_orders()
        self.assertIn("unreadable", str(caught.exception))
        self.assertFalse(self._amazon_orders())


class TestOrderSyncShapes(OrderSyncCase):
    seed = 15
    seed_count = 50

    def test_cancelled_order_without_amounts(self):
        ref = next(
            o["orderId"]
            for o in self.orders
            if o["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
        )

        def strip(order):
            order.pop("proceeds", None)
            for item in order["orderItems"]:
                item.pop("proceeds", None)
                item["product"].pop("price", None)

        self.sandbox.corrupt_order(ref, strip, seller_id=self.seller["seller_id"])
        result = self._sync()
        self.assertFalse(result.failures)
        sale = self.SaleOrder.search([("amazon_order_ref", "=", ref)])
        self.assertEqual(sale.state, "cancel")
        self.assertEqual(sale.currency_id, sale.amazon_marketplace_id.currency_id)
        self.assertTrue(self.account.last_order_sync)

    def test_amazon_user_can_sync(self):
        user = new_test_user(
            self.env,
            login="amazon_sync_user",
            groups="amazon_refund_connector.group_amazon_user",
        )
        action = self.account.with_user(user).action_sync_orders()
        self.assertEqual(action["params"]["type"], "success", action["params"])
        self.assertEqual(
            set(self._amazon_orders().mapped("amazon_order_ref")), self._expected_refs()
        )
        fba = self._amazon_orders().filtered(
            lambda s: s.amazon_channel == "FBA" and s.amazon_status == "SHIPPED"
        )
        self.assertEqual(set(fba.picking_ids.mapped("state")), {"done"})

    def test_offer_for_one_marketplace_keeps_reference_elsewhere(self):
        sku = self.skus[0]
        if sku in self.unmapped:
            sku = next(s for s in self.skus if s not in self.unmapped)
        france = self.env["amazon.marketplace"].search(
            [("marketplace_ref", "=", "A13V1IB3VIYZZH")]
        )
        special = self.env["product.product"].create({"name": "French edition"})
        self.env["amazon.offer"].create(
            {
                "account_id": self.account.id,
                "marketplace_id": france.id,
                "sku": sku,
                "product_id": special.id,
            }
        )
        self._sync()
        lines = self._amazon_orders().order_line.filtered(
            lambda line: line.name.startswith(f"[{sku}]")
        )
        self.assertTrue(lines)
        for line in lines:
            expected = (
                special
                if line.order_id.amazon_marketplace_id == france
                else self.products.filtered(lambda p: p.default_code == sku)
            )
            self.assertEqual(line.product_id, expected)

    def test_buyers_stay_with_their_company(self):
        self._sync()
        customers = self._amazon_orders().partner_id
        self.assertEqual(customers.company_id, self.env.company)
        other = self.env["res.company"].create(
            {
                "name": "Second seller company",
                "currency_id": self.env.company.currency_id.id,
            }
        )
        self._add_rates(["EUR", "GBP"], other)
        account = self.env["amazon.account"].create(
            self._account_vals(
                self.seller,
                name="Same seller, other company",
                company_id=other.id,
                marketplace_ids=self.account.marketplace_ids.ids,
            )
        )
        self._sync(account)
        theirs = self._amazon_orders(account).partner_id
        self.assertEqual(theirs.company_id, other)
        self.assertFalse(theirs & customers)
