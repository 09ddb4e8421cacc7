"""Refunds sent to Amazon from credit notes (POST_PAYMENT_ADJUSTMENT_DATA)."""

from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import UserError

from odoo.addons.amazon_refund_connector.models.amazon_rate_limit import (
    PgRateLimiter,
    seller_bucket,
)
from odoo.addons.queue_job.tests.common import trap_jobs

from .test_refund_import import RefundCase


class SubmissionCase(RefundCase):
    seed = 31
    seed_count = 150

    def setUp(self):
        super().setUp()
        self.clock = self.use_manual_clock()
        self.sandbox.configure_feeds(
            reset=True, queue_seconds=60, processing_seconds=120
        )
        self.Feed = self.env["amazon.feed"]

    def _delivered(self, min_items=1, shipping=False):
        sale = self._fbm_order_with(min_items, shipping)
        self._deliver(sale)
        invoice = self._invoice(sale)
        self.assertEqual(invoice.state, "posted")
        return sale

    def _fbm_order_with(self, min_items, shipping):
        """An unshipped FBM order (with a shipping charge if asked) of products."""
        for sale in self.SaleOrder.search(
            [
                ("amazon_account_id", "=", self.account.id),
                ("amazon_channel", "=", "FBM"),
                ("amazon_status", "=", "UNSHIPPED"),
                ("state", "=", "sale"),
            ],
            order="id",
        ):
            items = self._items(sale)
            charges = set(sale.order_line.mapped("amazon_charge"))
            if (
                sale.id not in self._used
                and len(items) >= min_items
                and items.product_id <= self.products
                and (not shipping or "SHIPPING" in charges)
            ):
                self._used.add(sale.id)
                return sale
        self.fail("the seeded orders hold no such FBM order")

    @staticmethod
    def _invoice(sale):
        return sale.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")[:1]

    def _credit_note(self, sale, change=None, post=True):
        note = self._invoice(sale)._reverse_moves(
            [{"invoice_date": fields.Date.today(), "ref": "Return"}]
        )
        if change:
            change(note)
        if post:
            note.action_post()
        return note

    def _wizard(self, note):
        action = note.action_amazon_refund()
        return self.env[action["res_model"]].browse(action["res_id"])

    def _rows(self, wizard):
        return {(r.order_item_ref, r.amount_type): r for r in wizard.line_ids}

    def _send(self, note):
        wizard = self._wizard(note)
        answer = wizard.action_refund()
        feed = self.Feed.search([("credit_note_id", "=", note.id)], order="id desc")[:1]
        return wizard, answer, feed

    def _items(self, sale):
        return sale.order_line.filtered(lambda li: li.amazon_charge == "ITEM")

    def _finish(self, feed):
        self.clock.advance(400)
        feed.action_check_result()
        return feed


class TestRefundWizard(SubmissionCase):
    def test_button_only_where_amazon_can_refund(self):
        sale = self._delivered()
        note = self._credit_note(sale)
        self.assertTrue(note.amazon_refund_available)
        self.assertFalse(self._invoice(sale).amazon_refund_available)
        draft = self._credit_note(sale, post=False)
        self.assertFalse(draft.amazon_refund_available)
        wizard = self._wizard(draft)
        self.assertIn("Post the credit note", wizard.problem)
        self.assertFalse(wizard.line_ids)
        with self.assertRaises(UserError):
            wizard.action_refund()
        draft.button_cancel()
        self.assertIn("cancelled", self._wizard(draft).problem)
        fba = self._shipped("FBA")
        fba_note = self._credit_note(fba)
        self.assertFalse(fba_note.amazon_refund_available)
        self.assertIn("fulfilled by Amazon", self._wizard(fba_note).problem)
        other = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": sale.partner_id.id,
                "invoice_line_ids": [
                    fields.Command.create({"name": "Goodwill", "price_unit": 5.0})
                ],
            }
        )
        other.action_post()
        self.assertFalse(other.amazon_refund_available)
        self.assertIn("not made from the invoice", self._wizard(other).problem)
        # A sentence, not a list of them.
        self.assertEqual(self._wizard(other).problem.count("."), 1)

    def test_header_and_rows_from_the_credit_note(self):
        sale = self._delivered()
        note = self._credit_note(sale)
        wizard = self._wizard(note)
        self.assertFalse(wizard.problem)
        self.assertEqual(wizard.move_label, f"{note.name} [{note.id}]")
        self.assertEqual(wizard.sale_order_id, sale)
        self.assertEqual(
            wizard.currency_label, f"{note.currency_id.name} => {sale.currency_id.name}"
        )
        self.assertAlmostEqual(wizard.move_total, note.amount_total, places=2)
        self.assertAlmostEqual(wizard.amazon_total, note.amount_total, places=2)
        rows = self._rows(wizard)
        for item in self._items(sale):
            row = rows[(item.amazon_item_ref, "Principal")]
            self.assertGreater(row.amazon_amount, 0)
            self.assertAlmostEqual(row.amount, row.amazon_amount, places=2)
            self.assertEqual(row.reason, self.account.default_refund_reason)
        for row in wizard.line_ids:
            self.assertLessEqual(row.amount, row.amazon_amount + 0.001)
        self.assertAlmostEqual(wizard.total, note.amount_total, places=2)
        self.assertFalse(wizard.earlier_refund_ids)

    def test_currency_without_rate_gives_no_rows(self):
        sale = self._delivered()
        chf = self.env.ref("base.CHF")
        chf.active = True
        chf.rate_ids.unlink()

        def swiss(note):
            note.currency_id = chf

        wizard = self._wizard(self._credit_note(sale, swiss))
        self.assertIn("CHF has no exchange rate", wizard.problem)
        self.assertFalse(wizard.line_ids)

    def test_credit_note_in_another_currency_is_converted(self):
        sale = self._delivered()
        company = self.env.company.currency_id
        self.assertNotEqual(company, sale.currency_id)

        def in_company_currency(note):
            note.currency_id = company

        note = self._credit_note(sale, in_company_currency)
        wizard = self._wizard(note)
        self.assertFalse(wizard.problem)
        self.assertEqual(wizard.currency_id, sale.currency_id)
        expected = company._convert(
            note.amount_total, sale.currency_id, note.company_id, note.invoice_date
        )
        self.assertAlmostEqual(wizard.amazon_total, expected, places=2)
        self.assertNotAlmostEqual(wizard.amazon_total, note.amount_total, places=2)
        self.assertIn(
            f"{company.name} => {sale.currency_id.name}", wizard.currency_label
        )

    def test_excess_is_prefilled_as_other_amount(self):
        sale = self._delivered()
        item = self._items(sale)[0]

        def more(note):
            line = note.invoice_line_ids.filtered(lambda li: item in li.sale_line_ids)
            line.price_unit += 10

        wizard = self._wizard(self._credit_note(sale, more))
        rows = self._rows(wizard)
        principal = rows[(item.amazon_item_ref, "Principal")]
        other = rows[(item.amazon_item_ref, "Other")]
        self.assertAlmostEqual(principal.amount, principal.amazon_amount, places=2)
        self.assertGreaterEqual(other.amount, 10)
        # Typed beyond Amazon's amount: refused with a clear message.
        principal.amount = principal.amazon_amount + 1
        with self.assertRaisesRegex(UserError, "more than the .* Amazon charged"):
            wizard.action_refund()
        self.assertFalse(self.Feed.search([("sale_order_id", "=", sale.id)]))
        # The * types may exceed it.
        principal.amount = principal.amazon_amount
        other.amount += 1
        self.assertFalse([p for p in wizard._rule_problems() if "Amazon charged" in p])

    def test_service_line_without_item_goes_as_other(self):
        sale = self._delivered()
        service = self.env["product.product"].create(
            {"name": "Handling fee", "type": "service"}
        )
        storable = self.env["product.product"].create(
            {"name": "Spare part", "is_storable": True}
        )

        def extra(note):
            note.invoice_line_ids = [
                fields.Command.create(
                    {"product_id": service.id, "price_unit": 3.0, "tax_ids": False}
                ),
                fields.Command.create(
                    {"product_id": storable.id, "price_unit": 2.0, "tax_ids": False}
                ),
            ]

        wizard = self._wizard(self._credit_note(sale, extra))
        first = self._items(sale)[0]
        other = self._rows(wizard)[(first.amazon_item_ref, "Other")]
        self.assertAlmostEqual(other.amount, 3.0, places=2)
        self.assertIn("Spare part", wizard.notes)

    def test_needs_a_row_for_a_real_product(self):
        sale = self._delivered(shipping=True)

        def charges_only(note):
            note.invoice_line_ids.filtered(
                lambda li: li.sale_line_ids.amazon_charge != "SHIPPING"
            ).unlink()

        wizard = self._wizard(self._credit_note(sale, charges_only))
        with self.assertRaisesRegex(
            UserError, "at least one row of an ordered product"
        ):
            wizard.action_refund()

        def product_at_zero(note):
            lines = note.invoice_line_ids
            lines.filtered(
                lambda li: li.sale_line_ids.amazon_charge not in ("SHIPPING", "ITEM")
            ).unlink()
            lines.filtered(
                lambda li: li.sale_line_ids.amazon_charge == "ITEM"
            ).price_unit = 0.0

        wizard, _answer, feed = self._send(self._credit_note(sale, product_at_zero))
        self.assertEqual(feed.state, "submitted")
        root = etree.fromstring(feed.content.encode())
        types = root.xpath("//Component/Type/text()")
        self.assertNotIn("Principal", types)
        self.assertIn("Shipping", types)

    def test_total_may_not_exceed_what_amazon_holds(self):
        sale = self._delivered()
        _wizard, _answer, feed = self._send(self._credit_note(sale))
        self.assertEqual(feed.state, "submitted")
        # A second credit note of the same invoice: the earlier refund shows.
        wizard = self._wizard(self._credit_note(sale))
        self.assertEqual(wizard.earlier_refund_ids, feed.refund_ids)
        self.assertEqual(
            set(wizard.earlier_refund_ids.mapped("feed_ref")), {feed.feed_ref}
        )
        self.assertAlmostEqual(wizard.refunded_before, sale.amazon_total, places=2)
        with self.assertRaisesRegex(UserError, "Amazon still holds"):
            wizard.action_refund()

    def test_rows_need_amounts_and_one_reason_per_item(self):
        sale = self._delivered()
        wizard = self._wizard(self._credit_note(sale))
        row = wizard.line_ids[0]
        row.amount = -1
        with self.assertRaisesRegex(UserError, "positive number"):
            wizard.action_refund()
        wizard.line_ids.amount = 0
        with self.assertRaisesRegex(UserError, "no amount to refund"):
            wizard.action_refund()

    def test_an_order_from_the_history_report_needs_amazon_item_ids_first(self):
        sale = self._delivered()
        # Lines booked from an order report carry the connector's own keys.
        for index, line in enumerate(sale.order_line, start=1):
            line.amazon_item_ref = f"report:{sale.amazon_order_ref}:{index}"
        wizard = self._wizard(self._credit_note(sale))
        with self.assertRaisesRegex(UserError, "Recover order"):
            wizard.action_refund()
        self.assertFalse(self.Feed.search([("credit_note_id", "=", wizard.move_id.id)]))


class TestRefundFeed(SubmissionCase):
    def test_accepted_then_done_then_recognised_by_the_import(self):
        # Amazon posts the refund; the import reads what is older than two
        # minutes: the feed went an hour ago, its refund ten minutes ago.
        self.sandbox.configure_feeds(posting_offset=-600)
        sale = self._delivered(min_items=1)
        note = self._credit_note(sale)
        wizard, answer, feed = self._send(note)
        self.assertEqual(answer["params"]["type"], "success")
        self.assertIn(feed.feed_ref, answer["params"]["message"])
        self.assertEqual(feed.state, "submitted")
        self.assertEqual(feed.feed_type, "POST_PAYMENT_ADJUSTMENT_DATA")
        self.assertEqual(self.sandbox.call_count("createFeed"), 1)
        sent = self.sandbox.feed_info(feed.feed_ref)
        self.assertEqual(sent["document"], feed.content)
        self.assertEqual(sent["contentType"], feed.content_type)
        entries = feed.refund_ids
        self.assertEqual(len(entries), len(wizard.line_ids.filtered("amount")))
        self.assertEqual(set(entries.mapped("origin")), {"odoo"})
        self.assertEqual(set(entries.mapped("state")), {"sent"})
        self.assertEqual(set(entries.mapped("feed_ref")), {feed.feed_ref})
        self.assertEqual(entries.credit_note_id, note)
        self.assertAlmostEqual(sum(entries.mapped("amount")), note.amount_total, 2)
        # Not processed yet: still in progress.
        self.clock.advance(90)
        feed.action_check_result()
        self.assertEqual(feed.state, "in_progress")
        self.assertEqual(set(entries.mapped("state")), {"sent"})
        self.clock.advance(200)
        entries[0].action_check_feed()
        self.assertEqual(feed.state, "done")
        self.assertIn("ProcessingReport", feed.report)
        self.assertEqual(set(entries.mapped("state")), {"done"})
        feed.submitted_date -= timedelta(hours=1)
        # Amazon's finances list the refund: the import links it.
        notes = self.env["account.move"].search_count(
            [("move_type", "=", "out_refund")]
        )
        result = self._import(start=self._ago(days=2))
        self.assertFalse(result.failures, result.failures)
        self.assertFalse(result.created)
        self.assertEqual(len(result.skipped), len(self._items(sale)))
        self.assertEqual(
            self.env["account.move"].search_count([("move_type", "=", "out_refund")]),
            notes,
        )
        self.assertTrue(all(entries.mapped("refund_ref")))
        self.assertEqual(entries.credit_note_id, note)
        again = self._import(start=self._ago(days=2))
        self.assertFalse(again.created)
        self.assertEqual(
            self.Refund.search_count(
                [("sale_order_id", "=", sale.id), ("side", "=", "buyer")]
            ),
            len(entries),
        )

    def test_refund_made_elsewhere_is_still_imported(self):
        sale = self._delivered()
        _wizard, _answer, feed = self._send(self._credit_note(sale))
        self._finish(feed)
        # Another tool refunds the same order in Seller Central.
        self._refund(sale, kind="GOODWILL", reason="Goodwill")
        result = self._import(start=self._ago(days=2))
        self.assertEqual(len(result.created), 1)

    def test_quota_spent_queues_the_feed(self):
        sale = self._delivered()
        # The seller's own bucket, which every account record of it spends.
        bucket = seller_bucket(
            self.account.region, self.account.seller_ref, self.account.id
        )
        limiter = PgRateLimiter(self.env.registry, bucket, clock=self.clock)
        for _ in range(15):
            self.assertEqual(limiter.acquire("createFeed"), 0.0)
        with trap_jobs() as trap:
            _wizard, answer, feed = self._send(self._credit_note(sale))
            self.assertEqual(feed.state, "queued")
            self.assertEqual(answer["params"]["type"], "warning")
            self.assertIn("goes at", answer["params"]["message"])
            self.assertEqual(self.sandbox.call_count("createFeed"), 0)
            self.assertEqual(set(feed.refund_ids.mapped("state")), {"queued"})
            wait = (feed.scheduled_date - fields.Datetime.now()).total_seconds()
            self.assertGreater(wait, 100)
            self.assertLessEqual(wait, 1 / 0.0083 + 2)
            trap.assert_jobs_count(1, only=feed._job_send_feed)
        # The job runs when the time has come; it does not wait.
        self.clock.advance(121)
        feed._job_send_feed()
        self.assertEqual(feed.state, "submitted")
        self.assertEqual(set(feed.refund_ids.mapped("state")), {"sent"})

    def test_throttled_create_feed_is_queued(self):
        sale = self._delivered()
        self.sandbox.inject_fault("createFeed", "throttle", count=3)
        with trap_jobs() as trap:
            _wizard, answer, feed = self._send(self._credit_note(sale))
            trap.assert_jobs_count(1, only=feed._job_send_feed)
        self.assertEqual(feed.state, "queued")
        self.assertEqual(answer["params"]["type"], "warning")

    def test_refused_at_create_feed(self):
        sale = self._delivered()
        self.sandbox.configure_feeds(refuse="The seller may not send this feed type")
        _wizard, answer, feed = self._send(self._credit_note(sale))
        self.assertEqual(feed.state, "refused")
        self.assertEqual(answer["params"]["type"], "danger")
        self.assertIn("may not send this feed type", answer["params"]["message"])
        self.assertEqual(set(feed.refund_ids.mapped("state")), {"failed"})
        self.assertIn("may not send", feed.refund_ids[0].message)

    def test_expired_upload_url(self):
        sale = self._delivered()
        self.sandbox.configure_feeds(expire_uploads=1)
        _wizard, _answer, feed = self._send(self._credit_note(sale))
        self.assertEqual(feed.state, "submitted")
        self.sandbox.configure_feeds(expire_uploads=2)
        _wizard, _answer, second = self._send(self._credit_note(self._delivered()))
        self.assertEqual(second.state, "refused")
        self.assertIn("Request has expired", second.message)

    def test_report_fails_named_messages(self):
        sale = self._delivered(min_items=2)
        self.sandbox.configure_feeds(fail_messages={2: "Refund exceeds the order"})
        _wizard, _answer, feed = self._send(self._credit_note(sale))
        self._finish(feed)
        self.assertEqual(feed.state, "done")
        failed = feed.refund_ids.filtered(lambda e: e.feed_message == 2)
        done = feed.refund_ids - failed
        self.assertTrue(failed and done)
        self.assertEqual(set(failed.mapped("state")), {"failed"})
        self.assertIn("Refund exceeds the order", failed[0].message)
        self.assertEqual(set(done.mapped("state")), {"done"})

    def test_report_with_an_error_count_only_fails_every_entry(self):
        sale = self._delivered(min_items=2)
        self.sandbox.configure_feeds(count_only=True, fail_messages={1: "x"})
        _wizard, _answer, feed = self._send(self._credit_note(sale))
        self._finish(feed)
        self.assertEqual(set(feed.refund_ids.mapped("state")), {"failed"})
        self.assertIn("without naming", feed.refund_ids[0].message)

    def test_fatal_report(self):
        sale = self._delivered()
        self.sandbox.configure_feeds(fatal="The feed could not be processed")
        _wizard, _answer, feed = self._send(self._credit_note(sale))
        self._finish(feed)
        self.assertEqual(feed.state, "fatal")
        self.assertEqual(set(feed.refund_ids.mapped("state")), {"failed"})
        self.assertIn("could not be processed", feed.message)

    def test_stuck_feed_backs_off_then_is_flagged(self):
        sale = self._delivered()
        self.sandbox.configure_feeds(processing_seconds=10 * 24 * 3600)
        _wizard, _answer, feed = self._send(self._credit_note(sale))
        self.clock.advance(120)
        client = self.account._get_client()
        try:
            feed._amazon_check(client)
            first = feed.next_check - fields.Datetime.now()
            feed._amazon_check(client)
            second = feed.next_check - fields.Datetime.now()
            self.assertGreater(second, first)
            self.assertFalse(feed.stuck)
            feed.submitted_date = fields.Datetime.now() - timedelta(hours=25)
            feed._amazon_check(client)
        finally:
            client.close()
        self.assertEqual(feed.state, "in_progress")
        self.assertTrue(feed.stuck)
        self.assertIn("24 hours", feed.message)

    def test_cron_enqueues_checks_of_due_feeds(self):
        sale = self._delivered()
        _wizard, _answer, feed = self._send(self._credit_note(sale))
        feed.next_check = fields.Datetime.now() - timedelta(minutes=1)
        with trap_jobs() as trap:
            self.Feed._cron_check_feeds()
            trap.assert_jobs_count(1, only=self.account._job_check_feeds)
        self.clock.advance(400)
        self.account._job_check_feeds()
        self.assertEqual(feed.state, "done")
