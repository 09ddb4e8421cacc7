"""Amazon refunds imported as credit notes (Finances 2024-06-19) from the sandbox."""

from datetime import timedelta
from decimal import Decimal

from psycopg2 import IntegrityError

from odoo import fields
from odoo.tools import mute_logger

from odoo.addons.amazon_refund_connector.sp_api import (
    AmazonServerError,
    AmazonThrottled,
)
from odoo.addons.amazon_refund_connector.sp_api.finances import parse_refund
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from .test_shipments import ShipmentCase

JP = "A1VC38T7YXB528"
US = "ATVPDKIKX0DER"


class RefundCase(ShipmentCase):
    def setUp(self):
        super().setUp()
        self.Refund = self.env["amazon.refund"]
        # Odoo forgets each test's work; the sandbox, shared by the class,
        # forgets its refunds.
        self.sandbox.clear_refunds(seller_id=self.seller["seller_id"])

    def _ago(self, **delta):
        return fields.Datetime.now() - timedelta(**delta)

    def _import(self, start=None, end=None):
        client = self.account._get_client()
        try:
            return self.account._import_refunds(client, start, end)
        finally:
            client.close()

    def _shipped(self, channel="FBA", min_qty=1, currency=None):
        """An invoiced order Amazon shipped that no other test refunded."""
        sales = self.SaleOrder.search(
            [
                ("amazon_account_id", "=", self.account.id),
                ("amazon_channel", "=", channel),
                ("state", "=", "sale"),
            ],
            order="id",
        )
        # invoice_ids is computed: searching on it gives PostgreSQL a query
        # it may plan badly; the class holds few orders, read them.
        for sale in sales.filtered("invoice_ids"):
            items = sale.order_line.filtered(lambda li: li.amazon_charge == "ITEM")
            if (
                sale.id not in self._used
                and max(items.mapped("product_uom_qty")) >= min_qty
                and (not currency or sale.currency_id.name == currency)
            ):
                self._used.add(sale.id)
                return sale
        self.fail("the seeded orders hold no such shipped order")

    def _refund(self, sale, **kwargs):
        kwargs.setdefault("posted", self._ago(hours=1))
        return self.sandbox.refund_order(
            sale.amazon_order_ref, seller_id=self.seller["seller_id"], **kwargs
        )

    def _notes(self, sale):
        return self.Refund.search([("sale_order_id", "=", sale.id)]).credit_note_id

    def _assert_note_is_amazons(self, transaction, note):
        refund = parse_refund(transaction)
        self.assertEqual(note.state, "posted")
        self.assertEqual(note.move_type, "out_refund")
        self.assertEqual(
            Decimal(str(note.amount_total)).quantize(refund.refunded),
            refund.refunded,
            f"{refund.refund_id}: {note.amount_total} != {refund.refunded}",
        )
        return refund


class TestRefundImport(RefundCase):
    seed = 25

    def test_fba_full_refund_reverses_the_invoice(self):
        sale = self._shipped("FBA")
        invoice = sale.invoice_ids
        transaction = self._refund(sale, reason="Customer return")
        result = self._import()
        self.assertFalse(result.failures, result.failures)
        note = self._notes(sale)
        self.assertEqual(len(note), 1)
        refund = self._assert_note_is_amazons(transaction, note)
        self.assertEqual(note.reversed_entry_id, invoice)
        self.assertEqual(note.partner_id, sale.partner_invoice_id)
        self.assertEqual(note.currency_id, sale.currency_id)
        self.assertEqual(note.team_id, self.account.team_id)
        self.assertIn(refund.refund_id, note.ref)
        self.assertEqual(invoice.payment_state, "reversed")
        entries = self.Refund.search([("sale_order_id", "=", sale.id)])
        self.assertEqual(len(entries), len(refund.lines()))
        self.assertEqual(set(entries.mapped("origin")), {"fba"})
        self.assertEqual(set(entries.mapped("refund_ref")), {refund.refund_id})
        self.assertEqual(set(entries.mapped("reason")), {"Customer return"})
        buyer = entries.filtered(lambda e: e.side == "buyer")
        fees = entries.filtered(lambda e: e.side == "amazon")
        self.assertTrue(fees, "Amazon's commission and refund commission are kept")
        self.assertFalse(fees.credit_note_id)
        self.assertEqual(buyer.credit_note_id, note)
        self.assertIn("REFUND_COMMISSION", fees.mapped("amount_type"))
        self.assertAlmostEqual(
            sum(buyer.mapped("amount")), float(refund.refunded), places=2
        )
        items = sale.order_line.filtered(lambda li: li.amazon_charge == "ITEM")
        self.assertEqual(
            set(buyer.mapped("order_item_ref")), set(items.mapped("amazon_item_ref"))
        )
        # Reachable from the order, the credit note and the account.
        self.assertEqual(sale.amazon_refund_count, len(entries))
        self.assertEqual(note.amazon_refund_count, len(buyer))
        self.assertIn(
            ("sale_order_id", "=", sale.id), sale.action_view_amazon_refunds()["domain"]
        )
        self.assertGreaterEqual(self.account.refund_count, len(entries))

    def test_import_twice_changes_nothing(self):
        sale = self._shipped("FBA")
        self._refund(sale)
        first = self._import()
        self.assertEqual(len(first.created), 1)
        count = self.Refund.search_count([])
        notes = self.env["account.move"].search_count(
            [("move_type", "=", "out_refund")]
        )
        # The cursor reads the last 48 h again: the refund is seen, skipped.
        again = self._import()
        self.assertFalse(again.created)
        self.assertEqual(len(again.skipped), 1)
        self.assertEqual(self.Refund.search_count([]), count)
        self.assertEqual(
            self.env["account.move"].search_count([("move_type", "=", "out_refund")]),
            notes,
        )
        # The database refuses a second copy of a line.
        entry = self.Refund.search([("sale_order_id", "=", sale.id)], limit=1)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                entry.copy({"amazon_key": entry.amazon_key})

    def test_partial_refund_of_one_unit(self):
        sale = self._shipped("FBA", min_qty=2)
        line = sale.order_line.filtered(
            lambda li: li.amazon_charge == "ITEM" and li.product_uom_qty >= 2
        )[0]
        transaction = self._refund(sale, items={line.amazon_item_ref: 1})
        self.assertFalse(self._import().failures)
        note = self._notes(sale)
        refund = self._assert_note_is_amazons(transaction, note)
        self.assertLess(note.amount_total, sale.invoice_ids[:1].amount_total)
        self.assertEqual([i.quantity for i in refund.items], [1])
        self.assertEqual(
            sale.invoice_ids.filtered(
                lambda m: m.move_type == "out_invoice"
            ).payment_state,
            "partial",
        )

    def test_refunds_without_return(self):
        damaged = self._shipped("FBA")
        goodwill = self._shipped("FBA")
        lost = self._refund(damaged, kind="NO_RETURN", reason="Damaged in transit")
        kind = self._refund(goodwill, kind="GOODWILL", reason="Goodwill")
        self.assertFalse(self._import().failures)
        self._assert_note_is_amazons(lost, self._notes(damaged))
        self._assert_note_is_amazons(kind, self._notes(goodwill))
        self.assertIn(
            "GOODWILL",
            self.Refund.search([("sale_order_id", "=", goodwill.id)]).mapped(
                "amount_type"
            ),
        )

    def test_fbm_refund_after_delivery(self):
        sale = self._fbm_order()
        self._deliver(sale)
        self._run()
        self.assertTrue(sale.invoice_ids)
        transaction = self._refund(sale)
        self.assertFalse(self._import().failures)
        self._assert_note_is_amazons(transaction, self._notes(sale))
        entries = self.Refund.search([("sale_order_id", "=", sale.id)])
        self.assertEqual(set(entries.mapped("origin")), {"fbm"})

    def test_goodwill_beyond_the_price_is_flagged(self):
        sale = self._shipped("FBA")
        item = sale.order_line.filtered(lambda li: li.amazon_charge == "ITEM")[0]
        beyond = Decimal(str(sale.amazon_total)) + 25
        transaction = self._refund(
            sale,
            items=[item.amazon_item_ref],
            amounts={item.amazon_item_ref: {"GoodwillPrincipal": str(-beyond)}},
        )
        self.assertFalse(self._import().failures)
        note = self._notes(sale)
        self._assert_note_is_amazons(transaction, note)
        entries = self.Refund.search([("sale_order_id", "=", sale.id)])
        self.assertTrue(
            all("more than" in (e.message or "") for e in entries),
            entries.mapped("message"),
        )

    def test_bad_refunds_are_listed_and_the_rest_goes_on(self):
        good = self._shipped("FBA")
        other = self._shipped("FBA")
        self._refund(good)
        # An order Amazon has not got (the recovery finds nothing).
        self.sandbox.post_refund(
            "999-0000000-0000000",
            good.amazon_marketplace_id.marketplace_ref,
            [{"sellerSku": "NOPE", "quantity": 1, "amounts": {"Principal": "-5.00"}}],
            seller_id=self.seller["seller_id"],
            posted=self._ago(hours=2),
        )
        # An item the order lacks.
        self.sandbox.post_refund(
            other.amazon_order_ref,
            other.amazon_marketplace_id.marketplace_ref,
            [
                {
                    "sellerSku": "NOT-IN-ORDER",
                    "quantity": 1,
                    "amounts": {"Principal": "-7.00"},
                }
            ],
            seller_id=self.seller["seller_id"],
            posted=self._ago(hours=3),
        )
        before = self.account.last_refund_sync
        result = self._import()
        self.assertEqual(len(result.created), 1)
        self.assertEqual(len(result.failures), 2, result.failures)
        self.assertTrue(self._notes(good))
        self.assertFalse(self._notes(other))
        self.assertIn("999-0000000-0000000", self.account.last_error)
        self.assertIn("NOT-IN-ORDER", self.account.last_error)
        # The cursor stops at the earliest failure: the next run reads it again.
        self.assertLessEqual(
            self.account.last_refund_sync, self._ago(hours=3) + timedelta(minutes=1)
        )
        self.assertTrue(not before or self.account.last_refund_sync >= before)
        again = self._import()
        self.assertEqual(len(again.failures), 2)
        self.assertFalse(again.created)

    def test_unknown_breakdown_type_is_kept_not_booked(self):
        sale = self._shipped("FBA")
        item = sale.order_line.filtered(lambda li: li.amazon_charge == "ITEM")[0]
        transaction = self._refund(
            sale,
            items=[item.amazon_item_ref],
            amounts={
                item.amazon_item_ref: {
                    "OurPricePrincipal": "-10.00",
                    "MysteryCredit": "-1.00",
                }
            },
        )
        result = self._import()
        self.assertFalse(result.failures, result.failures)
        entries = self.Refund.search([("sale_order_id", "=", sale.id)])
        unknown = entries.filtered(lambda e: e.amazon_type == "MysteryCredit")
        self.assertEqual(len(unknown), 1)
        self.assertEqual(unknown.side, "unknown")
        self.assertIn("unknown to the connector", unknown.message)
        self.assertFalse(unknown.credit_note_id)
        refund = parse_refund(transaction)
        self.assertAlmostEqual(
            self._notes(sale).amount_total, float(refund.refunded), 2
        )

    def test_currency_without_rate(self):
        sale = self._shipped("FBA", currency="GBP")
        ok = self._shipped("FBA", currency="EUR")
        self._refund(sale)
        self._refund(ok)
        self.env["res.currency.rate"].search(
            [("currency_id.name", "=", "GBP")]
        ).unlink()
        result = self._import()
        self.assertEqual(len(result.failures), 1)
        self.assertIn("no exchange rate", self.account.last_error)
        self.assertTrue(self._notes(ok))
        self.assertFalse(self._notes(sale))

    def test_malformed_page_and_server_error_leave_the_cursor(self):
        sale = self._shipped("FBA")
        self._refund(sale)
        cursor = self.account.last_refund_sync
        for kind in ("malformed", "server_error"):
            self.sandbox.inject_fault("listTransactions", kind)
            with self.assertRaises(AmazonServerError):
                self._import()
            self.assertEqual(self.account.last_refund_sync, cursor)
        self.sandbox.inject_fault("listTransactions", "server_error")
        with self.assertRaises(RetryableJobError):
            self.account._job_import_refunds()
        self.assertEqual(len(self._import().created), 1)

    def test_totals_to_the_cent_in_euro_and_pound(self):
        for currency in ("EUR", "GBP"):
            sale = self._shipped("FBA", currency=currency)
            transaction = self._refund(sale)
            self.assertFalse(self._import().failures)
            note = self._notes(sale)
            self._assert_note_is_amazons(transaction, note)
            self.assertEqual(note.currency_id.name, currency)

    def test_throttled_mid_pagination_keeps_what_was_stored(self):
        clock = self.use_manual_clock()
        sales = [self._shipped("FBA") for _i in range(3)]
        for index, sale in enumerate(sales):
            self._refund(sale, posted=self._ago(minutes=40 + 5 * index))
        start, end = self._ago(minutes=52), self._ago(minutes=35)
        # One transaction a page; Amazon lets the first page through, then
        # answers 429 until its bucket refills.
        self.sandbox.configure_finances(page_size=1)
        self.addCleanup(self.sandbox.configure_finances, page_size=100)
        self.sandbox.set_rate("listTransactions", 0.5, 1)
        self.addCleanup(self.sandbox.reset_rate_limits)
        # Not assertRaises: Odoo's rolls back what was done inside it.
        try:
            self._import(start, end)
        except AmazonThrottled:
            pass
        else:
            self.fail("Amazon's 429 did not stop the import")
        statuses = [c[1] for c in self.sandbox.calls if c[0] == "listTransactions"]
        self.assertEqual(statuses[:2], [200, 429])
        stored = self.Refund.search([("sale_order_id", "in", [s.id for s in sales])])
        self.assertEqual(len(stored.sale_order_id), 1, "the first page was stored")
        # Later, with Amazon's quota back, the import goes on: the stored
        # refund is skipped, not doubled.
        self.sandbox.set_rate("listTransactions", 0.5, 30)
        clock.advance(60)
        again = self._import(start, end)
        self.assertFalse(again.failures, again.failures)
        self.assertEqual(again.skipped, stored.mapped("refund_ref")[:1])
        self.assertEqual(len(again.created), 2)
        for sale in sales:
            self.assertEqual(len(self._notes(sale)), 1)

    def test_late_posting_is_read_in_the_overlap(self):
        first = self._shipped("FBA")
        self._refund(first)
        self._import()
        cursor = self.account.last_refund_sync
        late = self._shipped("FBA")
        # Listed by Amazon only now, posted five hours before the cursor.
        transaction = self._refund(late, posted=cursor - timedelta(hours=5))
        self.assertFalse(self._import().failures)
        self._assert_note_is_amazons(transaction, self._notes(late))
        self.assertEqual(len(self._notes(first)), 1)

    def test_period_wizard_leaves_the_cursor(self):
        sale = self._shipped("FBA")
        self._refund(sale, posted=self._ago(days=10))
        self.account.last_refund_sync = cursor = self._ago(minutes=30).replace(
            microsecond=0
        )
        wizard = self.env["amazon.refund.import"].create(
            {
                "account_id": self.account.id,
                "date_from": fields.Date.today() - timedelta(days=12),
                "date_to": fields.Date.today(),
            }
        )
        action = wizard.action_import()
        self.assertEqual(action["res_model"], "amazon.refund")
        listed = self.Refund.search(action["domain"])
        self.assertEqual(listed.sale_order_id, sale)
        self.assertEqual(self.account.last_refund_sync, cursor)

    def test_cron_enqueues_accounts_that_import_refunds(self):
        self.account.auto_import_refunds = True
        other = self.env["amazon.account"].create(
            self._account_vals(self._add_seller(), auto_import_refunds=False)
        )
        with trap_jobs() as trap:
            self.env["amazon.account"]._cron_import_refunds()
            self.env["amazon.account"]._cron_import_refunds()
        jobs = [j for j in trap.enqueued_jobs if j.method_name == "_job_import_refunds"]
        self.assertEqual([j.recordset for j in jobs], [self.account])
        self.assertNotIn(other, [j.recordset for j in jobs])
        self.assertEqual(jobs[0].channel, "root.amazon")
        self.sandbox.clear_calls()
        sale = self._shipped("FBA")
        self._refund(sale)
        jobs[0].perform()
        self.assertTrue(self._notes(sale))


class TestRefundYen(RefundCase):
    marketplaces = (JP,)
    region = "FE"
    currencies = ("JPY",)
    seed = 26
    seed_count = 40

    def test_yen_refund_to_the_yen(self):
        sale = self._shipped("FBA")
        transaction = self._refund(sale)
        self.assertFalse(self._import().failures)
        note = self._notes(sale)
        self._assert_note_is_amazons(transaction, note)
        self.assertEqual(note.amount_total, round(note.amount_total))


class TestRefundDollar(RefundCase):
    marketplaces = (US,)
    region = "NA"
    currencies = ("USD",)
    seed = 27
    seed_count = 40

    def test_dollar_refunds_to_the_cent(self):
        sales = [self._shipped("FBA"), self._shipped("FBA")]
        item = sales[1].order_line.filtered(lambda li: li.amazon_charge == "ITEM")[0]
        transactions = [
            self._refund(sales[0]),
            self._refund(sales[1], items={item.amazon_item_ref: 1}),
        ]
        self.assertFalse(self._import().failures)
        for sale, transaction in zip(sales, transactions, strict=True):
            note = self._notes(sale)
            self._assert_note_is_amazons(transaction, note)
            self.assertEqual(note.currency_id.name, "USD")
            self.assertEqual(note.reversed_entry_id, sale.invoice_ids[:1])
