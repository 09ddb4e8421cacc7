from datetime import date

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form

from .common import DeliveryListsCase


class TestSaleSubscription(DeliveryListsCase):
    def test_confirm_creates_one_subscription_per_line(self):
        customer = self._create_partner("Anna Becker")
        shipping = self._create_partner(
            "Anna Becker (home)",
            parent_id=customer.id,
            type="delivery",
            street="Rosenweg 5",
        )
        with self.freeze("2025-08-08"):
            order = self.env["sale.order"].create(
                {
                    "partner_id": customer.id,
                    "partner_shipping_id": shipping.id,
                    "order_line": [
                        Command.create({"product_id": self.subscription_product.id}),
                        Command.create(
                            {
                                "product_id": self.subscription_product.id,
                                "product_uom_qty": 2,
                            }
                        ),
                        Command.create({"product_id": self.plain_product.id}),
                    ],
                }
            )
            order.action_confirm()
        subscriptions = order.delivery_subscription_ids.sorted("id")
        self.assertEqual(len(subscriptions), 2)
        self.assertEqual(order.delivery_subscription_count, 2)
        first = subscriptions[0]
        self.assertEqual(first.kind, "subscription")
        self.assertEqual(first.state, "active")
        self.assertEqual(first.partner_id, customer)
        self.assertEqual(first.partner_shipping_id, shipping)
        self.assertEqual(first.publication_id, self.publication)
        self.assertEqual(first.start_date, date(2025, 8, 8))
        # 7 Aug: the delivery list of issue 33 is made; its redelivery list on
        # 12 Aug still takes buyers of 8 Aug.
        self.assertEqual(first.first_issue_id, self.issues[33])
        self.assertEqual(first.issues_total, 12)
        self.assertEqual(first.issues_delivered, 0)
        self.assertEqual(first.issues_remaining, 12)
        self.assertEqual(subscriptions[1].quantity, 2)
        self.assertTrue(first.name.startswith("SUB/"))

    def test_default_start_issue_follows_order_date(self):
        with self.freeze("2025-08-13"):
            order = self._order(self._create_partner("Ben"), confirm=False)
        self.assertEqual(order.order_line.delivery_start_issue_id, self.issues[34])

    def test_single_issue_creates_single_issue_delivery(self):
        order = self._order_on(
            "2025-08-08",
            self._create_partner("Carla"),
            product=self.single_product,
            start_issue=self.issues[32],
        )
        single = order.delivery_subscription_ids
        self.assertEqual(single.kind, "single_issue")
        self.assertEqual(single.first_issue_id, self.issues[32])
        self.assertEqual(single.issues_total, 1)

    def test_start_in_the_past_within_limit(self):
        order = self._order_on(
            "2025-08-08", self._create_partner("Dora"), start_issue=self.issues[31]
        )
        subscription = order.delivery_subscription_ids
        self.assertEqual(subscription.first_issue_id, self.issues[31])

    def test_start_beyond_limit_is_refused(self):
        partner = self._create_partner("Emil")
        with self.freeze("2025-08-08"):
            order = self._order(partner, start_issue=self.issues[31], confirm=False)
            self.subscription_product.subscription_max_issues_back = 1
            with self.assertRaises(UserError) as error:
                order.action_confirm()
        self.assertRegex(str(error.exception), r"2 issue\(s\) in the past.*at most 1")
        order.invalidate_recordset()
        self.assertEqual(order.state, "draft")
        self.assertFalse(
            self.env["delivery.subscription"].search([("sale_order_id", "=", order.id)])
        )

    def test_start_issue_of_other_publication_is_refused(self):
        other = self._create_publication("Other Weekly")
        with self.assertRaises(ValidationError) as error:
            self._order_on(
                "2025-08-08",
                self._create_partner("Fritz"),
                start_issue=other.issue_ids[0],
                confirm=False,
            )
        self.assertIn("not an issue of", str(error.exception))

    def test_reconfirmed_order_keeps_its_subscription(self):
        order = self._order_on("2025-08-08", self._create_partner("Gerda"))
        subscription = order.delivery_subscription_ids
        order._action_cancel()
        self.assertEqual(subscription.state, "cancelled")
        self.assertIn("order was cancelled", self._messages(subscription))
        order.action_draft()
        with self.freeze("2025-09-30"):
            # Weeks later: the start issue is far in the past by now, which
            # does not matter for a subscription that exists already.
            order.action_confirm()
        self.assertEqual(order.delivery_subscription_ids, subscription)
        self.assertEqual(subscription.state, "active")
        self.assertIn("confirmed again", self._messages(subscription))

    def test_start_issue_chosen_in_the_order_form(self):
        with self.freeze("2025-08-08"):
            form = Form(self.env["sale.order"])
            form.partner_id = self._create_partner("Hilde Form")
            with form.order_line.new() as line:
                line.product_id = self.subscription_product
                self.assertEqual(line.delivery_start_issue_id, self.issues[33])
                line.delivery_start_issue_id = self.issues[32]
            order = form.save()
            order.action_confirm()
        subscription = order.delivery_subscription_ids
        self.assertEqual(subscription.first_issue_id, self.issues[32])
