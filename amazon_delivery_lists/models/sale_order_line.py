from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    publication_kind = fields.Selection(related="product_id.publication_kind")
    delivery_publication_id = fields.Many2one(
        related="product_id.publication_id", string="Publication"
    )
    delivery_start_issue_id = fields.Many2one(
        "delivery.publication.issue",
        string="Start issue",
        compute="_compute_delivery_start_issue_id",
        store=True,
        readonly=False,
        copy=False,
        domain="[('publication_id', '=', delivery_publication_id)]",
        help="Subscriptions: the first issue delivered. An issue in the past is "
        "allowed up to the product's limit; its past issues go on a subsequent "
        "delivery list. Single issues: the issue sold.",
    )
    delivery_subscription_ids = fields.One2many(
        "delivery.subscription", "sale_line_id", string="Subscriptions"
    )

    def _delivery_order_date(self):
        self.ensure_one()
        if self.order_id.date_order:
            return fields.Date.context_today(self, self.order_id.date_order)
        return fields.Date.context_today(self)

    @api.depends("product_id")
    def _compute_delivery_start_issue_id(self):
        current = {}
        for line in self:
            template = line.product_id.product_tmpl_id
            if not template.publication_kind or not template.publication_id:
                line.delivery_start_issue_id = False
            elif (
                template.publication_kind == "single_issue"
                and template.publication_issue_id
            ):
                line.delivery_start_issue_id = template.publication_issue_id
            else:
                key = (template.publication_id, line._delivery_order_date())
                if key not in current:
                    current[key] = key[0]._get_current_issue(key[1])
                line.delivery_start_issue_id = current[key]

    @api.constrains("delivery_start_issue_id", "product_id")
    def _check_delivery_start_issue_publication(self):
        for line in self.filtered("delivery_start_issue_id"):
            issue = line.delivery_start_issue_id
            if issue.publication_id != line.delivery_publication_id:
                raise ValidationError(
                    self.env._(
                        "The start issue %(issue)s is not an issue of %(publication)s.",
                        issue=issue.display_name,
                        publication=line.delivery_publication_id.display_name
                        or line.product_id.display_name,
                    )
                )

    def _check_delivery_start_issue(self):
        """Refuse a start further in the past than the product allows."""
        for line in self.filtered(
            lambda x: (
                x.publication_kind == "subscription"
                and x.delivery_start_issue_id
                and not x.delivery_subscription_ids
            )
        ):
            template = line.product_id.product_tmpl_id
            issue = line.delivery_start_issue_id
            issues_back = template.publication_id._count_issues_back(
                issue, line._delivery_order_date()
            )
            if issues_back > template.subscription_max_issues_back:
                raise UserError(
                    self.env._(
                        "Order %(order)s: %(product)s cannot start with issue "
                        "%(issue)s, %(back)s issue(s) in the past. This subscription "
                        "may start at most %(limit)s issue(s) in the past: choose a "
                        "later start issue.",
                        order=line.order_id.name,
                        product=line.product_id.display_name,
                        issue=issue.name,
                        back=issues_back,
                        limit=template.subscription_max_issues_back,
                    )
                )

    def _prepare_delivery_subscription_vals(self):
        self.ensure_one()
        order = self.order_id
        template = self.product_id.product_tmpl_id
        start_date = self._delivery_order_date()
        issue = self.delivery_start_issue_id or (
            template.publication_id._get_current_issue(start_date)
        )
        is_subscription = template.publication_kind == "subscription"
        return {
            "kind": template.publication_kind,
            "company_id": order.company_id.id,
            "partner_id": order.partner_id.id,
            "partner_shipping_id": order.partner_shipping_id.id,
            "publication_id": template.publication_id.id,
            "product_id": self.product_id.id,
            "sale_order_id": order.id,
            "sale_line_id": self.id,
            "quantity": self.product_uom_qty,
            "start_date": start_date,
            "first_issue_id": issue.id,
            "issues_total": template.subscription_issue_count if is_subscription else 1,
        }

    def _create_delivery_subscriptions(self):
        """One subscription (or single-issue delivery) per line, once."""
        lines = self.filtered(
            lambda x: (
                x.publication_kind
                and x.delivery_publication_id
                and x.product_uom_qty > 0
            )
        )
        Subscription = self.env["delivery.subscription"]
        existing = Subscription.search([("sale_line_id", "in", lines.ids)])
        for subscription in existing.filtered(lambda s: s.state == "cancelled"):
            subscription.state = "active"
            subscription.message_post(
                body=self.env._(
                    "Order %(order)s was confirmed again: the subscription is active "
                    "again.",
                    order=subscription.sale_order_id.name,
                )
            )
        existing._refresh_state()
        new_lines = lines - existing.sale_line_id
        subscriptions = Subscription.create(
            [line._prepare_delivery_subscription_vals() for line in new_lines]
        )
        for subscription in subscriptions:
            subscription.message_post(
                body=self.env._(
                    "Created from order %(order)s.",
                    order=subscription.sale_order_id.name,
                )
            )
            if not subscription.first_issue_id:
                subscription._report_problem(subscription._no_issue_message())
        return subscriptions
