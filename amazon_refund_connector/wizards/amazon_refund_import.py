from datetime import datetime, time, timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class AmazonRefundImport(models.TransientModel):
    """Import the refunds Amazon posted in a period, whatever the cursor."""

    _name = "amazon.refund.import"
    _inherit = "amazon.order.wizard.mixin"
    _description = "Import Amazon refunds of a period"

    date_from = fields.Date(
        string="From", required=True, default=lambda self: self._default_from()
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)

    @api.model
    def _default_from(self):
        return fields.Date.context_today(self) - timedelta(days=30)

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(
                    self.env._("The period must start before it ends.")
                )

    def action_import(self):
        self.ensure_one()
        start = datetime.combine(self.date_from, time.min)
        end = datetime.combine(self.date_to + timedelta(days=1), time.min)
        result, notification = self._run(
            lambda client: self.account_id._import_refunds(client, start, end)
        )
        if notification:
            return notification
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_refund_connector.action_amazon_refund"
        )
        action.update(
            name=self.env._("Refunds imported"),
            domain=[
                ("account_id", "=", self.account_id.id),
                ("refund_ref", "in", result.created + result.skipped),
            ],
            context={"create": False},
        )
        return action
