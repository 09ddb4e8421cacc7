"""Buyer and address text beyond what Amazon's models allow in practice:
cleaned or cut, flagged on the order, never stored as it came."""

from .test_order_sync import OrderSyncCase

LONG_NAME = "Maximilian " * 400
NASTY_STREET = "Hauptstraße 5\x00\r\n\u202eDROP TABLE\x1b[2J"


class TestOrderInput(OrderSyncCase):
    seed = 24
    seed_count = 8

    def _merchant_order_with_address(self):
        for order in self.orders:
            address = (order.get("recipient") or {}).get("deliveryAddress")
            if order["fulfillment"]["fulfilledBy"] == "MERCHANT" and address:
                return order["orderId"]
        raise AssertionError("the seeded orders hold no FBM order with an address")

    def test_overlong_and_control_characters_are_cleaned_and_flagged(self):
        ref = self._merchant_order_with_address()

        def mutate(order):
            order["buyer"] = {
                "buyerName": LONG_NAME,
                "buyerEmail": "Buyer\x07@marketplace.amazon.de",
            }
            address = order["recipient"]["deliveryAddress"]
            address.update(
                name=LONG_NAME,
                addressLine1=NASTY_STREET,
                city="Berlin" + "\u200f" * 3,
                phone="+49 30 1234567" + "9" * 60,
            )

        self.sandbox.corrupt_order(ref, mutate, seller_id=self.seller["seller_id"])
        result = self._sync()
        self.assertNotIn(ref, result.failures)
        sale = self.SaleOrder.search(
            [
                ("amazon_account_id", "=", self.account.id),
                ("amazon_order_ref", "=", ref),
            ]
        )
        self.assertTrue(sale)
        partners = sale.partner_id | sale.partner_shipping_id
        for partner in partners:
            for name in ("name", "street", "street2", "city", "phone", "email"):
                value = partner[name] or ""
                self.assertLessEqual(len(value), 128, name)
                self.assertFalse(
                    [c for c in value if ord(c) < 32 or c in "\u202e\u200f\x7f"], name
                )
        delivery = sale.partner_shipping_id
        self.assertEqual(delivery.street, "Hauptstraße 5 DROP TABLE[2J")
        self.assertEqual(delivery.city, "Berlin")
        self.assertEqual(len(delivery.phone), 32)
        self.assertEqual(sale.partner_id.email, "buyer@marketplace.amazon.de")
        self.assertTrue(sale.partner_id.name.startswith("Maximilian Maximilian"))
        # The order says what was changed, without the text itself.
        issue = sale.amazon_issue or ""
        self.assertIn("buyer name of 4400 characters; it was cut to 128", issue)
        self.assertIn("address line 1 with control or hidden characters", issue)
        self.assertIn("phone of 74 characters; it was cut to 32", issue)
        self.assertIn("buyer e-mail with control or hidden characters", issue)
        self.assertNotIn("DROP TABLE", issue)

    def test_clean_orders_are_not_flagged(self):
        self._sync()
        sales = self._amazon_orders()
        self.assertTrue(sales)
        for sale in sales:
            self.assertNotIn("characters", sale.amazon_issue or "")
