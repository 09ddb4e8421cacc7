"""A long order history imported through Amazon's order reports (sandbox).

The same orders are served to two sellers: one account reads them through
the report, the other through searchOrders, and the two imports are
compared order by order.
"""

from collections import Counter
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tools import mute_logger

from odoo.addons.amazon_refund_connector.models import amazon_account_history
from odoo.addons.amazon_refund_connector.sp_api import AmazonThrottled
from odoo.addons.amazon_refund_connector.sp_api.order_reports import (
    ORDERS_BY_LAST_UPDATE,
    is_history_item,
)
from odoo.addons.amazon_refund_connector.sp_api.orders import (
    FBA_IMPORTED_STATUSES,
    FBM_IMPORTED_STATUSES,
)
from odoo.addons.queue_job.exception import RetryableJobError

from .common import AmazonSandboxCase, order_shape

DE = "A1PA6795UKMFR9"
FR = "A13V1IB3VIYZZH"


class OrderHistoryCase(AmazonSandboxCase):
    marketplaces = (DE, FR)
    order_count = 160
    seed = 913

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._rate_eur()
        cls.account.marketplace_ids = cls.env["amazon.marketplace"].search(
            [("marketplace_ref", "in", list(cls.marketplaces))]
        )
        cls.orders = cls.sandbox.seed_orders(
            cls.seed, cls.order_count, seller_id=cls.seller["seller_id"]
        )
        cls._products_of(cls.orders)
        first = min(o["lastUpdatedTime"] for o in cls.orders)
        cls.period = (
            fields.Datetime.to_datetime(first[:19].replace("T", " "))
            - timedelta(hours=1),
            fields.Datetime.now().replace(microsecond=0),
        )

    def setUp(self):
        super().setUp()
        self.clock = self.use_manual_clock()
        self._reset_rate_limits()
        self.sandbox.configure_order_reports(
            queue_seconds=20, processing_seconds=40, fatal=False, corrupt={}
        )

    def _history(self, account=None, **vals):
        account = account or self.account
        return self.env["amazon.order.history"]._start(
            account,
            vals.pop("date_from", self.period[0]),
            vals.pop("date_to", self.period[1]),
            vals.pop("report_type", ORDERS_BY_LAST_UPDATE),
            vals.pop("move_cursor", True),
        )

    def _run(self, histories, max_rounds=60):
        """Run each history's job to its end, the sandbox's clock moving by
        the delays the job asks for; returns the delays."""
        delays = []
        for history in histories:
            client = history.account_id._get_client()
            try:
                for _round in range(max_rounds):
                    try:
                        delay = history._run(client)
                    except AmazonThrottled as error:
                        # The job is re-scheduled after Amazon's delay.
                        self.clock.advance(max(error.retry_after, 0.01))
                        continue
                    if not delay:
                        break
                    delays.append(delay)
                    self.clock.advance(delay)
                else:
                    self.fail(f"history {history.id} did not end")
            finally:
                client.close()
        return delays

    def _sales(self, account):
        return self.env["sale.order"].search([("amazon_account_id", "=", account.id)])


class TestOrderHistory(OrderHistoryCase):
    def _compare_with_search_orders(self):
        """A second seller gets the same orders; its account syncs them
        through searchOrders; both imports must agree order by order."""
        other = self._add_seller()
        self.sandbox.add_orders(self.orders, seller_id=other["seller_id"])
        twin = self.env["amazon.account"].create(
            self._account_vals(
                other,
                name="Amazon twin",
                marketplace_ids=[(6, 0, self.account.marketplace_ids.ids)],
                last_order_sync=self.period[0],
            )
        )
        client = twin._get_client()
        try:
            result = twin.with_context(amazon_order_history=False)._sync_orders(client)
        finally:
            client.close()
        self.assertFalse(result.failures)
        return twin

    def test_report_import_matches_search_orders(self):
        history = self._history()
        self.assertEqual(len(history), 2, "one history per marketplace")
        delays = self._run(history)
        self.assertTrue(delays, "the job waited for Amazon's report")
        self.assertEqual(
            set(history.mapped("state")), {"done"}, history.mapped("message")
        )
        twin = self._compare_with_search_orders()
        staged = self.env["amazon.order.history.order"].search(
            [("history_id", "in", history.ids)]
        )
        self.assertFalse(
            staged, staged.mapped(lambda s: (s.order_ref, s.state, s.message))
        )
        ours = {s.amazon_order_ref: s for s in self._sales(self.account)}
        theirs = {s.amazon_order_ref: s for s in self._sales(twin)}
        self.assertTrue(ours)
        self.assertEqual(set(ours), set(theirs))
        for ref, sale in ours.items():
            mine, other = order_shape(sale), order_shape(theirs[ref])
            if not other["country"]:
                # Amazon's order search hides the address of an order shipped
                # long ago; its report still gives the ship country.
                self.assertTrue(mine.pop("country"), ref)
                other.pop("country")
            self.assertEqual(mine, other, ref)
        statuses = Counter(s.amazon_status for s in ours.values())
        self.assertGreater(statuses["SHIPPED"], 0)
        # Shipped and cancelled history orders: one customer per marketplace;
        # the merchant's orders still to ship came through searchOrders, buyer
        # and address included.
        for sale in ours.values():
            if sale.amazon_status in ("SHIPPED", "CANCELLED"):
                self.assertFalse(sale.partner_id.email, sale.amazon_order_ref)
                self.assertEqual(
                    sale.partner_id.amazon_key,
                    f"amazon-anonymous:{sale.amazon_marketplace_id.marketplace_ref}",
                )
            else:
                self.assertEqual(
                    sale.partner_id, theirs[sale.amazon_order_ref].partner_id
                )
        customers = {
            s.partner_id for s in ours.values() if s.amazon_status == "SHIPPED"
        }
        self.assertLessEqual(len(customers), 2)
        self.assertEqual(
            sum(history.mapped("stored_count")), len(ours), history.mapped("progress")
        )
        self.assertEqual(self.account.last_order_sync, self.period[1])
        # The staged rows (postcodes) are gone once the orders are stored.
        self.assertFalse(history.order_ids)

    def test_a_second_run_changes_nothing_and_search_orders_updates_in_place(self):
        first = self._history()
        self._run(first)
        sales = self._sales(self.account)
        count = len(sales)
        second = self._history()
        self._run(second)
        self.assertEqual(len(self._sales(self.account)), count)
        # A later searchOrders answer for a history order updates it in
        # place: Amazon's order item ids replace the report's keys.
        sale = sales.filtered(lambda s: s.amazon_status == "SHIPPED")[:1]
        self.assertTrue(
            all(
                is_history_item(li.amazon_item_ref)
                for li in sale.order_line
                if li.amazon_item_ref
            )
        )
        raw = self.sandbox.get_order_data(
            sale.amazon_order_ref, seller_id=self.seller["seller_id"]
        )
        client = self.account._get_client()
        try:
            result = self.account._recover_order(client, sale.amazon_order_ref)
        finally:
            client.close()
        self.assertEqual(result.updated, [sale.id])
        refs = {i["orderItemId"] for i in raw["orderItems"]}
        item_refs = set(
            sale.order_line.filtered(lambda li: li.amazon_charge == "ITEM").mapped(
                "amazon_item_ref"
            )
        )
        self.assertEqual(item_refs, refs)
        self.assertEqual(len(self._sales(self.account)), count)

    def test_progress_and_messages_say_what_they_wait_for(self):
        history = self._history()[0]
        client = self.account._get_client()
        try:
            delay = history._run(client)
        finally:
            client.close()
        self.assertEqual(delay, 30)
        self.assertEqual(history.state, "wait")
        self.assertIn(history.report_ref, history.message)
        self.assertIn("IN_QUEUE", history.message)
        self.assertIn("0 of 0 orders stored", history.progress)
        self.assertIn(history.marketplace_id.name, self.account.order_history_progress)
        self.assertEqual(self.account.order_history_count, 2)

    def test_the_job_is_rescheduled_while_amazon_makes_the_report(self):
        history = self._history()[0]
        try:
            history._job_run()
        except RetryableJobError as error:
            self.assertEqual(error.seconds, 30)
            self.assertTrue(error.ignore_retry)
            self.assertIn("Waiting for Amazon to make report", str(error))
        else:
            self.fail("the job did not wait for the report")
        self.assertEqual(history.state, "wait")

    def test_a_cp1252_gzip_document_without_charset_is_read(self):
        self.sandbox.configure_order_reports(
            encoding="cp1252", charset_header=False, gzip=True
        )
        self.addCleanup(
            self.sandbox.configure_order_reports,
            encoding=None,
            charset_header=True,
            gzip=False,
        )
        histories = self._history()
        self._run(histories)
        self.assertEqual(set(histories.mapped("state")), {"done"})
        cities = set(self._sales(self.account).mapped("partner_shipping_id.city")) - {
            False
        }
        stored = {
            ((o.get("recipient") or {}).get("deliveryAddress") or {}).get("city")
            for o in self.orders
        }
        self.assertTrue(cities)
        self.assertLessEqual(cities, stored)
        self.assertTrue(any(not c.isascii() for c in cities), cities)

    def test_a_fatal_report_is_asked_again_then_left_to_the_user(self):
        self.sandbox.configure_order_reports(fatal=True)
        history = self._history()[0]
        with mute_logger("odoo.addons.amazon_refund_connector"):
            self._run(history)
        self.assertEqual(history.state, "failed")
        self.assertEqual(history.fatal_count, 3)
        self.assertIn("FATAL", history.message)
        self.assertFalse(self._sales(self.account))
        self.assertIn("FATAL", self.account.message_ids[0].body)

    def test_an_empty_period_is_a_cancelled_report_and_nothing_to_import(self):
        start = self.period[0] - timedelta(days=60)
        history = self._history(
            date_from=start, date_to=start + timedelta(days=5), move_cursor=False
        )[0]
        self._run(history)
        self.assertEqual(history.state, "done")
        self.assertEqual(history.report_status, "CANCELLED")
        self.assertEqual(history.expected_count, 0)

    def test_a_long_period_is_read_in_windows_of_thirty_days(self):
        start = self.period[1] - timedelta(days=45)
        history = self._history(date_from=start)[0]
        before = len(self.sandbox.order_reports(self.seller["seller_id"]))
        self._run(history)
        self.assertEqual(history.state, "done")
        self.assertEqual(history.window_start, start + timedelta(days=30))
        self.assertEqual(history.window_end, self.period[1])
        reports = self.sandbox.order_reports(self.seller["seller_id"])[before:]
        windows = sorted(
            (r["dataStartTime"], r["dataEndTime"])
            for r in reports
            if r["marketplaceIds"] == [history.marketplace_id.marketplace_ref]
        )
        self.assertEqual(len(windows), 2)

    def test_a_killed_import_resumes_without_duplicates(self):
        history = self._history()[0]
        client = self.account._get_client()
        try:
            while history.state != "import":
                delay = history._steps()[history.state](client)
                if delay:
                    self.clock.advance(delay)
        finally:
            client.close()
        staged = history.order_ids
        self.assertTrue(staged)
        # One batch stored, then the job dies: the next run goes on.
        batch = staged.filtered(lambda s: s.state == "pending")[:5]
        with self.account._sync_lock():
            batch._import(self.account, history.marketplace_id)
        stored = len(self._sales(self.account))
        self.assertGreater(stored, 0)
        self._run(history)
        self.assertEqual(history.state, "done")
        refs = self._sales(self.account).mapped("amazon_order_ref")
        self.assertEqual(len(refs), len(set(refs)))
        self.assertEqual(
            history.stored_count,
            len(
                self._sales(self.account).filtered(
                    lambda s: s.amazon_marketplace_id == history.marketplace_id
                )
            ),
        )

    def test_bad_rows_are_flagged_on_their_order_and_the_rest_goes_on(self):
        self.sandbox.configure_order_reports(
            corrupt={self.orders[0]["orderId"]: {"quantity": "two"}}
        )
        histories = self._history()
        with mute_logger("odoo.addons.amazon_refund_connector"):
            self._run(histories)
        failed = self.env["amazon.order.history.order"].search(
            [("history_id", "in", histories.ids), ("state", "=", "failed")]
        )
        self.assertEqual(failed.mapped("order_ref"), [self.orders[0]["orderId"]])
        self.assertIn("quantity", failed.message)
        self.assertEqual(sum(histories.mapped("failed_count")), 1)
        self.assertTrue(self._sales(self.account))
        # What stays of it (its delivery postcode) goes with the buyer data.
        self.account._purge_buyer_data(
            now=fields.Datetime.now()
            + timedelta(days=self.account.buyer_data_retention_days - 1)
        )
        self.assertTrue(failed.exists())
        self.account._purge_buyer_data(
            now=fields.Datetime.now()
            + timedelta(days=self.account.buyer_data_retention_days + 1)
        )
        self.assertFalse(failed.exists())


class TestHistoryTakesOver(OrderHistoryCase):
    order_count = 260

    def test_a_first_sync_beyond_the_burst_goes_through_the_report(self):
        self.account.last_order_sync = self.period[0]
        with patch.object(amazon_account_history, "HISTORY_AFTER_PAGES", 1):
            client = self.account._get_client()
            try:
                result = self.account._sync_orders(client)
            finally:
                client.close()
        first = len(self._sales(self.account))
        self.assertGreater(first, 0)
        self.assertTrue(result.history_until)
        histories = self.account.order_history_ids
        self.assertEqual(len(histories), 2)
        self.assertEqual(self.account.last_order_sync, result.history_until)
        self._run(histories)
        self.assertEqual(set(histories.mapped("state")), {"done"})
        sales = self._sales(self.account)
        self.assertGreater(len(sales), first)
        wanted = {
            o["orderId"]
            for o in self.orders
            if o["fulfillment"]["fulfillmentStatus"]
            in (
                FBA_IMPORTED_STATUSES
                if o["fulfillment"]["fulfilledBy"] == "AMAZON"
                else FBM_IMPORTED_STATUSES
            )
            and o["salesChannel"].get("channelName") != "NON_AMAZON"
        }
        self.assertEqual(set(sales.mapped("amazon_order_ref")), wanted)
