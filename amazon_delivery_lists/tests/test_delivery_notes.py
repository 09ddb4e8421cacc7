import csv
import io
import zipfile
from datetime import date

from odoo import Command
from odoo.exceptions import UserError

from .common import DeliveryListsCase


class TestDeliveryNotes(DeliveryListsCase):
    def _zip(self, delivery_list):
        # Tests render reports as HTML unless told to make real PDFs.
        rendering = delivery_list.with_context(force_report_rendering=True)
        action = rendering.action_download()
        attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[-1].split("?")[0])
        )
        self.assertTrue(attachment.name.endswith(".zip"))
        self.assertEqual(attachment.mimetype, "application/zip")
        return zipfile.ZipFile(io.BytesIO(attachment.raw))

    def test_single_issues_on_delivery_notes(self):
        now = self._order_on(
            "2025-08-08",
            self._create_partner("Olga Single"),
            product=self.single_product,
        ).delivery_subscription_ids
        also_now = self._order_on(
            "2025-08-08",
            self._create_partner("Hans Single", city="Hamburg", zip="20095"),
            product=self.single_product,
            quantity=3,
        ).delivery_subscription_ids
        later = self._order_on(
            "2025-08-08",
            self._create_partner("Paul Future"),
            product=self.single_product,
            start_issue=self.issues[35],
        ).delivery_subscription_ids
        self.assertEqual(now.first_issue_id, self.issues[33])

        self._run_on("2025-08-09")
        notes = self._lists("delivery_note")
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes.line_ids.subscription_id, now | also_now)
        self.assertEqual(now.state, "done")
        self.assertEqual(later.state, "active")
        self.assertEqual(
            notes.line_ids.filtered(lambda x: x.subscription_id == also_now).quantity, 3
        )
        # Single issues are not subscriptions: never on the issue lists.
        self.assertFalse(
            self._issue_list(33, "delivery").line_ids.subscription_id & (now | also_now)
        )

        archive = self._zip(notes)
        names = archive.namelist()
        csv_names = [n for n in names if n.endswith(".csv")]
        pdf_names = [n for n in names if n.endswith(".pdf")]
        self.assertEqual(len(csv_names), 1)
        self.assertEqual(len(pdf_names), 2, "one delivery slip per recipient")
        for name in pdf_names:
            self.assertTrue(archive.read(name).startswith(b"%PDF"), name)
        content = archive.read(csv_names[0]).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(content)))
        self.assertEqual(len(rows), 3)
        recipient = rows[0].index("Recipient")
        self.assertEqual(
            {r[recipient] for r in rows[1:]}, {"Olga Single", "Hans Single"}
        )

        self._run_on("2025-08-10")
        self.assertEqual(len(self._lists("delivery_note")), 1, "nothing sent twice")
        self._run_on("2025-08-21")
        later_notes = self._lists("delivery_note") - notes
        self.assertEqual(later_notes.line_ids.subscription_id, later)
        self.assertEqual(later_notes.line_ids.issue_id, self.issues[35])

    def test_goodwill_delivery(self):
        subscription = self._order_on(
            "2025-08-01", self._create_partner("Greta Goodwill")
        ).delivery_subscription_ids
        self._run_on("2025-08-07")
        self.assertEqual(subscription.issues_delivered, 2)
        with self.freeze("2025-08-08"):
            wizard = self.env["delivery.goodwill.wizard"].create(
                {
                    "subscription_id": subscription.id,
                    "issue_ids": [Command.set((self.issues[32] | self.issues[33]).ids)],
                    "reason": "Issues damaged in transit",
                }
            )
            action = wizard.action_send()
        notes = self.env["delivery.list"].browse(action["res_id"])
        self.assertEqual(notes.kind, "delivery_note")
        self.assertEqual(notes.date, date(2025, 8, 8))
        self.assertEqual(notes.line_ids.issue_id.mapped("number"), [32, 33])
        self.assertTrue(all(notes.line_ids.mapped("is_goodwill")))
        # Sent again, free of charge: still two issues delivered of twelve.
        self.assertEqual(subscription.issues_delivered, 2)
        self.assertEqual(subscription.issues_remaining, 10)
        self.assertIn("Goodwill delivery", self._messages(subscription))

        archive = self._zip(notes)
        pdf_names = [n for n in archive.namelist() if n.endswith(".pdf")]
        self.assertEqual(len(pdf_names), 1)
        self.assertTrue(archive.read(pdf_names[0]).startswith(b"%PDF"))

    def test_goodwill_needs_an_address(self):
        subscription = self._order_on(
            "2025-08-01", self._create_partner("Nomad", street=False)
        ).delivery_subscription_ids
        wizard = self.env["delivery.goodwill.wizard"].create(
            {
                "subscription_id": subscription.id,
                "issue_ids": [Command.set(self.issues[32].ids)],
            }
        )
        with self.assertRaises(UserError) as error:
            wizard.action_send()
        self.assertIn("incomplete", str(error.exception))
        self.assertFalse(self._lists("delivery_note"))
