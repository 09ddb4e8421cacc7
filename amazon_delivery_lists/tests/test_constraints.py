from psycopg2.errors import UniqueViolation

from odoo import Command
from odoo.exceptions import UserError
from odoo.tools import mute_logger

from .common import DeliveryListsCase


class TestConstraints(DeliveryListsCase):
    def setUp(self):
        super().setUp()
        self.subscription = self._order_on(
            "2025-08-06", self._create_partner("Uwe Unique")
        ).delivery_subscription_ids
        self._run_on("2025-08-07")
        self.delivery_list = self._issue_list(33, "delivery")

    def _line(self, goodwill=False):
        return Command.create(
            {
                "subscription_id": self.subscription.id,
                "issue_id": self.issues[33].id,
                "is_goodwill": goodwill,
            }
        )

    def test_subscriber_never_twice_on_lists_of_an_issue(self):
        self.assertEqual(self.delivery_list.line_ids.subscription_id, self.subscription)
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation):
            self.env["delivery.list"].create(
                {
                    "kind": "subsequent",
                    "publication_id": self.publication.id,
                    "date": "2025-08-08",
                    "line_ids": [self._line()],
                }
            )
        # A goodwill delivery may send the issue again.
        goodwill = self.env["delivery.list"].create(
            {
                "kind": "delivery_note",
                "publication_id": self.publication.id,
                "date": "2025-08-08",
                "line_ids": [self._line(goodwill=True)],
            }
        )
        self.assertEqual(goodwill.line_count, 1)

    def test_one_delivery_list_per_issue(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation):
            self.env["delivery.list"].create(
                {
                    "kind": "delivery",
                    "publication_id": self.publication.id,
                    "issue_id": self.issues[33].id,
                    "date": "2025-08-08",
                }
            )

    def test_one_skip_per_issue(self):
        self.env["delivery.skipped.issue"].create(
            {
                "subscription_id": self.subscription.id,
                "issue_id": self.issues[34].id,
                "date": "2025-08-16",
            }
        )
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation):
            self.env["delivery.skipped.issue"].create(
                {
                    "subscription_id": self.subscription.id,
                    "issue_id": self.issues[34].id,
                    "date": "2025-08-16",
                }
            )

    def test_delivered_subscription_cannot_be_deleted(self):
        with self.assertRaises(UserError):
            self.subscription.unlink()
        self.assertTrue(self.subscription.exists())

    def test_cron_entry_point(self):
        cron = self.env.ref("amazon_delivery_lists.ir_cron_generate_delivery_lists")
        self.assertEqual(cron.model_id.model, "delivery.publication")
        self.assertIn("_cron_generate_delivery_lists", cron.code)
        buyer = self._order_on("2025-08-08", self._create_partner("Cora Cron"))
        with self.freeze("2025-08-12", "01:00:00"):
            cron.method_direct_trigger()
        redelivery = self._issue_list(33, "redelivery")
        self.assertEqual(redelivery.line_ids.sale_order_id, buyer)
