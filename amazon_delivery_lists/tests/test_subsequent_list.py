from datetime import date

from odoo.exceptions import UserError

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


class TestIssuesBackOnRedeliveryDay(DeliveryListsCase):
    """12 August is the redelivery day of issue 33 (limit: two issues back).
    Until the night's run has made its redelivery list, issue 33 is current;
    from then on it is past, for the limit as for the subsequent list."""

    def setUp(self):
        super().setUp()
        self._run_on("2025-08-07")
        self.day = date(2025, 8, 12)

    def _order_at(self, hour, name, start_issue=None, confirm=True):
        with self.freeze("2025-08-12", hour):
            return self._order(
                self._create_partner(name), start_issue=start_issue, confirm=confirm
            )

    def _subsequent_numbers(self, subscription):
        lines = self._lists("subsequent").line_ids.filtered(
            lambda x: x.subscription_id == subscription
        )
        return sorted(lines.issue_id.mapped("number"))

    def test_before_the_nights_run(self):
        self.assertEqual(self.publication._get_current_issue(self.day), self.issues[33])
        self.assertEqual(
            self.publication._get_past_issues(self.day).mapped("number"), [31, 32]
        )
        self.assertEqual(
            self.publication._count_issues_back(self.issues[31], self.day), 2
        )
        default = self._order_at("00:30:00", "Dana Default").delivery_subscription_ids
        self.assertEqual(default.first_issue_id, self.issues[33])
        # Two issues back: as far as the product allows.
        earliest = self._order_at(
            "00:30:00", "Erik Earliest", start_issue=self.issues[31]
        ).delivery_subscription_ids
        self.assertEqual(earliest.first_issue_id, self.issues[31])

        self._run_on("2025-08-12")
        redelivery = self._issue_list(33, "redelivery")
        self.assertEqual(redelivery.line_ids.subscription_id, default | earliest)
        # What the limit counted is what the subsequent list sends.
        self.assertEqual(self._subsequent_numbers(earliest), [31, 32])
        self.assertFalse(self._subsequent_numbers(default))
        self.assertEqual(earliest.issues_delivered, 3)

    def test_after_the_nights_run(self):
        self._run_on("2025-08-12")
        self.assertTrue(self._issue_list(33, "redelivery"))
        self.assertEqual(self.publication._get_current_issue(self.day), self.issues[34])
        self.assertEqual(
            self.publication._get_past_issues(self.day).mapped("number"),
            [31, 32, 33],
        )
        self.assertEqual(
            self.publication._count_issues_back(self.issues[31], self.day), 3
        )
        # Issue 31 now lies three issues back: one more than the product allows.
        refused = self._order_at(
            "10:00:00", "Fritz Toofar", start_issue=self.issues[31], confirm=False
        )
        with (
            self.freeze("2025-08-12", "10:00:00"),
            self.assertRaises(UserError) as error,
        ):
            refused.action_confirm()
        self.assertRegex(str(error.exception), r"3 issue\(s\) in the past.*at most 2")
        refused.invalidate_recordset()
        self.assertEqual(refused.state, "draft")
        self.assertFalse(refused.delivery_subscription_ids)

        default = self._order_at("10:00:00", "Dana Default").delivery_subscription_ids
        self.assertEqual(default.first_issue_id, self.issues[34])
        earliest = self._order_at(
            "10:00:00", "Erik Earliest", start_issue=self.issues[32]
        ).delivery_subscription_ids
        self.assertEqual(earliest.first_issue_id, self.issues[32])

        self._run_on("2025-08-13")
        # Two issues back, both on the subsequent list; the current issue on
        # its own lists.
        self.assertEqual(self._subsequent_numbers(earliest), [32, 33])
        self.assertFalse(self._subsequent_numbers(default))
        self._run_on("2025-08-14")
        self.assertLessEqual(
            default | earliest,
            self._issue_list(34, "delivery").line_ids.subscription_id,
        )
