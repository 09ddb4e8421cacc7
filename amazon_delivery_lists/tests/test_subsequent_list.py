from datetime import date

from .common import DeliveryListsCase


class TestSubsequentDeliveryList(DeliveryListsCase):
    """A 12-issue subscription bought on 8 August that starts two issues in
    the past (issue 31; issue 33 is the current one)."""

    def setUp(self):
        super().setUp()
        self.regular = self._order_on(
            "2025-08-01", self._create_partner("Rita Regular")
        ).delivery_subscription_ids
        self._run_on("2025-08-07")
        self.order = self._order_on(
            "2025-08-08",
            self._create_partner("Sven Started-Earlier"),
            start_issue=self.issues[31],
        )
        self.subscription = self.order.delivery_subscription_ids

    def _run_until(self, last_day):
        days = sorted(
            {
                day
                for issue in self.publication.issue_ids
                for day in (issue.delivery_list_date, issue.redelivery_list_date)
                if date(2025, 8, 8) < day <= last_day
            }
        )
        for day in days:
            self._run_on(day)

    def test_subsequent_list_made_overnight(self):
        self._run_on("2025-08-09")
        subsequent = self._lists("subsequent")
        self.assertEqual(len(subsequent), 1)
        self.assertEqual(subsequent.date, date(2025, 8, 9))
        self.assertEqual(subsequent.line_ids.subscription_id, self.subscription)
        self.assertEqual(subsequent.line_ids.issue_id.mapped("number"), [31, 32])
        self.assertEqual(self.subscription.issues_delivered, 2)
        self.assertEqual(self.subscription.issues_remaining, 10)
        # The next night finds nothing more to send.
        self._run_on("2025-08-10")
        self.assertEqual(self._lists("subsequent"), subsequent)

    def test_remaining_ten_issues_on_the_normal_lists(self):
        self._run_on("2025-08-09")
        self._run_until(date(2025, 10, 31))
        lines = self.subscription.line_ids
        by_kind = {
            kind: lines.filtered(lambda x, k=kind: x.list_kind == k)
            for kind in ("subsequent", "delivery", "redelivery")
        }
        self.assertEqual(by_kind["subsequent"].issue_id.mapped("number"), [31, 32])
        # Bought after the delivery list of issue 33: on its redelivery list.
        self.assertEqual(by_kind["redelivery"].issue_id.mapped("number"), [33])
        self.assertEqual(
            sorted(by_kind["delivery"].issue_id.mapped("number")), list(range(34, 43))
        )
        self.assertEqual(len(lines), 12)
        self.assertEqual(self.subscription.issues_delivered, 12)
        self.assertEqual(self.subscription.state, "done")
        after_term = self._issue_list(43, "delivery")
        self.assertTrue(after_term)
        self.assertNotIn(self.subscription, after_term.line_ids.subscription_id)
        # The subscriber who started normally is not on the subsequent list.
        self.assertNotIn(
            self.regular, self._lists("subsequent").line_ids.subscription_id
        )
        self.assertEqual(
            sorted(self.regular.line_ids.issue_id.mapped("number")), list(range(32, 44))
        )
