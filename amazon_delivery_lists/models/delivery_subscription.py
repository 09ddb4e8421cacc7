import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .product_template import PUBLICATION_KINDS

_logger = logging.getLogger(__name__)

ADDRESS_FIELDS = ("street", "zip", "city", "country_id")


class DeliverySubscription(models.Model):
    _name = "delivery.subscription"
    _description = "Publication subscription or single issue"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    kind = fields.Selection(
        PUBLICATION_KINDS, required=True, default="subscription", readonly=True
    )
    state = fields.Selection(
        [
            ("active", "Active"),
            ("done", "Completed"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="active",
        tracking=True,
        copy=False,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True
    )
    partner_shipping_id = fields.Many2one(
        "res.partner",
        string="Delivery address",
        tracking=True,
        help="Where the issues are sent. Lists already made keep the address "
        "they were made with.",
    )
    publication_id = fields.Many2one(
        "delivery.publication", required=True, index=True, ondelete="restrict"
    )
    product_id = fields.Many2one("product.product", ondelete="restrict")
    sale_order_id = fields.Many2one(
        "sale.order",
        string="Sale order",
        index=True,
        readonly=True,
        ondelete="cascade",
    )
    sale_line_id = fields.Many2one(
        "sale.order.line", string="Sale order line", readonly=True, ondelete="set null"
    )
    quantity = fields.Float(
        string="Copies", default=1.0, digits="Product Unit of Measure", required=True
    )
    start_date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="When the subscription was bought.",
    )
    first_issue_id = fields.Many2one(
        "delivery.publication.issue",
        string="First issue",
        domain="[('publication_id', '=', publication_id)]",
        ondelete="restrict",
        tracking=True,
    )
    issues_total = fields.Integer(string="Issues in total", required=True, default=1)
    line_ids = fields.One2many(
        "delivery.list.line", "subscription_id", string="Deliveries"
    )
    skipped_issue_ids = fields.One2many(
        "delivery.skipped.issue", "subscription_id", string="Skipped issues"
    )
    issues_delivered = fields.Integer(
        compute="_compute_issue_counts",
        store=True,
        help="Issues on a delivery, redelivery or subsequent delivery list, or "
        "on the delivery notes of a single issue. Goodwill deliveries do not "
        "count.",
    )
    issues_skipped = fields.Integer(
        compute="_compute_issue_counts",
        store=True,
        string="Issues skipped (not charged)",
        help="Issues not delivered because an invoice was still unpaid at the "
        "payment cutoff. They are not charged.",
    )
    issues_remaining = fields.Integer(compute="_compute_issue_counts", store=True)
    delivery_problem = fields.Char(
        readonly=True,
        copy=False,
        help="Why the subscription was left off the last list it was due on.",
    )

    _sql_constraints = [
        (
            "sale_line_unique",
            "unique(sale_line_id)",
            "A sale order line creates only one subscription.",
        ),
        (
            "issues_total_positive",
            "CHECK(issues_total > 0)",
            "A subscription delivers at least one issue.",
        ),
    ]

    @api.depends("line_ids.is_goodwill", "skipped_issue_ids", "issues_total")
    def _compute_issue_counts(self):
        for subscription in self:
            delivered = len(subscription.line_ids.filtered(lambda x: not x.is_goodwill))
            skipped = len(subscription.skipped_issue_ids)
            subscription.issues_delivered = delivered
            subscription.issues_skipped = skipped
            subscription.issues_remaining = max(
                subscription.issues_total - delivered - skipped, 0
            )

    @api.constrains("first_issue_id", "publication_id")
    def _check_first_issue_publication(self):
        for subscription in self.filtered("first_issue_id"):
            issue = subscription.first_issue_id
            if issue.publication_id != subscription.publication_id:
                raise ValidationError(
                    self.env._(
                        "Issue %(issue)s is not an issue of %(publication)s.",
                        issue=issue.display_name,
                        publication=subscription.publication_id.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("delivery.subscription") or "/"
                )
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_delivered(self):
        delivered = self.filtered("line_ids")
        if delivered:
            raise UserError(
                self.env._(
                    "Subscription %(subscription)s is on delivery lists and cannot be "
                    "deleted; cancel it instead.",
                    subscription=delivered[0].name,
                )
            )

    # -- issues due ---------------------------------------------------------------

    def _window_issues(self, schedule=None):
        """The issues this subscription covers: ``issues_total`` issues from
        its first issue, in the order of their numbers. A skipped issue keeps
        its place in the window: it is not charged, and not delivered later.

        ``schedule`` is the publication's issues sorted by number, when the
        caller has it already.
        """
        self.ensure_one()
        if not self.first_issue_id:
            return self.env["delivery.publication.issue"]
        if schedule is None:
            schedule = self.publication_id.issue_ids.sorted("number")
        start = schedule.ids.index(self.first_issue_id.id)
        return schedule[start : start + self.issues_total]

    def _handled_pairs(self, issues):
        """(subscription id, issue id) among ``issues`` already delivered or
        skipped."""
        domain = [("subscription_id", "in", self.ids), ("issue_id", "in", issues.ids)]
        lines = self.env["delivery.list.line"].search_read(
            [*domain, ("is_goodwill", "=", False)], ["subscription_id", "issue_id"]
        )
        skips = self.env["delivery.skipped.issue"].search_read(
            domain, ["subscription_id", "issue_id"]
        )
        return {
            (row["subscription_id"][0], row["issue_id"][0]) for row in lines + skips
        }

    def _pending_pairs(self, issues):
        """(subscription, issue) pairs among ``issues`` that the subscriptions
        are due and that are neither delivered nor skipped yet."""
        handled = self._handled_pairs(issues)
        schedules = {}
        pairs = []
        for subscription in self.filtered("first_issue_id"):
            publication = subscription.publication_id
            if publication not in schedules:
                schedules[publication] = publication.issue_ids.sorted("number")
            window = subscription._window_issues(schedules[publication])
            for issue in window & issues:
                if (subscription.id, issue.id) not in handled:
                    pairs.append((subscription, issue))
        return sorted(pairs, key=lambda p: (p[1].number, p[0].id))

    # -- checks before listing ---------------------------------------------------

    def _get_address_problem(self):
        """A message when the delivery address cannot be shipped to."""
        self.ensure_one()
        address = self.partner_shipping_id
        if not address:
            return self.env._(
                "The subscription has no delivery address: it is left off the "
                "lists until one is set."
            )
        missing = [
            address._fields[name].get_description(self.env)["string"]
            for name in ADDRESS_FIELDS
            if not address[name]
        ]
        if missing:
            return self.env._(
                "The delivery address %(address)s is incomplete (missing: "
                "%(missing)s): the subscription is left off the lists until it "
                "is completed.",
                address=address.display_name,
                missing=", ".join(missing),
            )
        return False

    def _get_blocking_invoices(self, on_date):
        """Invoices that block each subscription on ``on_date``.

        A subscription is blocked when a posted customer invoice of its sale
        order was due before ``on_date`` and was not paid in full by then.
        Returns {subscription id: account.move recordset}.
        """
        orders = self.sale_order_id
        if not orders:
            return {}
        invoices = self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("invoice_date_due", "<", on_date),
                ("invoice_line_ids.sale_line_ids.order_id", "in", orders.ids),
            ]
        )
        by_order = defaultdict(lambda: self.env["account.move"])
        for invoice in invoices._delivery_unpaid_on(on_date):
            for order in invoice.invoice_line_ids.sale_line_ids.order_id:
                by_order[order.id] |= invoice
        return {
            subscription.id: by_order[subscription.sale_order_id.id]
            for subscription in self
            if subscription.sale_order_id.id in by_order
        }

    def _report_problem(self, message):
        """Show ``message`` on the subscription (once) and in the log."""
        for subscription in self:
            _logger.warning(
                "Subscription %s (id %s): %s",
                subscription.name,
                subscription.id,
                message,
            )
            if subscription.delivery_problem != message:
                subscription.delivery_problem = message
                subscription.message_post(body=message)

    def _refresh_state(self):
        """Complete the subscriptions whose issues are all handled."""
        finished = self.filtered(
            lambda s: (
                s.state == "active" and s.first_issue_id and not s.issues_remaining
            )
        )
        finished.write({"state": "done", "delivery_problem": False})

    def _cancel_for_cancelled_orders(self):
        """Cancel the subscriptions whose sale order was cancelled."""
        cancelled = self.filtered(lambda s: s.sale_order_id.state == "cancel")
        cancelled._cancel_with_message(
            self.env._(
                "The sale order was cancelled: the subscription is cancelled and "
                "appears on no further list."
            )
        )
        return cancelled

    def _cancel_with_message(self, message):
        for subscription in self.filtered(lambda s: s.state != "cancelled"):
            _logger.info(
                "Subscription %s (id %s) cancelled", subscription.name, subscription.id
            )
            subscription.write({"state": "cancelled", "delivery_problem": False})
            subscription.message_post(body=message)

    def _assign_first_issue(self):
        """Give subscriptions bought before the schedule was extended their
        first issue."""
        for subscription in self.filtered(lambda s: not s.first_issue_id):
            issue = subscription.publication_id._get_current_issue(
                subscription.start_date
            )
            if not issue:
                subscription._report_problem(subscription._no_issue_message())
                continue
            subscription.write({"first_issue_id": issue.id, "delivery_problem": False})
            subscription.message_post(
                body=self.env._(
                    "The subscription starts with issue %(issue)s.",
                    issue=issue.display_name,
                )
            )

    def _no_issue_message(self):
        self.ensure_one()
        return self.env._(
            "No upcoming issue of %(publication)s is scheduled: the first issue "
            "is assigned as soon as the schedule is extended.",
            publication=self.publication_id.display_name,
        )

    # -- buttons -----------------------------------------------------------------

    def action_goodwill_delivery(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Goodwill delivery"),
            "res_model": "delivery.goodwill.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_subscription_id": self.id},
        }

    def action_cancel(self):
        self._cancel_with_message(self.env._("The subscription was cancelled."))

    def action_reactivate(self):
        for subscription in self.filtered(lambda s: s.state == "cancelled"):
            if subscription.sale_order_id.state == "cancel":
                raise UserError(
                    self.env._(
                        "Subscription %(subscription)s belongs to the cancelled order "
                        "%(order)s: confirm the order again instead.",
                        subscription=subscription.name,
                        order=subscription.sale_order_id.name,
                    )
                )
            subscription.state = "active"
            subscription.message_post(
                body=self.env._("The subscription is active again.")
            )
        self._refresh_state()

    def action_view_lists(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_delivery_lists.action_delivery_list"
        )
        action["domain"] = [("line_ids.subscription_id", "=", self.id)]
        action["context"] = {}
        return action
