from odoo import fields, models


class AmazonOrderRecover(models.TransientModel):
    _name = "amazon.order.recover"
    _inherit = "amazon.order.wizard.mixin"
    _description = "Recover an Amazon order"

    order_ref = fields.Char(
        string="Amazon order reference",
        required=True,
        help="e.g. 302-1234567-1234567. The order is imported, or refreshed if "
        "it was imported before, whatever the date of the last sync.",
    )

    def action_recover(self):
        self.ensure_one()
        account = self.account_id
        result, refused = self._run(
            lambda client: account._recover_order(client, self.order_ref)
        )
        if refused:
            return refused
        if not result.order_ids:
            reasons = [message for _time, message in result.failures.values()]
            message = "\n".join(reasons) or self.env._(
                "Order %s is not imported: its Amazon status is not one the "
                "connector imports (FBA: shipped or cancelled; FBM: unshipped, "
                "partially shipped, shipped or cancelled).",
                self.order_ref,
            )
            return account._notify(self._description, message, "warning")
        action = self._open_orders(result, self.env._("Recovered Amazon order"))
        if len(result.order_ids) == 1:
            action.update(
                view_mode="form", res_id=result.order_ids[0], views=[(False, "form")]
            )
        return action
