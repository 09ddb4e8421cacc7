"""The delivery lists' part of the Amazon buyer data purge: a subscription
still to deliver holds its buyer; its recipients are purged with the buyer."""

from datetime import timedelta

from freezegun import freeze_time

from odoo.addons.amazon_refund_connector.models.res_partner import (
    HASHED_KEY_PREFIX,
    PURGED_KEY_PREFIX,
)

from .common import DeliveryListsCase

ORDER_REF = "302-1234567-7654321"


class TestBuyerDataPurge(DeliveryListsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["amazon.account"].create(
            {"name": "Amazon DE (delivery lists)", "region": "EU"}
        )

    def _amazon_subscriber(self):
        buyer = self._create_partner(
            "Lena Vogelsang",
            street="Lindenallee 17",
            zip="50968",
            city="Köln",
            email="lena.vogelsang@marketplace.amazon.de",
            amazon_key=f"{HASHED_KEY_PREFIX}{'ab' * 32}",
        )
        order = self._order_on("2025-08-01", buyer)
        order.write(
            {"amazon_account_id": self.account.id, "amazon_order_ref": ORDER_REF}
        )
        self._run_on("2025-08-07")
        subscription = order.delivery_subscription_ids
        subscription.message_post(body="Lena Vogelsang moved to Lindenallee 17.")
        return buyer, order, subscription

    def _purge_on(self, moment):
        with freeze_time(moment):
            return self.account._purge_buyer_data()

    def test_subscription_holds_buyer_then_recipients_are_purged(self):
        buyer, order, subscription = self._amazon_subscriber()
        lines = subscription.line_ids
        self.assertTrue(lines, "the delivery list of issue 33 lists the subscriber")
        self.assertEqual(set(lines.mapped("recipient_name")), {"Lena Vogelsang"})
        delivery_lists = lines.list_id
        for delivery_list in delivery_lists:
            delivery_list.action_download()
        downloads = self.env["ir.attachment"].search(
            [("res_model", "=", "delivery.list"), ("res_id", "in", delivery_lists.ids)]
        )
        self.assertTrue(downloads)

        # Issues still to deliver: the buyer is kept, long after the order.
        self._purge_on("2025-12-01")
        self.assertEqual(buyer.name, "Lena Vogelsang")
        self.assertFalse(order.amazon_buyer_purged)

        # The subscription ends: 30 days after the last issue delivered the
        # buyer is still kept, 31 days after not.
        subscription.state = "cancelled"
        last = max(lines.mapped("issue_date"))
        self._purge_on(last + timedelta(days=30))
        self.assertEqual(buyer.name, "Lena Vogelsang")
        self._purge_on(last + timedelta(days=31, hours=1))
        self.assertTrue(order.amazon_buyer_purged)
        self.assertEqual(buyer.name, f"Amazon buyer {ORDER_REF}")
        self.assertEqual(buyer.amazon_key, f"{PURGED_KEY_PREFIX}{buyer.id}")
        self.assertFalse(buyer.street or buyer.zip or buyer.city or buyer.email)
        self.assertEqual(buyer.country_id, self.germany)
        # The recipients of the lists, their downloads and the messages.
        for line in lines:
            self.assertEqual(line.recipient_name, f"Amazon buyer {ORDER_REF}")
            self.assertFalse(line.street or line.zip or line.city or line.street2)
            self.assertEqual(line.country_code, "DE")
        self.assertFalse(downloads.exists())
        self.env.flush_all()
        for text in ("Vogelsang", "Lindenallee", "50968"):
            for table, column in (
                ("delivery_list_line", "recipient_name"),
                ("delivery_list_line", "street"),
                ("delivery_list_line", "zip"),
                ("mail_message", "body"),
                ("res_partner", "name"),
                ("res_partner", "street"),
            ):
                self.env.cr.execute(
                    f"SELECT count(*) FROM {table} WHERE {column}::text ILIKE %s",
                    (f"%{text}%",),
                )
                self.assertEqual(self.env.cr.fetchone()[0], 0, f"{table}.{column}")
        # A list made again from its lines holds no buyer data either.
        for delivery_list in delivery_lists:
            content = delivery_list._get_csv_content().decode("utf-8-sig")
            self.assertNotIn("Vogelsang", content)
            self.assertIn(ORDER_REF, content)
