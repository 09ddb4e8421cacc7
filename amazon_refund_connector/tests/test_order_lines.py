"""Lines, taxes and addresses of imported orders, on orders shaped by hand."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .test_order_sync import OrderSyncCase

US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"


def _ago(**delta):
    moment = datetime.now(timezone.utc) - timedelta(**delta)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount, currency):
    return {"amount": str(amount), "currencyCode": currency}


def breakdown(kind, amount, currency, subtype="ITEM"):
    return {
        "type": kind,
        "subtotal": money(amount, currency),
        "detailedBreakdowns": [{"subtype": subtype, "value": money(amount, currency)}],
    }


def item(ref, sku, qty, currency, price=None, charges=(), shipped=0):
    """An order item; ``charges`` are (type, amount) breakdowns of its proceeds."""
    data = {
        "orderItemId": ref,
        "quantityOrdered": qty,
        "product": {"asin": f"B0{ref[-8:]}", "title": sku.title(), "sellerSku": sku},
        "fulfillment": {
            "quantityFulfilled": shipped,
            "quantityUnfulfilled": qty - shipped,
        },
    }
    if price is not None:
        data["product"]["price"] = {"unitPrice": money(price, currency)}
    if charges:
        # VAT marketplaces (EUR here) show amounts with the tax included.
        amounts = [
            Decimal(a) for kind, a in charges if kind != "TAX" or currency == "USD"
        ]
        data["proceeds"] = {
            "proceedsTotal": money(sum(amounts), currency),
            "breakdowns": [breakdown(k, a, currency) for k, a in charges],
        }
    return data


def order(ref, marketplace, items, status="UNSHIPPED", buyer=None, address=None):
    currency = "USD" if marketplace == US else "EUR"
    data = {
        "orderId": ref,
        "createdTime": _ago(hours=2),
        "lastUpdatedTime": _ago(hours=1),
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": marketplace},
        "buyer": buyer
        or {"buyerName": "Pat Doe", "buyerEmail": f"{ref[-7:]}@marketplace.amazon"},
        "recipient": {
            "deliveryAddress": address
            or {
                "name": "Pat Doe",
                "addressLine1": "1 Main Street",
                "city": "Springfield",
                "postalCode": "12345",
                "countryCode": "US" if marketplace == US else "DE",
            }
        },
        "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": "MERCHANT"},
        "orderItems": items,
    }
    totals = [
        Decimal(i["proceeds"]["proceedsTotal"]["amount"])
        for i in items
        if "proceeds" in i
    ]
    if totals:
        data["proceeds"] = {"grandTotal": money(sum(totals), currency)}
    return data


class TestOrderLines(OrderSyncCase):
    marketplaces = (DE, US)
    seed_count = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.marketplace_ids = cls.env["amazon.marketplace"].search(
            [("marketplace_ref", "in", [DE, US])]
        )
        cls._add_rates(["USD"])
        cls.env["product.product"].create(
            [
                {"name": sku.title(), "default_code": sku, "is_storable": True}
                for sku in ("MUG-RED", "MUG-BLUE", "LAMP", "SHADE", "BOOK")
            ]
        )

    def _import(self, *orders):
        self.sandbox.add_orders(list(orders), seller_id=self.seller["seller_id"])
        # Hand-made orders are older than the cursor a previous sync left.
        self.account.last_order_sync = False
        result = self._sync()
        self.assertFalse(result.failures, result.failures)
        return self.SaleOrder.search(
            [("amazon_order_ref", "in", [o["orderId"] for o in orders])]
        )

    def test_cancelled_order_keeps_its_items(self):
        sale = self._import(
            order(
                "028-0000000-0000001",
                DE,
                [
                    item("50000000000001", "MUG-RED", 2, "EUR", price="12.50"),
                    item("50000000000002", "MUG-BLUE", 1, "EUR"),
                ],
                status="CANCELLED",
            )
        )
        self.assertEqual(sale.state, "cancel")
        items = sale.order_line.filtered(lambda line: line.amazon_charge == "ITEM")
        self.assertEqual(
            sorted(
                (line.amazon_item_ref, line.product_uom_qty, line.price_unit)
                for line in items
            ),
            [("50000000000001", 2.0, 12.5), ("50000000000002", 1.0, 0.0)],
        )
        self.assertFalse(sale.amazon_issue)
        # Sales analysis counts the cancelled demand.
        self.env.flush_all()
        report = self.env["sale.report"].search(
            [("order_reference", "=", f"sale.order,{sale.id}")]
        )
        self.assertEqual(sum(report.mapped("product_uom_qty")), 3.0)

    def test_us_promotion_taxes_are_amazons_to_the_cent(self):
        # Amazon taxes 19.99 - 3.33 = 16.66 at 8.875 %: 1.48. Booked at
        # 8.875 % on each line, Odoo would round 1.77 - 0.30 = 1.47.
        sale = self._import(
            order(
                "112-0000000-0000002",
                US,
                [
                    item(
                        "60000000000001",
                        "LAMP",
                        1,
                        "USD",
                        charges=[
                            ("ITEM", "19.99"),
                            ("DISCOUNT", "-3.33"),
                            ("TAX", "1.48"),
                        ],
                    ),
                    item(
                        "60000000000002",
                        "SHADE",
                        3,
                        "USD",
                        charges=[
                            ("ITEM", "59.97"),
                            ("DISCOUNT", "-6.00"),
                            ("TAX", "4.79"),
                        ],
                    ),
                ],
            )
        )
        self.assertEqual(sale.currency_id.name, "USD")
        self.assertAlmostEqual(sale.amount_untaxed, 16.66 + 53.97, places=2)
        self.assertAlmostEqual(sale.amount_tax, 1.48 + 4.79, places=2)
        self.assertAlmostEqual(sale.amount_total, sale.amazon_total, places=2)
        self.assertFalse(
            sale.order_line.filtered(lambda line: line.amazon_charge == "TAX"),
            "a tax correction line was booked",
        )
        discounts = sale.order_line.filtered(
            lambda line: line.amazon_charge == "DISCOUNT"
        )
        self.assertEqual(len(discounts), 2)
        # The promotion carries the tax of its charge: the tax base is net.
        for line in discounts:
            item_line = sale.order_line.filtered(
                lambda li, ref=line.amazon_item_ref: (
                    li.amazon_charge == "ITEM" and li.amazon_item_ref == ref
                )
            )
            self.assertEqual(line.tax_id, item_line.tax_id)
            self.assertTrue(line.tax_id)
        self.assertFalse(sale.amazon_issue)

    def test_business_name_is_on_the_delivery_contact(self):
        office = {
            "name": "Kim Lee",
            "companyName": "Acme Widgets GmbH",
            "addressLine1": "Industriestr. 5",
            "city": "Berlin",
            "postalCode": "10115",
            "countryCode": "DE",
            "addressType": "COMMERCIAL",
        }
        buyer = {"buyerName": "Kim Lee", "buyerEmail": "kim@marketplace.amazon.de"}
        charges = [("ITEM", "11.90"), ("TAX", "1.90")]
        first, second = (
            order(
                f"028-0000000-000001{n}",
                DE,
                [item(f"7000000000000{n}", "MUG-RED", 1, "EUR", charges=charges)],
                buyer=buyer,
                address=office,
            )
            for n in (1, 2)
        )
        home = dict(office, companyName=None, addressLine1="Gartenweg 2")
        del home["companyName"]
        third = order(
            "028-0000000-0000013",
            DE,
            [item("70000000000003", "MUG-RED", 1, "EUR", charges=charges)],
            buyer=buyer,
            address=home,
        )
        # The buyer's first order goes home: that is the customer's address.
        sales = self._import(third)
        sales |= self._import(first)
        sales |= self._import(second)
        by_ref = {s.amazon_order_ref: s for s in sales}
        customer = by_ref[third["orderId"]].partner_id
        self.assertEqual(by_ref[third["orderId"]].partner_shipping_id, customer)
        self.assertFalse(customer.company_name)
        delivery = by_ref[first["orderId"]].partner_shipping_id
        self.assertEqual(by_ref[second["orderId"]].partner_shipping_id, delivery)
        self.assertEqual(delivery.parent_id, customer)
        self.assertEqual(delivery.type, "delivery")
        self.assertEqual(delivery.company_name, "Acme Widgets GmbH")
        self.assertIn("Acme Widgets GmbH", delivery._display_address())
        self.assertIn("Acme Widgets GmbH", delivery.display_name)
        self.assertEqual(
            self.env["res.partner"].search_count([("parent_id", "=", customer.id)]), 1
        )
        self.assertEqual(
            by_ref[first["orderId"]].partner_id, by_ref[third["orderId"]].partner_id
        )

    def test_created_taxes_say_what_they_are(self):
        vat = self._import(
            order(
                "028-0000000-0000021",
                DE,
                [
                    item(
                        "80000000000001",
                        "MUG-RED",
                        1,
                        "EUR",
                        charges=[("ITEM", "23.80"), ("TAX", "3.80")],
                    ),
                    item(
                        "80000000000002",
                        "BOOK",
                        1,
                        "EUR",
                        charges=[("ITEM", "10.70"), ("TAX", "0.70")],
                    ),
                ],
            )
        )
        sales_tax = self._import(
            order(
                "112-0000000-0000022",
                US,
                [
                    item(
                        "80000000000003",
                        "LAMP",
                        1,
                        "USD",
                        charges=[("ITEM", "20.00"), ("TAX", "1.45")],
                    )
                ],
            )
        )
        groups = {}
        for line in (vat | sales_tax).order_line:
            self.assertEqual(len(line.tax_id), 1, line.name)
            groups[line.tax_id.amount] = line.tax_id
        created = self.env["account.tax"].search(
            [
                ("amazon_tax_kind", "!=", False),
                ("id", "in", [t.id for t in groups.values()]),
            ]
        )
        self.assertTrue(created, "no tax was created for these rates")
        expected = {19.0: "VAT 19%", 7.0: "VAT 7%", 7.25: "Sales tax"}
        for tax in created:
            self.assertEqual(tax.tax_group_id.name, expected[tax.amount])
            self.assertEqual(tax.tax_group_id.country_id, tax.country_id)
        # An invoice prints the group: never the company's default "Tax 15%".
        totals = vat.tax_totals["subtotals"][0]["tax_groups"]
        names = {group["group_name"] for group in totals}
        for tax in created.filtered(lambda t: t.amazon_tax_kind == "vat"):
            self.assertIn(tax.tax_group_id.name, names)
        # A second import reuses the taxes and groups.
        count = self.env["account.tax.group"].search_count([])
        again = self._import(
            order(
                "028-0000000-0000023",
                DE,
                [
                    item(
                        "80000000000004",
                        "MUG-RED",
                        1,
                        "EUR",
                        charges=[("ITEM", "23.80"), ("TAX", "3.80")],
                    )
                ],
            )
        )
        self.assertEqual(again.order_line.tax_id, groups[19.0])
        self.assertEqual(self.env["account.tax.group"].search_count([]), count)
