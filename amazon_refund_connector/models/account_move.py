from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    amazon_refund_ids = fields.One2many(
        "amazon.refund", "credit_note_id", string="Amazon refunds", readonly=True
    )
    amazon_refund_count = fields.Integer(compute="_compute_amazon_refund_count")

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
