from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class DeliveryGoodwillWizard(models.TransientModel):
    _name = "delivery.goodwill.wizard"
    _description = "Send issues free of charge"

    subscription_id = fields.Many2one(
        "delivery.subscription", required=True, ondelete="cascade"
    )
    publication_id = fields.Many2one(related="subscription_id.publication_id")
    partner_shipping_id = fields.Many2one(
        related="subscription_id.partner_shipping_id", string="Delivery address"
    )
    issue_ids = fields.Many2many(
        "delivery.publication.issue",
        string="Issues to send",
        domain="[('publication_id', '=', publication_id)]",
    )
    quantity = fields.Float(
        string="Copies per issue", default=1.0, digits="Product Unit of Measure"
    )
    reason = fields.Char(help="Why the issues are sent free of charge.")

    @api.constrains("quantity")
    def _check_quantity(self):
        if any(wizard.quantity <= 0 for wizard in self):
            raise ValidationError(self.env._("Send at least one copy of each issue."))

    def action_send(self):
        self.ensure_one()
        if not self.issue_ids:
            raise UserError(self.env._("Choose the issues to send."))
        subscription = self.subscription_id
        if subscription.state == "cancelled":
            raise UserError(
                self.env._(
                    "Subscription %(subscription)s is cancelled.",
                    subscription=subscription.name,
                )
            )
        problem = subscription._get_address_problem()
        if problem:
            raise UserError(problem)
        delivery_list = self.env["delivery.list"]._create_goodwill_notes(
            subscription, self.issue_ids, self.quantity, self.reason
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "delivery.list",
            "res_id": delivery_list.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
