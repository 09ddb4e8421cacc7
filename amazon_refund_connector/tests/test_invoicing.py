"""Customer invoices of Amazon orders: what shipped, at Amazon's amounts."""

from decimal import Decimal

from .test_shipments import ShipmentCase

JP = "A1VC38T7YXB528"


class TestInvoicing(ShipmentCase):
    seed = 23

    def _invoices(self, sale):
        return sale.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")

    def _assert_amazon_total(self, sale, invoices):
        total = Decimal(str(sum(invoices.mapped("amount_total"))))
        self.assertEqual(
            total.quantize(Decimal("0.01")),
            Decimal(str(sale.amazon_total)).quantize(Decimal("0.01")),
            sale.amazon_order_ref,
        )

    def test_fba_orders_are_invoiced_at_import(self):
        fba = self.SaleOrder.search(
            [
                ("amazon_account_id", "=", self.account.id),
                ("amazon_channel", "=", "FBA"),
                ("state", "=", "sale"),
            ]
        )
        self.assertTrue(fba)
        for sale in fba:
            invoices = self._invoices(sale)
            self.assertEqual(len(invoices), 1, sale.amazon_order_ref)
            self.assertEqual(invoices.state, "posted")
            self.assertEqual(invoices.currency_id, sale.currency_id)
            self.assertEqual(invoices.team_id, self.account.team_id)
            self._assert_amazon_total(sale, invoices)
            self.assertAlmostEqual(invoices.amount_tax, sale.amount_tax, places=2)
            self.assertEqual(sale.invoice_status, "invoiced")
            # Never a follower who would get Odoo's e-mails.
            self.assertNotIn(sale.partner_id, invoices.message_partner_ids)
            self.assertFalse(invoices.is_move_sent)
            # The invoice keeps its chatter, though the order's delivery was
            # booked without: its creation is logged (an audit trail reads it).
            self.assertTrue(
                invoices.message_ids.filtered(
                    lambda m: m.subtype_id == self.env.ref("account.mt_invoice_created")
                ),
                sale.amazon_order_ref,
            )
        cancelled = self.SaleOrder.search(
            [("amazon_account_id", "=", self.account.id), ("state", "=", "cancel")]
        )
        self.assertFalse(cancelled.invoice_ids)

    def test_fbm_invoices_what_each_delivery_shipped(self):
        sale = self._fbm_order(min_qty=2)
        self.assertFalse(sale.invoice_ids)
        line = sale.order_line.filtered(
            lambda li: li.amazon_charge == "ITEM" and li.product_uom_qty >= 2
        )[0]
        self._deliver(sale, quantities={line: 1})
        first = self._invoices(sale)
        self.assertEqual(len(first), 1)
        self.assertEqual(first.state, "posted")
        invoiced = first.invoice_line_ids.filtered(lambda il: line in il.sale_line_ids)
        self.assertEqual(invoiced.quantity, 1)
        self.assertLess(first.amount_total, sale.amazon_total)
        self._deliver(sale)
        invoices = self._invoices(sale)
        self.assertEqual(len(invoices), 2)
        self._assert_amazon_total(sale, invoices)
        self.assertEqual(sale.invoice_status, "invoiced")

    def test_accounts_that_do_not_invoice(self):
        self.account.invoice_orders = False
        sale = self._fbm_order()
        self._deliver(sale)
        self.assertFalse(sale.invoice_ids)
        self.assertEqual(sale.invoice_status, "to invoice")


class TestInvoicingYen(ShipmentCase):
    marketplaces = (JP,)
    region = "FE"
    currencies = ("JPY",)
    seed = 24
    seed_count = 40

    def test_yen_invoices_have_no_decimals(self):
        fba = self.SaleOrder.search(
            [
                ("amazon_account_id", "=", self.account.id),
                ("state", "=", "sale"),
                ("amazon_channel", "=", "FBA"),
            ]
        )
        self.assertTrue(fba)
        for sale in fba:
            invoice = sale.invoice_ids
            self.assertEqual(invoice.currency_id.name, "JPY")
            self.assertEqual(invoice.amount_total, round(invoice.amount_total))
            self.assertEqual(invoice.amount_total, sale.amazon_total)
