import csv
import io
from datetime import date

from freezegun import freeze_time

from odoo import Command

from .common import DeliveryListsCase


class TestDeliveryAndRedeliveryList(DeliveryListsCase):
    """The documented example: delivery list of issue 33 on 7 August, payment
    cutoff on 9 August, redelivery list on 12 August."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time("2025-08-06 10:00:00"):
            cls.paid = cls._buy("Paula Paid")
            cls.paid_invoice = cls._invoice_order(cls.paid)
            cls.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=cls.paid_invoice.ids
            ).create({})._create_payments()
            cls.not_invoiced = cls._buy("Nora Notinvoiced")
            cls.pays_in_time = cls._buy("Bernd Blocked")
            cls.pays_in_time_invoice = cls._invoice_order(cls.pays_in_time)
            cls.never_pays = cls._buy("Ulla Unpaid")
            cls.never_pays_invoice = cls._invoice_order(cls.never_pays)
            cls.pays_late = cls._buy("Lena Late")
            cls.pays_late_invoice = cls._invoice_order(cls.pays_late)
        with freeze_time("2025-08-07 01:00:00"):
            cls.publication._generate_due_lists()
        cls.delivery_list = cls.env["delivery.list"].search(
            [("issue_id", "=", cls.issues[33].id), ("kind", "=", "delivery")]
        )

    @classmethod
    def _buy(cls, name):
        order = cls.env["sale.order"].create(
            {
                "partner_id": cls._create_partner(name).id,
                "order_line": [
                    Command.create({"product_id": cls.subscription_product.id})
                ],
            }
        )
        order.action_confirm()
        return order.delivery_subscription_ids

    @classmethod
    def _invoice_order(cls, subscription):
        invoice = subscription.sale_order_id._create_invoices()
        invoice.action_post()
        return invoice

    def _recipients(self, delivery_list):
        return set(delivery_list.line_ids.mapped("recipient_name"))

    def test_delivery_list_of_7_august(self):
        self.assertEqual(len(self.delivery_list), 1)
        self.assertEqual(self.delivery_list.date, date(2025, 8, 7))
        self.assertEqual(
            self._recipients(self.delivery_list), {"Paula Paid", "Nora Notinvoiced"}
        )
        self.assertEqual(
            self.delivery_list.held_back_subscription_ids,
            self.pays_in_time | self.never_pays | self.pays_late,
        )
        self.assertIn(self.pays_in_time_invoice.name, self._messages(self.pays_in_time))
        self.assertIn("Held back", self._messages(self.pays_in_time))
        self.assertEqual(self.paid.issues_delivered, 1)
        self.assertEqual(self.pays_in_time.issues_delivered, 0)

    def test_redelivery_list_of_12_august(self):
        buys_later = self._order_on("2025-08-08", self._create_partner("Max Later"))
        self._pay_on("2025-08-09", self.pays_in_time_invoice)
        self._pay_on("2025-08-10", self.pays_late_invoice)
        for day in ("2025-08-08", "2025-08-09", "2025-08-10", "2025-08-11"):
            self._run_on(day)
        self.assertFalse(self._issue_list(33, "redelivery"))
        self._run_on("2025-08-12")

        redelivery = self._issue_list(33, "redelivery")
        self.assertEqual(redelivery.date, date(2025, 8, 12))
        self.assertEqual(redelivery.payment_cutoff_date, date(2025, 8, 9))
        self.assertEqual(self._recipients(redelivery), {"Max Later", "Bernd Blocked"})
        self.assertEqual(
            redelivery.line_ids.sale_order_id,
            buys_later | self.pays_in_time.sale_order_id,
        )
        self.assertEqual(self.pays_in_time.issues_delivered, 1)
        self.assertFalse(self._lists("subsequent"))

        # Unpaid at the cutoff (or paid only after it): on no list of the
        # issue, not counted as delivered, recorded as not charged.
        issue_lines = self.env["delivery.list.line"].search(
            [("issue_id", "=", self.issues[33].id)]
        )
        self.assertNotIn(self.never_pays, issue_lines.subscription_id)
        self.assertNotIn(self.pays_late, issue_lines.subscription_id)
        skipped = self.env["delivery.skipped.issue"].search(
            [("issue_id", "=", self.issues[33].id)]
        )
        self.assertEqual(skipped.subscription_id, self.never_pays | self.pays_late)
        unpaid = skipped.filtered(lambda s: s.subscription_id == self.never_pays)
        self.assertEqual(unpaid.invoice_ids, self.never_pays_invoice)
        self.assertEqual(unpaid.state, "to_credit")
        self.assertEqual(unpaid.date, date(2025, 8, 9))
        self.assertAlmostEqual(unpaid.amount, 4.0)  # 48.00 for 12 issues
        self.assertEqual(self.never_pays.issues_delivered, 0)
        self.assertEqual(self.never_pays.issues_skipped, 1)
        self.assertEqual(self.never_pays.issues_remaining, 11)
        self.assertIn("not charged", self._messages(self.never_pays))

        # Every subscriber is on one list at most for the issue.
        self.assertEqual(
            len(issue_lines), len(issue_lines.subscription_id), "listed twice"
        )

    def test_next_delivery_list_holds_back_only_the_unpaid(self):
        self._pay_on("2025-08-09", self.pays_in_time_invoice)
        self._pay_on("2025-08-10", self.pays_late_invoice)
        self._run_on("2025-08-12")
        self._run_on("2025-08-14")
        next_list = self._issue_list(34, "delivery")
        self.assertEqual(
            self._recipients(next_list),
            {"Paula Paid", "Nora Notinvoiced", "Bernd Blocked", "Lena Late"},
        )
        self.assertEqual(next_list.held_back_subscription_ids, self.never_pays)

    def test_credit_note_for_issue_not_charged(self):
        self._run_on("2025-08-12")
        skipped = self.never_pays.skipped_issue_ids
        skipped.action_create_credit_note()
        credit_note = skipped.credit_note_id
        self.assertEqual(skipped.state, "credited")
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.reversed_entry_id, self.never_pays_invoice)
        self.assertAlmostEqual(credit_note.amount_untaxed, 4.0)
        self.assertEqual(credit_note.partner_id, self.never_pays.partner_id)

    def _attachment_domain(self):
        return [
            ("res_model", "=", "delivery.list"),
            ("res_id", "=", self.delivery_list.id),
        ]

    def test_download_csv(self):
        action = self.delivery_list.action_download()
        attachment = self.env["ir.attachment"].search(self._attachment_domain())
        self.assertEqual(len(attachment), 1)
        self.assertEqual(action["url"], f"/web/content/{attachment.id}?download=true")
        self.assertTrue(attachment.name.endswith(".csv"))
        rows = list(csv.reader(io.StringIO(attachment.raw.decode("utf-8-sig"))))
        header, body = rows[0], rows[1:]
        self.assertIn("Recipient", header)
        self.assertEqual(len(body), 2)
        recipient = header.index("Recipient")
        issue = header.index("Issue")
        order = header.index("Source order")
        self.assertEqual(
            {row[recipient] for row in body}, {"Paula Paid", "Nora Notinvoiced"}
        )
        self.assertEqual({row[issue] for row in body}, {"33/2025"})
        self.assertIn(self.paid.sale_order_id.name, {row[order] for row in body})
        # Downloading again replaces the file instead of piling up copies.
        self.delivery_list.action_download()
        self.assertEqual(
            self.env["ir.attachment"].search_count(self._attachment_domain()),
            1,
        )

    def test_generation_is_idempotent(self):
        lines_before = self.env["delivery.list.line"].search_count([])
        lists_before = self._lists()
        self._run_on("2025-08-07")
        with self.freeze("2025-08-07"):
            self.publication.action_generate_lists()
        self.assertEqual(self._lists(), lists_before)
        self.assertEqual(self.env["delivery.list.line"].search_count([]), lines_before)
        # Twice the redelivery day: one redelivery list, one skip per subscriber.
        self._run_on("2025-08-12")
        self._run_on("2025-08-12")
        self.assertEqual(len(self._issue_list(33, "redelivery")), 1)
        self.assertEqual(len(self.never_pays.skipped_issue_ids), 1)
