from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    delivery_subscription_ids = fields.One2many(
        "delivery.subscription", "sale_order_id", string="Subscriptions"
    )
    delivery_subscription_count = fields.Integer(
        compute="_compute_delivery_subscription_count"
    )

    @api.depends("delivery_subscription_ids")
    def _compute_delivery_subscription_count(self):
        for order in self:
            order.delivery_subscription_count = len(order.delivery_subscription_ids)

    def _delivery_lines(self):
        return self.order_line.filtered(
            lambda line: line.publication_kind and not line.display_type
        )

    def _action_confirm(self):
        lines = self._delivery_lines()
        lines._check_delivery_start_issue()
        result = super()._action_confirm()
        lines._create_delivery_subscriptions()
        return result

    def _action_cancel(self):
        result = super()._action_cancel()
        self.delivery_subscription_ids._cancel_for_cancelled_orders()
        return result

    def action_view_delivery_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_delivery_lists.action_delivery_subscription"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {}
        if len(self.delivery_subscription_ids) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = self.delivery_subscription_ids.id
        return action
