from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class DeliverySkippedIssue(models.Model):
    _name = "delivery.skipped.issue"
    _description = "Issue not delivered and not charged"
    _order = "date desc, id desc"

    subscription_id = fields.Many2one(
        "delivery.subscription", required=True, index=True, ondelete="cascade"
    )
    issue_id = fields.Many2one(
        "delivery.publication.issue", required=True, index=True, ondelete="restrict"
    )
    company_id = fields.Many2one(
        related="subscription_id.company_id", store=True, index=True
    )
    partner_id = fields.Many2one(related="subscription_id.partner_id", store=True)
    sale_order_id = fields.Many2one(related="subscription_id.sale_order_id", store=True)
    publication_id = fields.Many2one(
        related="subscription_id.publication_id", store=True
    )
    date = fields.Date(
        required=True,
        help="The payment cutoff at which the invoice was still unpaid.",
    )
    reason = fields.Selection(
        [("unpaid", "Invoice unpaid at the payment cutoff")],
        required=True,
        default="unpaid",
    )
    invoice_ids = fields.Many2many(
        "account.move", string="Unpaid invoices", readonly=True
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_amount", store=True)
    amount = fields.Monetary(
        string="Amount not charged",
        compute="_compute_amount",
        store=True,
        help="The price of one issue of the subscription, before taxes.",
    )
    state = fields.Selection(
        [
            ("to_credit", "To credit"),
            ("credited", "Credited"),
            ("settled", "No credit needed"),
        ],
        required=True,
        default="to_credit",
    )
    credit_note_id = fields.Many2one("account.move", readonly=True, copy=False)

    _sql_constraints = [
        (
            "subscription_issue_unique",
            "unique(subscription_id, issue_id)",
            "An issue is skipped only once per subscription.",
        ),
    ]

    @api.depends(
        "subscription_id.sale_line_id.price_subtotal",
        "subscription_id.sale_line_id.product_uom_qty",
        "subscription_id.quantity",
        "subscription_id.issues_total",
    )
    def _compute_amount(self):
        for skipped in self:
            subscription = skipped.subscription_id
            line = subscription.sale_line_id
            skipped.currency_id = (
                line.currency_id or subscription.company_id.currency_id
            )
            if not line or not line.product_uom_qty:
                skipped.amount = 0.0
                continue
            per_copy = line.price_subtotal / line.product_uom_qty
            skipped.amount = skipped.currency_id.round(
                per_copy * subscription.quantity / subscription.issues_total
            )

    @api.depends("subscription_id.name", "issue_id.name")
    def _compute_display_name(self):
        for skipped in self:
            skipped.display_name = (
                f"{skipped.subscription_id.name} / {skipped.issue_id.name}"
            )

    def _prepare_credit_note_vals(self, invoice):
        """A draft credit note of ``invoice`` for the issues in ``self``."""
        lines = []
        for skipped in self:
            subscription = skipped.subscription_id
            sale_line = subscription.sale_line_id
            lines.append(
                Command.create(
                    {
                        "product_id": subscription.product_id.id,
                        "name": self.env._(
                            "%(product)s: issue %(issue)s not delivered (unpaid at the "
                            "payment cutoff), not charged",
                            product=subscription.product_id.display_name,
                            issue=skipped.issue_id.display_name,
                        ),
                        "quantity": subscription.quantity,
                        "price_unit": sale_line.price_unit
                        * (1 - (sale_line.discount or 0.0) / 100)
                        / subscription.issues_total,
                        "tax_ids": [Command.set(sale_line.tax_id.ids)],
                    }
                )
            )
        return {
            "move_type": "out_refund",
            "partner_id": invoice.partner_id.id,
            "company_id": invoice.company_id.id,
            "currency_id": invoice.currency_id.id,
            "journal_id": invoice.journal_id.id,
            "reversed_entry_id": invoice.id,
            "invoice_origin": invoice.name,
            "ref": self.env._("Issues not charged: %(invoice)s", invoice=invoice.name),
            "invoice_line_ids": lines,
        }

    def action_create_credit_note(self):
        todo = self.filtered(lambda s: s.state == "to_credit")
        if not todo:
            raise UserError(self.env._("Nothing is left to credit."))
        without_invoice = todo.filtered(lambda s: not s.invoice_ids)
        if without_invoice:
            raise UserError(
                self.env._(
                    "Skipped issue %(issue)s has no invoice to credit: mark it as "
                    "needing no credit.",
                    issue=without_invoice[0].display_name,
                )
            )
        by_invoice = {}
        for skipped in todo:
            invoice = skipped.invoice_ids.sorted("id")[:1]
            by_invoice.setdefault(invoice, self.browse())
            by_invoice[invoice] |= skipped
        credit_notes = self.env["account.move"]
        for invoice, skipped in by_invoice.items():
            credit_note = self.env["account.move"].create(
                skipped._prepare_credit_note_vals(invoice)
            )
            skipped.write({"state": "credited", "credit_note_id": credit_note.id})
            credit_notes |= credit_note
        return credit_notes._get_records_action(name=self.env._("Credit notes"))

    def action_mark_settled(self):
        self.filtered(lambda s: s.state == "to_credit").state = "settled"

    def action_reset_to_credit(self):
        self.filtered(lambda s: s.state == "settled").state = "to_credit"
