from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    amazon_refund_ids = fields.One2many(
        "amazon.refund", "credit_note_id", string="Amazon refunds", readonly=True
    )
    amazon_refund_count = fields.Integer(compute="_compute_amazon_refund_count")
    amazon_refund_available = fields.Boolean(
        compute="_compute_amazon_refund_available",
        help="A posted credit note of the invoice of a merchant-fulfilled "
        "Amazon order: its refund can be sent to Amazon.",
    )

    @api.depends("move_type", "state", "reversed_entry_id")
    def _compute_amazon_refund_available(self):
        for move in self:
            move.amazon_refund_available = not move._amazon_refund_problem(
                move._amazon_refund_order()
            )

    def _amazon_refund_order(self):
        """The Amazon order whose invoice this credit note reverses."""
        self.ensure_one()
        invoice = self.reversed_entry_id
        sales = (invoice.invoice_line_ids.sale_line_ids.order_id).filtered(
            "amazon_order_ref"
        )
        return sales[:1]

    def _amazon_refund_problem(self, sale):
        """Why this move's refund cannot be sent to Amazon (a sentence), or False."""
        self.ensure_one()
        if self.move_type != "out_refund":
            return self.env._("Only a customer credit note can be refunded on Amazon.")
        if self.state == "draft":
            return self.env._("Post the credit note before refunding it on Amazon.")
        if self.state == "cancel":
            return self.env._("A cancelled credit note cannot be refunded on Amazon.")
        if not sale:
            return self.env._(
                "The credit note was not made from the invoice of an Amazon order."
            )
        if self.amazon_refund_ids.filtered(lambda r: r.origin != "odoo"):
            return self.env._(
                "This credit note records a refund Amazon made itself: there is "
                "nothing to send."
            )
        if sale.amazon_channel != "FBM":
            return self.env._(
                "Order %s is fulfilled by Amazon: Amazon refunds FBA orders itself.",
                sale.amazon_order_ref,
            )
        return False

    def action_amazon_refund(self):
        """Button: open the wizard sending this credit note's refund to Amazon."""
        self.ensure_one()
        return self.env["amazon.refund.submit"]._open_for(self)

    def _compute_amazon_refund_count(self):
        counts = dict(
            self.env["amazon.refund"]._read_group(
                [("credit_note_id", "in", self.ids)], ["credit_note_id"], ["__count"]
            )
        )
        for move in self:
            move.amazon_refund_count = counts.get(move, 0)

    def action_view_amazon_refunds(self):
        self.ensure_one()
        return self.env["amazon.refund"]._amazon_action(
            [("credit_note_id", "=", self.id)]
        )

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        # Posting an invoice subscribes its customer: never an Amazon buyer,
        # whose address is Amazon's relay and who must get no Odoo e-mail.
        if partner_ids:
            partner_ids = (
                self.env["res.partner"].browse(partner_ids)._amazon_buyers_removed().ids
            )
        return super().message_subscribe(partner_ids, subtype_ids)
