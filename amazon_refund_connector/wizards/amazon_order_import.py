from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..sp_api import AmazonError, AmazonThrottled


class AmazonOrderWizardMixin(models.AbstractModel):
    _name = "amazon.order.wizard.mixin"
    _description = "Amazon order wizard (shared)"

    account_id = fields.Many2one(
        "amazon.account",
        required=True,
        default=lambda self: self._default_account(),
        domain="[('company_id', 'in', allowed_company_ids)]",
    )

    @api.model
    def _default_account(self):
        if self.env.context.get("active_model") == "amazon.account":
            return self.env.context.get("active_id")
        return self.env["amazon.account"].search([], limit=1).id

    def _run(self, work):
        """Run ``work(client)`` for the account.

        Returns ``(result, None)``, or ``(None, notification)`` when Amazon
        refused: the error stays on the account (a raised error would undo
        that) and the notification says it in plain words.
        """
        account = self.account_id
        client = None
        try:
            client = account._get_client(interactive=True)
            return work(client), None
        except AmazonThrottled as error:
            message = account._amazon_error_message(error)
            return None, account._notify(self._description, message, "warning")
        except AmazonError as error:
            message = account._record_amazon_error(error, self._description)
            return None, account._notify(self._description, message, "danger")
        finally:
            if client:
                client.close()

    def _open_orders(self, result, title):
        orders = self.env["sale.order"].browse(result.order_ids)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_refund_connector.action_amazon_orders"
        )
        action.update(
            name=title,
            domain=[("id", "in", orders.ids)],
            context={"create": False},
            help=self._result_help(result),
        )
        return action

    def _result_help(self, result):
        lines = [self.account_id._sync_summary(result)]
        lines += [message for _time, message in result.failures.values()]
        # Amazon's values appear in the messages: escape them.
        return Markup("").join(Markup("<p>%s</p>") % line for line in lines)


class AmazonOrderImport(models.TransientModel):
    _name = "amazon.order.import"
    _inherit = "amazon.order.wizard.mixin"
    _description = "Import Amazon orders of a period"

    days = fields.Integer(
        string="Period (days)",
        default=7,
        required=True,
        help="Orders placed during this many last days are imported or "
        "refreshed. The automatic sync's cursor does not move.",
    )

    @api.constrains("days")
    def _check_days(self):
        for wizard in self:
            if not 1 <= wizard.days <= 730:
                raise ValidationError(
                    self.env._("The period must be between 1 and 730 days.")
                )

    def action_import(self):
        self.ensure_one()
        result, refused = self._run(
            lambda client: self.account_id._import_orders_since(client, self.days)
        )
        if refused:
            return refused
        return self._open_orders(
            result, self.env._("Amazon orders of the last %s days", self.days)
        )
