"""Amazon buyers' personal data, purged once Amazon's policy requires it.

Amazon's Data Protection Policy: buyer personal data is kept no longer than
30 days after the order's delivery unless a law requires it. Each day the
purge anonymises the buyers (and their delivery contacts) whose every order
is past the account's retention: delivered (FBA: when Amazon shipped it,
FBM: when its delivery was validated), or cancelled, and needing nothing
more (no open delivery, return or refund; see
:meth:`SaleOrder._amazon_privacy_reference_dates`, which other addons extend).

What is kept, and why, is in the README (section "Buyer personal data").
"""

import logging
import re
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .res_partner import PURGED_KEY_PREFIX

_logger = logging.getLogger(__name__)

# Amazon's Data Protection Policy: 30 days after delivery at most.
AMAZON_RETENTION_DAYS = 30
# Partner fields that hold a buyer's personal data; all are emptied (the
# country stays: see the README).
PARTNER_PII_FIELDS = (
    "street",
    "street2",
    "city",
    "zip",
    "state_id",
    "phone",
    "mobile",
    "email",
    "company_name",
    "vat",
    "website",
    "function",
    "comment",
    "ref",
)
# What the invoice of a business buyer must name (EU VAT Directive art. 226
# (5); Germany UStG 14 (4) no. 1): its business name, address and VAT number.
# Kept on the invoiced partner of a business; the person's name, phone and
# e-mail go.
BUSINESS_INVOICE_FIELDS = (
    "company_name",
    "street",
    "street2",
    "zip",
    "city",
    "state_id",
    "vat",
)
# Texts shorter than this are not looked for in messages: they would match
# everywhere and identify nobody.
MIN_SCRUBBED_LENGTH = 3


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    buyer_data_retention_days = fields.Integer(
        string="Keep buyer data (days)",
        default=AMAZON_RETENTION_DAYS,
        required=True,
        tracking=True,
        help="Days after an order's delivery (or cancellation) after which the "
        "buyer's name, address, phone and e-mail are anonymised. Amazon allows "
        "30 days at most; keep them longer only where a law requires it, and "
        "say which.",
    )
    buyer_data_retention_reason = fields.Text(
        string="Legal reason to keep buyer data longer",
        tracking=True,
        help="The law that requires keeping buyer data longer than Amazon's 30 "
        "days. Required for a longer retention.",
    )
    last_buyer_data_purge = fields.Datetime(
        string="Last buyer data purge", readonly=True, copy=False
    )

    @api.constrains("buyer_data_retention_days", "buyer_data_retention_reason")
    def _check_buyer_data_retention(self):
        for account in self:
            days = account.buyer_data_retention_days
            if days < 0:
                raise ValidationError(
                    self.env._(
                        "Account %s: buyer data cannot be kept a negative number "
                        "of days.",
                        account.name,
                    )
                )
            reason = (account.buyer_data_retention_reason or "").strip()
            if days > AMAZON_RETENTION_DAYS and not reason:
                raise ValidationError(
                    self.env._(
                        "Account %(account)s: Amazon allows keeping buyer data "
                        "%(limit)s days after delivery. To keep it %(days)s days, "
                        "state the legal reason that requires it.",
                        account=account.name,
                        limit=AMAZON_RETENTION_DAYS,
                        days=days,
                    )
                )

    @api.model
    def _cron_purge_buyer_data(self):
        """Anonymise, account by account, the buyers whose retention is over."""
        accounts = self.sudo().with_context(active_test=False).search([])
        for account in accounts:
            account._purge_buyer_data()

    def _purge_buyer_data(self, now=None):
        """Anonymise the buyers of this account whose data is due.

        Returns the counts of what was touched (no data itself).
        """
        self.ensure_one()
        account = self.sudo().with_context(
            active_test=False, tracking_disable=True, mail_notrack=True
        )
        now = now or fields.Datetime.now()
        cutoff = now - timedelta(days=account.buyer_data_retention_days)
        orders = account.env["sale.order"].search(
            [
                ("amazon_account_id", "=", account.id),
                ("amazon_buyer_purged", "=", False),
            ]
        )
        references = orders._amazon_privacy_reference_dates()
        due = orders.filtered(
            lambda o: references.get(o.id) and references[o.id] <= cutoff
        )
        partners = due._amazon_buyer_partners()
        partners -= orders.search(
            [
                ("id", "not in", due.ids),
                ("amazon_buyer_purged", "=", False),
                "|",
                "|",
                ("partner_id", "in", partners.ids),
                ("partner_invoice_id", "in", partners.ids),
                ("partner_shipping_id", "in", partners.ids),
            ]
        )._amazon_buyer_partners()
        # An order whose buyer another order still needs waits for that one.
        done = due.filtered(lambda o: o._amazon_buyer_partners() <= partners)
        counts = account.env["res.partner"]._amazon_purge_buyers(partners, done)
        if done:
            done.write({"amazon_buyer_purged": now})
        account.last_buyer_data_purge = now
        if partners:
            summary = self.env._(
                "Buyer data purge: %(orders)s orders past %(days)s days; "
                "%(partners)s buyers and delivery contacts anonymised, "
                "%(messages)s messages cleaned, %(removed)s messages and "
                "%(attachments)s documents removed, %(records)s other records "
                "cleaned.",
                orders=len(done),
                days=account.buyer_data_retention_days,
                partners=counts["partners"],
                messages=counts["messages"],
                removed=counts["messages_removed"],
                attachments=counts["attachments"],
                records=counts["records"],
            )
            _logger.info("Amazon account %s: %s", account.id, summary)
            account.message_post(body=summary)
        return dict(counts, orders=len(done))


class SaleOrder(models.Model):
    _inherit = "sale.order"

    amazon_buyer_purged = fields.Datetime(
        string="Buyer data purged on",
        readonly=True,
        copy=False,
        index=True,
        help="When the buyer's personal data of this Amazon order was "
        "anonymised, as Amazon's data protection policy requires.",
    )

    def _amazon_buyer_partners(self):
        """The Amazon buyers and delivery contacts of these orders."""
        partners = self.partner_id | self.partner_invoice_id | self.partner_shipping_id
        return partners.filtered(
            lambda p: p.amazon_key and not p.amazon_key.startswith(PURGED_KEY_PREFIX)
        )

    def _amazon_privacy_reference_dates(self):
        """``{order id: moment}`` the retention of each order counts from, or
        None while the order still needs its buyer's data.

        The moment is the latest of its delivery (the done date of its
        deliveries; FBA deliveries are booked done when Amazon reports the
        order shipped), its cancellation (Amazon's last update of a cancelled
        order), and its returns and refunds. An open delivery or return, or a
        refund still sent or failed, holds it. Addons add what else holds an
        order (and when that ends) by extending this method.
        """
        refunds = self.env["amazon.refund"].search_read(
            [("sale_order_id", "in", self.ids)],
            ["sale_order_id", "state", "posted_date"],
        )
        refunds_by_order = {}
        for refund in refunds:
            refunds_by_order.setdefault(refund["sale_order_id"][0], []).append(refund)
        result = {}
        for order in self:
            result[order.id] = order._amazon_privacy_reference_date(
                refunds_by_order.get(order.id, [])
            )
        return result

    def _amazon_privacy_reference_date(self, refunds):
        self.ensure_one()
        moments = []
        pickings = self.picking_ids
        if any(p.state not in ("done", "cancel") for p in pickings):
            return None  # goods still to deliver or a return still open
        if self.state == "cancel":
            moments.append(self.amazon_last_update or self.write_date)
        else:
            outgoing = pickings.filtered(lambda p: p.picking_type_code == "outgoing")
            done = outgoing.filtered(lambda p: p.state == "done")
            if done:
                moments += done.mapped("date_done")
            elif outgoing:
                moments.append(self.write_date)  # every delivery cancelled
            else:
                moments.append(self.date_order)  # nothing to ship
        moments += pickings.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state == "done"
        ).mapped("date_done")
        for refund in refunds:
            if refund["state"] != "done":
                return None  # a refund Amazon has not settled yet
            moments.append(refund["posted_date"])
        moments = [m for m in moments if m]
        return max(moments) if moments else None

    def _amazon_privacy_records(self):
        """Records of these orders whose messages may name their buyers.

        Addons add theirs by extending this method.
        """
        refunds = self.env["amazon.refund"].search([("sale_order_id", "in", self.ids)])
        return [
            self,
            self.picking_ids,
            self.invoice_ids | refunds.credit_note_id,
            self.env["amazon.shipment"].search([("sale_order_id", "in", self.ids)]),
        ]

    def _amazon_privacy_purge_extra(self, partners, placeholders):
        """Purge what addons keep of ``partners`` (copies of their names and
        addresses); ``placeholders`` maps partner ids to the name they get.

        Returns the number of records cleaned.
        """
        return 0


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model
    def _amazon_purge_buyers(self, partners, orders):
        """Anonymise ``partners`` (buyers and delivery contacts) and what the
        connector and Odoo keep of them about ``orders``."""
        counts = {
            "partners": len(partners),
            "messages": 0,
            "messages_removed": 0,
            "attachments": 0,
            "records": 0,
        }
        if not partners:
            return counts
        partners = partners.sudo().with_context(
            active_test=False, tracking_disable=True, mail_notrack=True
        )
        orders = orders.sudo()
        placeholders = partners._amazon_placeholder_names(orders)
        texts = partners._amazon_pii_texts()
        records = [partners, *orders._amazon_privacy_records()]
        counts["messages"] = self._amazon_scrub_messages(records, texts, partners)
        counts["messages_removed"] = self._amazon_remove_partner_messages(partners)
        counts["attachments"] = self._amazon_remove_documents(orders.picking_ids)
        counts["records"] = orders._amazon_privacy_purge_extra(partners, placeholders)
        businesses = partners._amazon_invoiced_businesses(orders)
        for partner in partners:
            vals = dict.fromkeys(PARTNER_PII_FIELDS, False)
            if partner in businesses:
                for name in BUSINESS_INVOICE_FIELDS:
                    vals.pop(name)
            vals.update(
                name=placeholders[partner.id],
                amazon_key=f"{PURGED_KEY_PREFIX}{partner.id}",
            )
            partner.write(vals)
        return counts

    def _amazon_invoiced_businesses(self, orders):
        """Those of these partners that are businesses invoiced for ``orders``
        (an invoice or credit note posted to them)."""
        refunds = self.env["amazon.refund"].search(
            [("sale_order_id", "in", orders.ids)]
        )
        moves = (orders.invoice_ids | refunds.credit_note_id).filtered(
            lambda m: m.state == "posted"
        )
        invoiced = moves.partner_id | moves.commercial_partner_id
        return self.filtered(lambda p: p in invoiced and (p.company_name or p.vat))

    def _amazon_placeholder_names(self, orders):
        """``{partner id: "Amazon buyer <order>"}``, after the partner's latest
        order among ``orders``."""
        result = {}
        for partner in self:
            mine = orders.filtered(
                lambda o, p=partner: (
                    p in (o.partner_id | o.partner_invoice_id | o.partner_shipping_id)
                )
            ).sorted(lambda o: (o.date_order or fields.Datetime.now(), o.id))
            ref = mine[-1:].amazon_order_ref if mine else str(partner.id)
            result[partner.id] = self.env._("Amazon buyer %s", ref)
        return result

    def _amazon_pii_texts(self):
        """The personal texts of these partners, longest first."""
        texts = set()
        for partner in self:
            for name in ("name", "company_name", "email", "phone", "mobile", "vat"):
                texts.add(partner[name] or "")
            for name in ("street", "street2", "city", "zip"):
                texts.add(partner[name] or "")
        texts = {
            t.strip() for t in texts if t and len(t.strip()) >= MIN_SCRUBBED_LENGTH
        }
        return sorted(texts, key=len, reverse=True)

    @api.model
    def _amazon_scrub_messages(self, record_sets, texts, partners):
        """Cut ``texts`` out of the messages (and their tracked values) of
        ``record_sets``; forget ``partners`` as authors and recipients.

        Returns the number of messages changed.
        """
        messages = self.env["mail.message"].sudo()
        for records in record_sets:
            if records:
                messages |= messages.search(
                    [("model", "=", records._name), ("res_id", "in", records.ids)]
                )
        messages |= messages.search(
            [
                "|",
                ("author_id", "in", partners.ids),
                ("partner_ids", "in", partners.ids),
            ]
        )
        pattern = (
            re.compile(
                "|".join(
                    re.escape(variant)
                    for text in texts
                    for variant in dict.fromkeys([str(escape(text)), text])
                ),
                re.IGNORECASE,
            )
            if texts
            else None
        )
        redacted = self.env._("[removed]")
        changed = self.env["mail.message"]
        for message in messages:
            vals = {}
            if pattern:
                body = str(message.body or "")
                new_body = pattern.sub(str(escape(redacted)), body)
                if new_body != body:
                    vals["body"] = Markup(new_body)  # the texts were escaped
                for name in ("subject", "record_name", "email_from", "reply_to"):
                    value = message[name] or ""
                    if value and pattern.search(value):
                        vals[name] = pattern.sub(redacted, value)
            if message.author_id & partners:
                vals["author_id"] = False
                vals["email_from"] = False
            if message.partner_ids & partners:
                vals["partner_ids"] = [fields.Command.unlink(p.id) for p in partners]
            tracked = message.sudo().tracking_value_ids
            for value in tracked:
                tracked_vals = {}
                for name in ("old_value_char", "new_value_char"):
                    text = value[name] or ""
                    if pattern and text and pattern.search(text):
                        tracked_vals[name] = pattern.sub(redacted, text)
                if tracked_vals:
                    value.write(tracked_vals)
                    changed |= message
            if vals:
                message.write(vals)
                changed |= message
        self.env["mail.notification"].sudo().search(
            [("res_partner_id", "in", partners.ids)]
        ).unlink()
        self.env["mail.followers"].sudo().search(
            [("partner_id", "in", partners.ids)]
        ).unlink()
        return len(changed)

    @api.model
    def _amazon_remove_partner_messages(self, partners):
        """Remove the messages kept on the buyers' own partner records."""
        messages = (
            self.env["mail.message"]
            .sudo()
            .search([("model", "=", "res.partner"), ("res_id", "in", partners.ids)])
        )
        count = len(messages)
        messages.unlink()
        return count

    @api.model
    def _amazon_remove_documents(self, pickings):
        """Remove the documents attached to delivered pickings (shipping
        labels, delivery slips): they print the buyer's address."""
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [("res_model", "=", "stock.picking"), ("res_id", "in", pickings.ids)]
            )
        )
        count = len(attachments)
        attachments.unlink()
        return count
