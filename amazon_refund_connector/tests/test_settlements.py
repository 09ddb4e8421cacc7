"""Amazon settlement reports imported as statements and reconciled (sandbox)."""

from datetime import timedelta
from decimal import Decimal

from psycopg2 import IntegrityError

from odoo import fields
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError

from .common import AmazonSandboxCase

DE = "A1PA6795UKMFR9"
UK = "A1F83G8C2ARO7P"
CENT = Decimal("0.01")


def _dec(value):
    return Decimal(str(value)).quantize(CENT)


class SettlementCase(AmazonSandboxCase):
    marketplaces = (DE, UK)
    seed = 41

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from sandbox.ops import reports  # pylint: disable=import-outside-toplevel

        cls.reports = reports
        seller_id = cls.seller["seller_id"]
        # Orders are synchronised from DE only; settlements of both stores.
        cls.account.marketplace_ids = cls.env["amazon.marketplace"].search(
            [("marketplace_ref", "=", DE)]
        )
        cls._rate_eur()
        cls.sandbox.configure_finances(posting_lag=0)
        # A closed period two settlements back: its report is made.
        period = reports.period_of(cls.sandbox.now()) - 2
        cls.start, cls.end = reports.period_bounds(period)
        cls.orders = cls.sandbox.seed_orders(
            cls.seed,
            36,
            seller_id=seller_id,
            start=cls.start + timedelta(days=1),
            end=cls.end - timedelta(days=4),
            marketplaces=[DE],
            fba_share=1.0,
        )
        # A few orders of the UK store, whose currency has no rate here.
        cls.sandbox.seed_orders(
            cls.seed + 1,
            4,
            seller_id=seller_id,
            start=cls.start + timedelta(days=1),
            end=cls.end - timedelta(days=4),
            marketplaces=[UK],
            fba_share=1.0,
        )
        cls._products_of(cls.orders)
        cls.account.last_order_sync = (cls.start - timedelta(days=1)).replace(
            tzinfo=None
        )
        client = cls.account._get_client()
        try:
            result = cls.account._sync_orders(client)
        finally:
            client.close()
        assert not result.failures, result.failures
        cls.sales = cls.env["sale.order"].search(
            [("amazon_account_id", "=", cls.account.id)]
        )
        shipped = cls.sales.filtered(lambda s: s.invoice_ids)
        assert len(shipped) >= 6, "the seed ships too few orders"
        # Two refunds in the period: one full, one of an order's first item.
        cls.full_refund = shipped[0]
        cls.partial_refund = shipped[1]
        posted = cls.end - timedelta(days=2)
        cls.sandbox.refund_order(
            cls.full_refund.amazon_order_ref, seller_id=seller_id, posted=posted
        )
        item = cls.partial_refund.order_line.filtered(
            lambda li: li.amazon_charge == "ITEM"
        )[0]
        cls.sandbox.refund_order(
            cls.partial_refund.amazon_order_ref,
            items={item.amazon_item_ref: 1},
            seller_id=seller_id,
            posted=posted,
        )
        client = cls.account._get_client()
        try:
            refunds = cls.account._import_refunds(
                client, start=cls.start, end=cls.end.replace(tzinfo=None)
            )
        finally:
            client.close()
        assert not refunds.failures, refunds.failures
        cls.account.marketplace_ids = cls.env["amazon.marketplace"].search(
            [("marketplace_ref", "in", [DE, UK])]
        )
        cls.de = next(
            s
            for s in cls.sandbox.settlements(seller_id)
            if s["marketplaceId"] == DE and s["start"] == cls._iso(cls.start)
        )
        cls.uk = next(
            s
            for s in cls.sandbox.settlements(seller_id)
            if s["marketplaceId"] == UK and s["start"] == cls._iso(cls.start)
        )
        cls.Settlement = cls.env["amazon.settlement"]
        cls.StLine = cls.env["account.bank.statement.line"]

    @staticmethod
    def _iso(moment):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def setUp(self):
        super().setUp()
        self.sandbox.clear_settlement_plants()
        self.sandbox.reset_rate_limits()
        self._reset_rate_limits()
        self.use_manual_clock()

    def _import(self):
        client = self.account._get_client()
        try:
            return self.account._import_settlements(client)
        finally:
            client.close()

    def _settlement(self, summary=None):
        return self.Settlement.search(
            [
                ("account_id", "=", self.account.id),
                ("settlement_ref", "=", (summary or self.de)["settlementId"]),
            ]
        )

    def _plant_lacking_order(self):
        rows = [
            {
                "transaction-type": "Order",
                "order-id": "028-0000000-0000001",
                "amount-type": "ItemPrice",
                "amount-description": "Principal",
                "amount": "19.99",
                "sku": "NOT-IN-ODOO",
                "quantity-purchased": 1,
            },
            {
                "transaction-type": "Order",
                "order-id": "028-0000000-0000001",
                "amount-type": "ItemFees",
                "amount-description": "Commission",
                "amount": "-3.00",
                "sku": "NOT-IN-ODOO",
            },
        ]
        self.sandbox.plant_settlement(self.de["settlementId"], rows=rows)
        return Decimal("16.99")

    def _plant_unknown(self, description="Mystery credit"):
        self.sandbox.plant_settlement(
            self.de["settlementId"],
            rows=[
                {
                    "transaction-type": "NewProgramPayment",
                    "amount-type": "NewProgramAmount",
                    "amount-description": description,
                    "amount": "2.50",
                }
            ],
        )
        return Decimal("2.50")

    def _total(self):
        return Decimal(
            next(
                s
                for s in self.sandbox.settlements(self.seller["seller_id"])
                if s["settlementId"] == self.de["settlementId"]
            )["total"]
        )

    def _paid_in_full(self):
        """The period's orders that no refund touches."""
        return self.sales.filtered(
            lambda s: (
                s.amazon_order_ref in self.de["orderIds"]
                and s not in (self.full_refund, self.partial_refund)
            )
        )

    def _add_gbp_rate(self):
        gbp = self.env.ref("base.GBP")
        gbp.active = True
        self.env["res.currency.rate"].create(
            {
                "currency_id": gbp.id,
                "company_id": self.env.company.id,
                "name": fields.Date.today() - timedelta(days=400),
                "rate": 0.8,
            }
        )


class TestSettlementImport(SettlementCase):
    def test_period_imports_as_one_reconciled_statement(self):
        lacking = self._plant_lacking_order()
        unknown = self._plant_unknown()
        result = self._import()
        settlement = self._settlement()
        self.assertEqual(len(settlement), 1)
        self.assertIn(self.de["settlementId"], result.created, settlement.message)
        self.assertEqual(settlement.state, "imported", settlement.message)
        statement = settlement.statement_id
        self.assertTrue(statement)
        self.assertEqual(statement.reference, self.de["settlementId"])
        self.assertEqual(statement.journal_id.amazon_account_id, self.account)
        self.assertEqual(statement.journal_id.currency_id.name, "EUR")
        total = self._total()
        self.assertEqual(_dec(settlement.total_amount), total)
        # The statement's lines are the report's rows, to the cent.
        self.assertEqual(_dec(sum(statement.line_ids.mapped("amount"))), total)
        self.assertEqual(
            _dec(statement.balance_end_real - statement.balance_start), total
        )
        self.assertTrue(statement.is_complete)
        self.assertEqual(settlement.row_count, self.de["rows"] + 3)
        self.assertEqual(settlement.start_date, self.start.replace(tzinfo=None))
        self.assertEqual(
            settlement.deposit_date, (self.end + timedelta(days=2)).replace(tzinfo=None)
        )
        lines = settlement.statement_line_ids
        payout = lines.filtered(lambda li: li.amazon_kind == "payout")
        self.assertEqual(len(payout), 1)
        self.assertFalse(payout.statement_id)
        self.assertEqual(_dec(payout.amount), -total)
        self.assertEqual(
            payout.move_id.line_ids.account_id
            - statement.journal_id.default_account_id,
            self.env.company.transfer_account_id,
        )
        # Exactly the planted exceptions stay open, with their reason.
        open_lines = lines.filtered(lambda li: li.amazon_match_state == "unmatched")
        self.assertEqual(
            sorted(open_lines.mapped("amazon_kind")),
            ["sale", "unknown"],
            open_lines.mapped("narration"),
        )
        lacking_line = open_lines.filtered(lambda li: li.amazon_kind == "sale")
        self.assertEqual(lacking_line.amazon_order_ref, "028-0000000-0000001")
        self.assertIn("not in Odoo", lacking_line.narration)
        self.assertEqual(lacking_line.amazon_sku, "NOT-IN-ODOO")
        self.assertFalse(lacking_line.is_reconciled)
        self.assertEqual(settlement.unmatched_count, 2)
        # The lacking order's payment and the unknown row; its fee is booked.
        self.assertEqual(
            _dec(settlement.unmatched_amount), lacking + Decimal("3.00") + unknown
        )
        self.assertEqual(settlement.matched_count + 2, settlement.line_count)
        self.assertEqual(result.unmatched, 2)
        # Every order of the period is paid by its line; its fees are booked.
        for sale in self.sales.filtered(
            lambda s: s.amazon_order_ref in self.de["orderIds"]
        ):
            order_lines = lines.filtered(
                lambda li, ref=sale.amazon_order_ref: li.amazon_order_ref == ref
            )
            sale_line = order_lines.filtered(lambda li: li.amazon_kind == "sale")
            self.assertEqual(len(sale_line), 1, sale.amazon_order_ref)
            self.assertEqual(sale_line.amazon_match_state, "matched")
            self.assertTrue(sale_line.is_reconciled)
            self.assertEqual(
                sale_line.partner_id, sale.partner_invoice_id.commercial_partner_id
            )
            self.assertTrue(sale_line.amazon_sku)
            self.assertTrue(sale_line.amazon_posted_date)
            invoice = sale.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
            if sale in (self.full_refund, self.partial_refund):
                continue
            self.assertEqual(invoice.payment_state, "paid", sale.amazon_order_ref)
            # Sales reports split by the account's team.
            self.assertEqual(invoice.team_id, self.account.team_id)
            self.assertEqual(_dec(sale_line.amount), _dec(invoice.amount_total))
            fees = order_lines.filtered(lambda li: li.amazon_kind == "sale_fees")
            self.assertEqual(fees.amazon_match_state, "matched")
            self.assertLess(fees.amount, 0)
            accounts = fees.move_id.line_ids.account_id
            self.assertIn(self.account.settlement_commission_account_id, accounts)
            # The settlement and the Finances transaction agree to the cent.
            transactions = self.sandbox.transactions_of(
                self.seller["seller_id"], sale.amazon_order_ref
            )
            shipped = sum(
                Decimal(str(t["totalAmount"]["currencyAmount"]))
                for t in transactions
                if t["transactionType"] == "Shipment"
            )
            self.assertEqual(_dec(sale_line.amount + fees.amount), shipped)
            # Paid at the invoice's own rate: no exchange difference of a cent.
            receivable = invoice.line_ids.filtered(
                lambda li: li.account_type == "asset_receivable"
            )
            self.assertFalse(
                receivable.matched_credit_ids.exchange_move_id
                | receivable.full_reconcile_id.exchange_move_id,
                sale.amazon_order_ref,
            )
        # Refunds: matched with their credit notes, their fees booked.
        for sale in (self.full_refund, self.partial_refund):
            refund_line = lines.filtered(
                lambda li, ref=sale.amazon_order_ref: (
                    li.amazon_order_ref == ref and li.amazon_kind == "refund"
                )
            )
            self.assertEqual(
                refund_line.amazon_match_state, "matched", refund_line.narration
            )
            self.assertLess(refund_line.amount, 0)
            self.assertTrue(refund_line.amazon_adjustment_ref)
            notes = (
                self.env["amazon.refund"]
                .search([("sale_order_id", "=", sale.id)])
                .credit_note_id
            )
            self.assertEqual(
                _dec(-refund_line.amount), _dec(sum(notes.mapped("amount_total")))
            )
            moves = sale.invoice_ids | notes
            receivable = moves.line_ids.filtered(
                lambda li: li.account_type == "asset_receivable"
            )
            self.assertTrue(all(receivable.mapped("reconciled")), sale.amazon_order_ref)
        kinds = set(lines.mapped("amazon_kind"))
        self.assertTrue(
            {
                "sale",
                "sale_fees",
                "refund",
                "refund_fees",
                "service_fee",
                "reserve",
                "payout",
            }
            <= kinds,
            kinds,
        )
        reserve = lines.filtered(lambda li: li.amazon_kind == "reserve")
        self.assertEqual(reserve.amazon_match_state, "matched")
        self.assertIn(
            self.account.settlement_reserve_account_id,
            reserve.move_id.line_ids.account_id,
        )
        # Reachable from the account.
        self.assertGreaterEqual(self.account.settlement_count, 1)
        self.assertIn(
            ("account_id", "=", self.account.id),
            self.account.action_view_settlements()["domain"],
        )
        self.assertEqual(settlement.action_open_statement()["res_id"], statement.id)

        # Read twice: nothing changes.
        count = self.StLine.search_count([])
        settlements = self.Settlement.search_count([])
        self.account.last_settlement_sync = False
        again = self._import()
        self.assertFalse(again.created)
        self.assertIn(settlement.report_ref, again.skipped)
        self.assertEqual(self.StLine.search_count([]), count)
        self.assertEqual(self.Settlement.search_count([]), settlements)
        # The database refuses a second settlement of the same id.
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.Settlement.create(
                    {
                        "account_id": self.account.id,
                        "settlement_ref": settlement.settlement_ref,
                    }
                )

    def test_payment_at_another_rate_books_the_exchange_difference(self):
        # The euro is worth more when Amazon pays than when Odoo invoiced.
        eur = self.env.ref("base.EUR")
        eur.rate_ids.filtered(lambda r: r.company_id == self.env.company).rate = 0.8
        self._import()
        settlement = self._settlement()
        self.assertEqual(settlement.state, "imported", settlement.message)
        self.assertEqual(settlement.unmatched_count, 0)
        liquidity_account = settlement.statement_id.journal_id.default_account_id
        gain_account = self.env.company.income_currency_exchange_account_id
        lines = settlement.statement_line_ids
        paid = self._paid_in_full()
        self.assertTrue(paid)
        for sale in paid:
            sale_line = lines.filtered(
                lambda li, ref=sale.amazon_order_ref: (
                    li.amazon_order_ref == ref and li.amazon_kind == "sale"
                )
            )
            invoice = sale.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
            self.assertEqual(invoice.payment_state, "paid", sale.amazon_order_ref)
            # The bank line is worth its euros at the day's rate ...
            liquidity = sale_line.move_id.line_ids.filtered(
                lambda li, acc=liquidity_account: li.account_id == acc
            )
            self.assertEqual(
                _dec(liquidity.balance),
                _dec(self.env.company.currency_id.round(sale_line.amount * 1.25)),
                sale.amazon_order_ref,
            )
            # ... the invoice was booked at the old one, and the difference
            # is Odoo's exchange gain.
            receivable = invoice.line_ids.filtered(
                lambda li: li.account_type == "asset_receivable"
            )
            exchange = (
                receivable.matched_credit_ids.exchange_move_id
                | receivable.full_reconcile_id.exchange_move_id
            )
            self.assertEqual(len(exchange), 1, sale.amazon_order_ref)
            gain = exchange.line_ids.filtered(
                lambda li, acc=gain_account: li.account_id == acc
            )
            self.assertLess(gain.balance, 0)
            self.assertEqual(
                _dec(receivable.balance) - _dec(gain.balance),
                _dec(liquidity.balance),
                sale.amazon_order_ref,
            )

    def test_one_journal_per_currency_with_its_outstanding_account(self):
        self._import()
        self._add_gbp_rate()
        self.account.last_settlement_sync = False
        self._import()
        journals = self.account.settlement_journal_ids
        self.assertEqual(sorted(journals.currency_id.mapped("name")), ["EUR", "GBP"])
        for journal in journals:
            self.assertEqual(journal.type, "bank")
            outstanding = journal.inbound_payment_method_line_ids.payment_account_id
            self.assertEqual(len(outstanding), 1)
            self.assertIn("Amazon outstanding receipts", outstanding.name)
            self.assertTrue(outstanding.reconcile)
        self.assertEqual(
            len(journals.inbound_payment_method_line_ids.payment_account_id), 2
        )
        # Fee accounts come from the company's chart.
        for name in (
            "settlement_commission_account_id",
            "settlement_fba_fee_account_id",
            "settlement_refund_commission_account_id",
            "settlement_service_fee_account_id",
            "settlement_advertising_account_id",
        ):
            self.assertEqual(self.account[name].account_type, "expense", name)

    def test_job_imports_and_the_cron_enqueues(self):
        from odoo.addons.queue_job.tests.common import trap_jobs  # pylint: disable=import-outside-toplevel

        with trap_jobs() as trap:
            self.env["amazon.account"]._cron_import_settlements()
            trap.assert_jobs_count(1, only=self.account._job_import_settlements)
        summary = self.account._job_import_settlements()
        self.assertIn("1 settlements imported", summary)
        self.assertTrue(self._settlement())


class TestSettlementBadInput(SettlementCase):
    def test_rows_that_do_not_add_up_are_imported_not_reconciled(self):
        self.sandbox.plant_settlement(self.de["settlementId"], total_delta="1.00")
        self._import()
        settlement = self._settlement()
        self.assertEqual(settlement.state, "unbalanced")
        self.assertIn("not to its total-amount", settlement.message)
        self.assertEqual(_dec(settlement.total_amount), self._total())
        self.assertEqual(_dec(settlement.rows_total), self._total() - Decimal("1.00"))
        rows = settlement.statement_line_ids.filtered(lambda li: li.statement_id)
        self.assertTrue(rows)
        self.assertEqual(set(rows.mapped("amazon_match_state")), {"unmatched"})
        self.assertFalse(any(rows.mapped("is_reconciled")))
        self.assertFalse(settlement.statement_id.is_complete)
        sale = self._paid_in_full()[0]
        self.assertEqual(sale.invoice_ids.payment_state, "not_paid")

    def test_unknown_transaction_type_goes_to_a_suspense_line(self):
        amount = self._plant_unknown("Program credit")
        self._import()
        settlement = self._settlement()
        self.assertEqual(settlement.state, "imported")
        line = settlement.statement_line_ids.filtered(
            lambda li: li.amazon_kind == "unknown"
        )
        self.assertEqual(len(line), 1)
        self.assertEqual(_dec(line.amount), amount)
        self.assertIn("Program credit", line.payment_ref)
        self.assertIn("unknown to the connector", line.narration)
        self.assertEqual(line.amazon_transaction_type, "NewProgramPayment")
        suspense = line.journal_id.suspense_account_id
        self.assertIn(suspense, line.move_id.line_ids.account_id)
        self.assertFalse(line.is_reconciled)
        self.assertEqual(settlement.unmatched_count, 1)
        # The review the README describes: the accountant books it where it
        # belongs, with Odoo Community's own journal entry form.
        move = line.move_id
        move.button_draft()
        move.line_ids.filtered(
            lambda li: li.account_id == suspense
        ).account_id = self.account.settlement_service_fee_account_id
        move.action_post()
        self.assertTrue(line.is_reconciled)
        self.assertEqual(_dec(line.amount), amount)

    def test_cp1252_document_with_german_dates_and_decimals(self):
        self.sandbox.configure_reports(
            self.seller["seller_id"], encoding="cp1252", german=True
        )
        self._plant_unknown("Gebühr \u2013 Überlänge")
        self._import()
        settlement = self._settlement()
        self.assertEqual(settlement.state, "imported", settlement.message)
        self.assertEqual(_dec(settlement.total_amount), self._total())
        self.assertEqual(settlement.end_date, self.end.replace(tzinfo=None))
        line = settlement.statement_line_ids.filtered(
            lambda li: li.amazon_kind == "unknown"
        )
        self.assertIn("Gebühr \u2013 Überlänge", line.payment_ref)
        self.assertEqual(settlement.unmatched_count, 1)

    def test_gzip_document(self):
        self.sandbox.configure_reports(self.seller["seller_id"], compression="GZIP")
        self._import()
        settlement = self._settlement()
        self.assertEqual(settlement.state, "imported", settlement.message)
        self.assertEqual(_dec(settlement.total_amount), self._total())
        self.assertEqual(settlement.unmatched_count, 0)

    def test_report_in_progress_then_done(self):
        self.sandbox.plant_settlement(self.de["settlementId"], status="IN_PROGRESS")
        result = self._import()
        self.assertEqual(len(result.waiting), 1)
        self.assertFalse(self._settlement())
        cursor = self.account.last_settlement_sync
        created = fields.Datetime.to_datetime(self.de["created"][:19].replace("T", " "))
        self.assertTrue(not cursor or cursor < created)
        self.sandbox.plant_settlement(self.de["settlementId"], status="DONE")
        self._import()
        self.assertEqual(self._settlement().state, "imported")

    def test_fatal_report_is_recorded(self):
        self.sandbox.plant_settlement(self.de["settlementId"], status="FATAL")
        result = self._import()
        failed = self.Settlement.search(
            [
                ("account_id", "=", self.account.id),
                ("state", "=", "failed"),
                ("report_ref", "!=", False),
            ]
        ).filtered(lambda s: "FATAL" in (s.message or ""))
        self.assertEqual(len(failed), 1)
        self.assertIn(failed.report_ref, result.failures)
        self.assertFalse(failed.statement_id)
        self.assertIn("FATAL", self.account.last_error)
        # Read again: still one record of it.
        self.account.last_settlement_sync = False
        self._import()
        self.assertEqual(
            self.Settlement.search_count(
                [
                    ("account_id", "=", self.account.id),
                    ("report_ref", "=", failed.report_ref),
                ]
            ),
            1,
        )

    def test_throttled_listing_retries_the_job(self):
        self.sandbox.inject_fault("getReports", "throttle", count=5)
        with self.assertRaises(RetryableJobError):
            self.account._job_import_settlements()
        self.assertFalse(self._settlement())
        self.assertFalse(self.account.last_settlement_sync)
        self.sandbox.clear_faults()
        self.sandbox.reset_rate_limits()
        self._reset_rate_limits()
        self.account._job_import_settlements()
        self.assertTrue(self._settlement())

    def test_order_odoo_lacks_stays_open(self):
        self._plant_lacking_order()
        self._import()
        settlement = self._settlement()
        line = settlement.statement_line_ids.filtered(
            lambda li: li.amazon_order_ref == "028-0000000-0000001"
        )
        self.assertEqual(sorted(line.mapped("amazon_kind")), ["sale", "sale_fees"])
        sale_line = line.filtered(lambda li: li.amazon_kind == "sale")
        self.assertEqual(sale_line.amazon_match_state, "unmatched")
        self.assertIn("028-0000000-0000001 is not in Odoo", sale_line.narration)
        # Its fee is still Amazon's fee.
        self.assertEqual(
            line.filtered(lambda li: li.amazon_kind == "sale_fees").amazon_match_state,
            "matched",
        )
        self.assertEqual(settlement.unmatched_count, 1)

    def test_currency_without_rate(self):
        self._import()
        uk = self._settlement(self.uk)
        self.assertEqual(uk.state, "failed")
        self.assertIn("GBP", uk.message)
        self.assertIn("no exchange rate", uk.message)
        self.assertFalse(uk.statement_id)
        # The EUR settlement went on.
        self.assertEqual(self._settlement().state, "imported")
        # Once the rate is there, the next import books it on the same record.
        self._add_gbp_rate()
        self.account.last_settlement_sync = False
        self._import()
        self.assertEqual(uk.state, "imported", uk.message)
        self.assertTrue(uk.statement_id)
        self.assertEqual(_dec(uk.total_amount), Decimal(self.uk["total"]))

    def test_same_settlement_listed_twice(self):
        self.sandbox.plant_settlement(self.de["settlementId"], listed_twice=True)
        result = self._import()
        settlement = self._settlement()
        self.assertEqual(len(settlement), 1)
        self.assertTrue(settlement.duplicate_report_refs)
        self.assertIn(settlement.duplicate_report_refs, result.skipped)
        self.assertEqual(
            self.env["account.bank.statement"].search_count(
                [("reference", "=", self.de["settlementId"])]
            ),
            1,
        )
