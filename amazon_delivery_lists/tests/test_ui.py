from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestDeliveryListsUi(HttpCase):
    """A person finds the night's delivery list, checks its recipient and
    follows the subscription it delivers."""

    def setUp(self):
        super().setUp()
        today = fields.Date.today()
        self.publication = self.env["delivery.publication"].create(
            {
                "name": "Tour Gardening Weekly",
                "delivery_list_days": 7,
                "payment_cutoff_days": 2,
                "redelivery_list_days": 5,
                "issue_ids": [
                    Command.create(
                        {
                            "number": index + 1,
                            "name": f"T{index + 1}/2025",
                            "publication_date": today + timedelta(days=5, weeks=index),
                        }
                    )
                    for index in range(4)
                ],
            }
        )
        self.first_issue = self.publication.issue_ids.sorted("number")[0]
        product = self.env["product.product"].create(
            {
                "name": "Tour Gardening Weekly, 4 issues",
                "type": "service",
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
                "publication_kind": "subscription",
                "publication_id": self.publication.id,
                "subscription_issue_count": 4,
                "list_price": 16.0,
            }
        )
        self.partner = self.env["res.partner"].create(
            {
                "name": "Gerda Tourgardener",
                "street": "Gartenstraße 1",
                "zip": "10115",
                "city": "Berlin",
                "country_id": self.env.ref("base.de").id,
            }
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        order.action_confirm()
        self.subscription = order.delivery_subscription_ids
        self.publication._generate_due_lists()
        self.delivery_list = self.env["delivery.list"].search(
            [("publication_id", "=", self.publication.id), ("kind", "=", "delivery")]
        )

    def test_open_delivery_list_and_subscription(self):
        self.assertEqual(
            self.first_issue.delivery_list_date, fields.Date.today() - timedelta(days=2)
        )
        self.assertEqual(len(self.delivery_list), 1)
        self.start_tour(
            "/odoo/action-amazon_delivery_lists.action_delivery_list",
            "amazon_delivery_lists_tour",
            login="admin",
        )
        self.assertEqual(self.delivery_list.issue_id, self.first_issue)
        line = self.delivery_list.line_ids
        self.assertEqual(line.recipient_name, "Gerda Tourgardener")
        self.assertEqual(line.city, "Berlin")
        self.assertEqual(line.subscription_id, self.subscription)
        self.assertEqual(self.subscription.issues_delivered, 1)
        self.assertEqual(self.subscription.first_issue_id, self.first_issue)
