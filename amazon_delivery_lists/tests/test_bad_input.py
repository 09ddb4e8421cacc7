from datetime import date
from unittest.mock import patch

from odoo import Command

from odoo.addons.amazon_delivery_lists.models.delivery_publication import (
    DeliveryPublication,
)

from .common import DeliveryListsCase

SUBSCRIPTION_LOGGER = "odoo.addons.amazon_delivery_lists.models.delivery_subscription"
PUBLICATION_LOGGER = "odoo.addons.amazon_delivery_lists.models.delivery_publication"
ISSUE_LOGGER = "odoo.addons.amazon_delivery_lists.models.delivery_publication_issue"


class TestBadInput(DeliveryListsCase):
    def test_subscription_without_delivery_address(self):
        complete = self._order_on(
            "2025-08-06", self._create_partner("Clara Complete")
        ).delivery_subscription_ids
        incomplete = self._order_on(
            "2025-08-06",
            self._create_partner("Ivo Incomplete", street=False, zip=False),
        ).delivery_subscription_ids
        nowhere = self._order_on(
            "2025-08-06", self._create_partner("Nils Nowhere")
        ).delivery_subscription_ids
        nowhere.partner_shipping_id = False

        with self.assertLogs(SUBSCRIPTION_LOGGER, level="WARNING") as logs:
            self._run_on("2025-08-07")
        delivery_list = self._issue_list(33, "delivery")
        self.assertEqual(delivery_list.line_ids.subscription_id, complete)
        self.assertIn("Ivo Incomplete", delivery_list.generation_note)
        self.assertIn("Nils Nowhere", delivery_list.generation_note)
        self.assertIn("incomplete", incomplete.delivery_problem)
        self.assertIn("Street", incomplete.delivery_problem)
        self.assertIn("Zip", incomplete.delivery_problem)
        self.assertIn("no delivery address", nowhere.delivery_problem)
        self.assertIn(incomplete.delivery_problem, self._messages(incomplete))
        self.assertTrue(any(incomplete.name in line for line in logs.output))
        self.assertTrue(any(nowhere.name in line for line in logs.output))

        # Completed before the redelivery list: delivered there, once.
        incomplete.partner_shipping_id.write(
            {"street": "Lindenallee 3", "zip": "10117"}
        )
        self._run_on("2025-08-12")
        redelivery = self._issue_list(33, "redelivery")
        self.assertEqual(redelivery.line_ids.subscription_id, incomplete)
        self.assertEqual(redelivery.line_ids.street, "Lindenallee 3")
        self.assertFalse(incomplete.delivery_problem)
        self.assertIn("Nils Nowhere", redelivery.generation_note)
        message_count = len(nowhere.message_ids)
        self._run_on("2025-08-13")
        self.assertEqual(len(nowhere.message_ids), message_count, "reported once")

    def test_publication_without_future_issues(self):
        old = self._create_publication(
            "Discontinued Monthly", first_date=date(2025, 1, 2), count=3
        )
        product = self._create_product(
            "Discontinued Monthly, 6 issues",
            publication_kind="subscription",
            publication_id=old.id,
            subscription_issue_count=6,
        )
        with self.assertLogs(SUBSCRIPTION_LOGGER, level="WARNING"):
            order = self._order_on(
                "2025-08-06", self._create_partner("Willi Waiting"), product=product
            )
        waiting = order.delivery_subscription_ids
        self.assertEqual(order.state, "sale")
        self.assertFalse(waiting.first_issue_id)
        self.assertIn("No upcoming issue", waiting.delivery_problem)
        regular = self._order_on(
            "2025-08-06", self._create_partner("Rosa Regular")
        ).delivery_subscription_ids

        with self.assertLogs(PUBLICATION_LOGGER, level="WARNING") as logs:
            self._run_on("2025-08-07", self.publication | old)
        self.assertIn("No future issue of Discontinued Monthly", old.schedule_warning)
        self.assertIn(old.schedule_warning, self._messages(old))
        self.assertTrue(any("no future issue" in line for line in logs.output))
        self.assertFalse(self._lists(publication=old).line_ids)
        # The other publication went on.
        self.assertEqual(
            self._issue_list(33, "delivery").line_ids.subscription_id, regular
        )

        message_count = len(old.message_ids)
        self._run_on("2025-08-08", self.publication | old)
        self.assertEqual(len(old.message_ids), message_count, "warned once")

        # The schedule is extended: the waiting subscription starts.
        old.issue_ids = [
            Command.create(
                {"number": 100, "name": "9/2025", "publication_date": "2025-09-04"}
            )
        ]
        self._run_on("2025-08-28", self.publication | old)
        self.assertFalse(old.schedule_warning)
        self.assertEqual(waiting.first_issue_id.number, 100)
        delivery_list = self.env["delivery.list"].search(
            [("issue_id.number", "=", 100), ("publication_id", "=", old.id)]
        )
        self.assertEqual(delivery_list.line_ids.subscription_id, waiting)
        self.assertFalse(waiting.delivery_problem)

    def test_issue_date_moved_after_lists_were_made(self):
        subscription = self._order_on(
            "2025-08-06", self._create_partner("Mona Moved")
        ).delivery_subscription_ids
        self._run_on("2025-08-07")
        issue = self.issues[33]
        delivery_list = self._issue_list(33, "delivery")
        self.assertEqual(delivery_list.line_ids.subscription_id, subscription)

        with self.assertLogs(ISSUE_LOGGER, level="WARNING"):
            issue.publication_date = date(2025, 8, 17)
        self.assertEqual(issue.delivery_list_date, date(2025, 8, 10))
        self.assertEqual(issue.redelivery_list_date, date(2025, 8, 15))
        self.assertIn("moved from 08/14/2025 to 08/17/2025", issue.schedule_note)
        self.assertIn("moved from 08/14/2025", self._messages(delivery_list))
        self.assertIn("moved from 08/14/2025", self._messages(self.publication))

        self._run_on("2025-08-10")
        self.assertEqual(self._issue_list(33, "delivery"), delivery_list)
        self._run_on("2025-08-12")
        self.assertFalse(self._issue_list(33, "redelivery"), "follows the new date")
        self._run_on("2025-08-15")
        redelivery = self._issue_list(33, "redelivery")
        self.assertEqual(len(redelivery), 1)
        self.assertFalse(redelivery.line_ids, "nobody listed twice")
        self.assertEqual(
            subscription.line_ids.filtered(lambda x: x.issue_id == issue).list_id,
            delivery_list,
        )

        # Moving an issue without lists says nothing.
        later = self.issues[40]
        later.publication_date = date(2025, 9, 20)
        self.assertFalse(later.schedule_note)

    def test_cancelled_order(self):
        cancelled = self._order_on("2025-08-06", self._create_partner("Carl Cancelled"))
        subscription = cancelled.delivery_subscription_ids
        cancelled._action_cancel()
        self.assertEqual(subscription.state, "cancelled")
        self.assertIn("order was cancelled", self._messages(subscription))

        # An order cancelled behind the back of the subscription (a direct
        # write): the generation notices it and goes on with the others.
        silent = self._order_on("2025-08-06", self._create_partner("Sid Silent"))
        silent_subscription = silent.delivery_subscription_ids
        kept = self._order_on(
            "2025-08-06", self._create_partner("Kim Kept")
        ).delivery_subscription_ids
        silent.write({"state": "cancel"})
        self.assertEqual(silent_subscription.state, "active")

        self._run_on("2025-08-07")
        listed = self._issue_list(33, "delivery").line_ids.subscription_id
        self.assertEqual(listed, kept)
        self.assertEqual(silent_subscription.state, "cancelled")
        self.assertIn("order was cancelled", self._messages(silent_subscription))
        self._run_on("2025-08-12")
        self.assertFalse(self._issue_list(33, "redelivery").line_ids)
        self.assertFalse(
            self.env["delivery.skipped.issue"].search(
                [("subscription_id", "in", (subscription | silent_subscription).ids)]
            )
        )

    def test_failing_publication_does_not_stop_the_others(self):
        broken = self._create_publication("Broken Weekly")
        subscription = self._order_on(
            "2025-08-06", self._create_partner("Otto Other")
        ).delivery_subscription_ids
        original = DeliveryPublication._generate_lists_of_day

        def generate(publication, today):
            if publication == broken:
                raise ValueError("schedule unreadable")
            return original(publication, today)

        with (
            patch.object(DeliveryPublication, "_generate_lists_of_day", generate),
            self.assertLogs(PUBLICATION_LOGGER, level="ERROR"),
        ):
            self._run_on("2025-08-07", broken | self.publication)
        self.assertIn("schedule unreadable", self._messages(broken))
        self.assertEqual(
            self._issue_list(33, "delivery").line_ids.subscription_id, subscription
        )
