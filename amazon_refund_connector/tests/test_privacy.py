"""Buyer personal data: purged after the retention, matched by keyed hashes,
seen only by the users who need it."""

import importlib.util
import logging
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user

from odoo.addons.amazon_refund_connector.models.res_partner import (
    HASHED_KEY_PREFIX,
    PURGED_KEY_PREFIX,
)
from odoo.addons.amazon_refund_connector.sp_api.orders import parse_order

from .test_order_sync import OrderSyncCase

BUSINESS_NAME = "Gartenbau Keller GmbH"
PRIVACY_LOGGER = "odoo.addons.amazon_refund_connector.models.amazon_privacy"


@contextmanager
def capture_logs(name):
    """The messages logged on logger ``name`` (INFO and above) in the block."""
    messages = []

    class Handler(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    logger = logging.getLogger(name)
    handler, level = Handler(logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _give_contact_details(order, index, business_ref):
    """Amazon's optional buyer e-mail and recipient phone, on a stored order."""
    buyer = order.setdefault("buyer", {})
    buyer["buyerEmail"] = f"buyer{index}-{order['orderId']}@marketplace.amazon.de"
    address = (order.get("recipient") or {}).get("deliveryAddress")
    if address:
        address["phone"] = f"+49 30 5550{index:04d}"
    if order["orderId"] == business_ref:
        buyer["buyerCompanyName"] = BUSINESS_NAME


class PrivacyCase(OrderSyncCase):
    seed = 21
    seed_count = 30

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A business buys one shipped FBA order (invoiced when imported).
        business_ref = next(
            o["orderId"]
            for o in cls.orders
            if o["fulfillment"]["fulfilledBy"] == "AMAZON"
            and o["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
        )
        for index, order in enumerate(cls.orders):
            cls.sandbox.corrupt_order(
                order["orderId"],
                lambda o, i=index: _give_contact_details(o, i, business_ref),
                seller_id=cls.seller["seller_id"],
            )
        client = cls.account._get_client()
        try:
            cls.account._sync_orders(client)
        finally:
            client.close()
        cls.sales = cls.env["sale.order"].search(
            [("amazon_account_id", "=", cls.account.id)]
        )

    def _backdate(self, days, sales=None):
        """Make the deliveries and cancellations of ``sales`` ``days`` old."""
        sales = sales or self.sales
        moment = fields.Datetime.now() - timedelta(days=days)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE stock_picking SET date_done = %s"
            " WHERE id IN %s AND date_done IS NOT NULL",
            (moment, tuple(sales.picking_ids.ids or [0])),
        )
        self.env.cr.execute(
            "UPDATE sale_order SET amazon_last_update = %s, date_order = %s"
            " WHERE id IN %s",
            (moment, moment, tuple(sales.ids)),
        )
        self.env.invalidate_all()

    def _delivered_buyer_order(self):
        """An order delivered, whose buyer has no other order and whose own
        contact details are all there."""
        for sale in self.sales.sorted("id"):
            others = self.sales.filtered(lambda s, p=sale.partner_id: s.partner_id == p)
            if (
                sale.state == "sale"
                and sale.picking_ids
                and all(p.state == "done" for p in sale.picking_ids)
                and len(others) == 1
                and sale.partner_id.email
                and sale.partner_id.street
                and not sale.partner_id.company_name
            ):
                return sale
        raise AssertionError("the seeded orders hold no delivered order")

    def _open_fbm_order(self):
        for sale in self.sales:
            if sale.amazon_channel == "FBM" and any(
                p.state not in ("done", "cancel") for p in sale.picking_ids
            ):
                return sale
        raise AssertionError("the seeded orders hold no open FBM order")


class TestBuyerDataPurge(PrivacyCase):
    def _pii(self, partner):
        return [
            value
            for value in (
                partner.name,
                partner.email,
                partner.phone,
                partner.street,
                partner.city,
                partner.zip,
            )
            if value
        ]

    def _leave_traces(self, sale):
        """What Odoo keeps of a buyer beyond the partner: messages naming
        them, a tracked change, a shipping label."""
        buyer = sale.partner_id
        delivery = sale.partner_shipping_id
        sale.message_post(
            body=f"Buyer {buyer.name} ({buyer.email}) asked for a gift note."
        )
        buyer.message_post(body=f"Called {buyer.phone} about {buyer.street}.")
        picking = sale.picking_ids[:1]
        picking.message_post(
            body=f"Parcel for {delivery.name}, {delivery.street}, {delivery.city}."
        )
        self.env["ir.attachment"].create(
            {
                "name": "Label.pdf",
                "raw": f"%PDF label {delivery.name} {delivery.street}".encode(),
                "res_model": "stock.picking",
                "res_id": picking.id,
            }
        )
        # A tracked value naming the buyer (the order's reference).
        sale.with_context(tracking_disable=False).client_order_ref = buyer.name

    def test_purge_after_retention_cleans_every_table(self):
        sale = self._delivered_buyer_order()
        held = self._open_fbm_order()
        buyer, delivery = sale.partner_id, sale.partner_shipping_id
        held_buyer = held.partner_id
        held_name = held_buyer.name
        country = buyer.country_id
        texts = self._pii(buyer) + self._pii(delivery)
        self._leave_traces(sale)
        invoice = sale.invoice_ids.filtered(lambda m: m.state == "posted")[:1]
        self.assertTrue(invoice, "an FBA order is invoiced when imported")
        totals = (invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total)

        # 29 days after delivery: nothing is due yet.
        self._backdate(29)
        self.env["amazon.account"]._cron_purge_buyer_data()
        self.assertEqual(buyer.name, texts[0])
        self.assertFalse(sale.amazon_buyer_purged)

        self._backdate(31)
        with capture_logs(PRIVACY_LOGGER) as logs:
            self.env["amazon.account"]._cron_purge_buyer_data()

        # The partners: a placeholder name, the country, nothing else.
        self.assertTrue(sale.amazon_buyer_purged)
        for partner in buyer | delivery:
            self.assertEqual(partner.name, f"Amazon buyer {sale.amazon_order_ref}")
            self.assertEqual(partner.country_id, country)
            for name in ("street", "street2", "city", "zip", "phone", "email"):
                self.assertFalse(partner[name], name)
            self.assertEqual(partner.amazon_key, f"{PURGED_KEY_PREFIX}{partner.id}")
        # Every table that held their data.
        self.env.flush_all()
        for text in texts:
            for table, column in (
                ("res_partner", "name"),
                ("res_partner", "complete_name"),
                ("res_partner", "email"),
                ("res_partner", "email_normalized"),
                ("res_partner", "street"),
                ("res_partner", "phone"),
                ("mail_message", "body"),
                ("mail_message", "record_name"),
                ("mail_tracking_value", "old_value_char"),
                ("mail_tracking_value", "new_value_char"),
                ("account_move", "invoice_partner_display_name"),
            ):
                self.env.cr.execute(
                    f"SELECT count(*) FROM {table} WHERE {column}::text ILIKE %s",
                    (f"%{text}%",),
                )
                self.assertEqual(self.env.cr.fetchone()[0], 0, f"{table}.{column}")
        self.assertFalse(
            self.env["mail.message"].search(
                [("model", "=", "res.partner"), ("res_id", "in", buyer.ids)]
            )
        )
        self.assertFalse(
            self.env["ir.attachment"].search(
                [
                    ("res_model", "=", "stock.picking"),
                    ("res_id", "in", sale.picking_ids.ids),
                ]
            )
        )
        # Pickings and invoices point at the anonymised partners.
        self.assertEqual(sale.picking_ids.partner_id, delivery)
        self.assertEqual(invoice.partner_id, buyer)
        self.assertEqual(invoice.invoice_partner_display_name, buyer.name)
        # Accounting is untouched and balanced.
        self.assertEqual(
            (invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total), totals
        )
        self.assertEqual(invoice.state, "posted")
        lines = invoice.line_ids
        self.assertAlmostEqual(sum(lines.mapped("debit")), sum(lines.mapped("credit")))
        # An order still to deliver keeps its buyer.
        self.assertEqual(held_buyer.name, held_name)
        self.assertFalse(held.amazon_buyer_purged)
        self.assertTrue(held_buyer.amazon_key.startswith(HASHED_KEY_PREFIX))
        # What was purged is logged and posted, without the data.
        report = "\n".join(logs) + "\n".join(self.account.message_ids.mapped("body"))
        self.assertIn("anonymised", report)
        for text in texts:
            self.assertNotIn(text, report)
        # Running again finds nothing new.
        counts = self.account._purge_buyer_data()
        self.assertEqual(counts["partners"], 0)

    def test_business_buyer_keeps_what_its_invoice_needs(self):
        sale = self.sales.filtered(lambda s: s.partner_id.company_name == BUSINESS_NAME)
        self.assertEqual(len(sale), 1)
        buyer = sale.partner_id
        person, email, phone = buyer.name, buyer.email, buyer.phone
        kept = {n: buyer[n] for n in ("company_name", "street", "zip", "city")}
        invoiced = sale.invoice_ids.filtered(lambda m: m.state == "posted")
        self.assertTrue(invoiced)
        self._backdate(31)
        self.account._purge_buyer_data()
        self.assertEqual(buyer.name, f"Amazon buyer {sale.amazon_order_ref}")
        self.assertFalse(buyer.email or buyer.phone)
        for name, value in kept.items():
            self.assertEqual(buyer[name], value, name)
        self.assertNotIn(person, invoiced.invoice_partner_display_name)
        self.assertNotEqual(buyer.email, email)
        self.assertNotEqual(buyer.phone, phone)

    def test_cancelled_order_purged_after_its_cancellation(self):
        cancelled = self.sales.filtered(lambda s: s.state == "cancel")[:1]
        self.assertTrue(cancelled, "the seeded orders hold a cancelled order")
        others = self.sales.filtered(lambda s: s.partner_id == cancelled.partner_id)
        self._backdate(31, others)
        self.account._purge_buyer_data()
        self.assertTrue(cancelled.amazon_buyer_purged)
        self.assertTrue(cancelled.partner_id.name.startswith("Amazon buyer "))

    def test_open_refund_holds_the_buyer(self):
        sale = self._delivered_buyer_order()
        name = sale.partner_id.name
        refund = self.env["amazon.refund"].create(
            {
                "account_id": self.account.id,
                "sale_order_id": sale.id,
                "amazon_order_ref": sale.amazon_order_ref,
                "amount_type": "PRINCIPAL",
                "currency_id": sale.currency_id.id,
                "amount": 5.0,
                "origin": "odoo",
                "state": "sent",
                "posted_date": fields.Datetime.now() - timedelta(days=40),
            }
        )
        self._backdate(31)
        self.account._purge_buyer_data()
        self.assertEqual(sale.partner_id.name, name)
        self.assertFalse(sale.amazon_buyer_purged)
        # Once Amazon settled it, the retention counts from its posting.
        refund.write(
            {"state": "done", "posted_date": fields.Datetime.now() - timedelta(days=5)}
        )
        self.account._purge_buyer_data()
        self.assertEqual(sale.partner_id.name, name)
        refund.posted_date = fields.Datetime.now() - timedelta(days=31)
        self.account._purge_buyer_data()
        self.assertTrue(sale.amazon_buyer_purged)

    def test_shorter_retention_purges_sooner(self):
        sale = self._delivered_buyer_order()
        self.account.buyer_data_retention_days = 7
        self._backdate(8)
        self.account._purge_buyer_data()
        self.assertTrue(sale.amazon_buyer_purged)

    def test_longer_retention_needs_a_legal_reason(self):
        with self.assertRaises(ValidationError) as caught:
            self.account.buyer_data_retention_days = 90
        self.assertIn("legal reason", str(caught.exception))
        with self.assertRaises(ValidationError):
            self.account.write(
                {"buyer_data_retention_days": 90, "buyer_data_retention_reason": "  "}
            )
        with self.assertRaises(ValidationError):
            self.account.buyer_data_retention_days = -1
        self.account.write(
            {
                "buyer_data_retention_days": 90,
                "buyer_data_retention_reason": "Product liability: § 199 BGB.",
            }
        )
        sale = self._delivered_buyer_order()
        self._backdate(31)
        self.account._purge_buyer_data()
        self.assertFalse(sale.amazon_buyer_purged)


class TestMatchingKeys(PrivacyCase):
    seed = 22
    seed_count = 12

    def _raw(self, sale):
        return self.sandbox.get_order_data(
            sale.amazon_order_ref, seller_id=self.seller["seller_id"]
        )

    def test_keys_are_keyed_hashes_and_repeat_buyers_match(self):
        sale = self.sales.filtered(lambda s: s.partner_id.email)[:1]
        buyer = sale.partner_id
        raw = self._raw(sale)
        parsed = parse_order(raw)
        Partner = self.env["res.partner"]
        self.assertEqual(buyer.amazon_key, Partner._amazon_customer_key(parsed))
        self.assertTrue(buyer.amazon_key.startswith(HASHED_KEY_PREFIX))
        for partner in self.sales.partner_id | self.sales.partner_shipping_id:
            key = partner.amazon_key
            for text in self._clear_texts(partner):
                self.assertNotIn(text.casefold(), key.casefold())
        # The same buyer orders again: the same partner.
        again = dict(raw, orderId="302-9999999-0000001")
        result = self.env["sale.order"]._amazon_import_orders(self.account, [again])
        self.assertFalse(result.failures)
        repeat = self.env["sale.order"].browse(result.created)
        self.assertEqual(repeat.partner_id, buyer)
        self.assertEqual(repeat.partner_shipping_id, sale.partner_shipping_id)

    def _clear_texts(self, partner):
        return [
            t
            for t in (partner.email, partner.name, partner.zip, partner.street)
            if t and len(t) > 3
        ]

    def test_key_depends_on_the_database_secret(self):
        sale = self.sales[:1]
        parsed = parse_order(self._raw(sale))
        Partner = self.env["res.partner"]
        key = Partner._amazon_customer_key(parsed)
        self.env["ir.config_parameter"].sudo().set_param(
            "amazon_refund_connector.partner_key_secret", "another-database"
        )
        self.assertNotEqual(Partner._amazon_customer_key(parsed), key)

    def test_purged_buyer_is_not_found_again(self):
        sale = self._delivered_buyer_order()
        buyer = sale.partner_id
        raw = self._raw(sale)
        self._backdate(31, self.sales.filtered(lambda s: s.partner_id == buyer))
        self.account._purge_buyer_data()
        self.assertTrue(buyer.amazon_key.startswith(PURGED_KEY_PREFIX))
        again = dict(raw, orderId="302-9999999-0000002")
        result = self.env["sale.order"]._amazon_import_orders(self.account, [again])
        repeat = self.env["sale.order"].browse(result.created)
        self.assertNotEqual(repeat.partner_id, buyer)
        self.assertEqual(repeat.partner_id.name, buyer_name_of(raw))

    def test_migration_hashes_clear_keys(self):
        sale = self.sales.filtered(lambda s: s.partner_shipping_id != s.partner_id)[:1]
        sale = sale or self.sales[:1]
        parsed = parse_order(self._raw(sale))
        Partner = self.env["res.partner"]
        clear = Partner._amazon_clear_customer_key(parsed)
        clear_address = Partner._amazon_clear_address_key(clear, parsed)
        expected = {
            sale.partner_id: Partner._amazon_customer_key(parsed),
            sale.partner_shipping_id: Partner._amazon_address_key(None, parsed),
        }
        sale.partner_id.amazon_key = clear
        if sale.partner_shipping_id != sale.partner_id:
            sale.partner_shipping_id.amazon_key = clear_address
        self.env.flush_all()
        path = Path(__file__).parents[1] / "migrations/18.0.1.1.0/post-migrate.py"
        spec = importlib.util.spec_from_file_location("amazon_post_migrate", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()
        for partner, key in expected.items():
            self.assertEqual(partner.amazon_key, key)


def buyer_name_of(raw):
    return (raw.get("buyer") or {}).get("buyerName") or (
        (raw.get("recipient") or {}).get("deliveryAddress") or {}
    ).get("name")


class TestBuyerVisibility(PrivacyCase):
    seed = 23
    seed_count = 6

    def test_only_users_who_need_them_see_buyers(self):
        buyers = self.sales.partner_id | self.sales.partner_shipping_id
        self.assertTrue(buyers)
        outsider = new_test_user(
            self.env, login="privacy_outsider", groups="base.group_user"
        )
        Partner = self.env["res.partner"].with_user(outsider)
        self.assertFalse(Partner.search([("id", "in", buyers.ids)]))
        with self.assertRaises(AccessError):
            buyers.with_user(outsider).read(["name"])
        # Their own colleagues stay visible to them.
        self.assertTrue(Partner.search([("id", "=", outsider.partner_id.id)]))
        for login, groups in (
            ("privacy_sales", "sales_team.group_sale_salesman"),
            ("privacy_amazon", "amazon_refund_connector.group_amazon_user"),
            ("privacy_stock", "stock.group_stock_user"),
            ("privacy_invoicing", "account.group_account_invoice"),
        ):
            user = new_test_user(self.env, login=login, groups=groups)
            visible = (
                self.env["res.partner"]
                .with_user(user)
                .search([("id", "in", buyers.ids)])
            )
            self.assertEqual(visible, buyers, login)
