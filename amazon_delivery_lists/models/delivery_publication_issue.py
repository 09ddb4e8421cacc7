import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

_logger = logging.getLogger(__name__)


class DeliveryPublicationIssue(models.Model):
    _name = "delivery.publication.issue"
    _description = "Publication issue"
    _order = "publication_id, number"

    publication_id = fields.Many2one(
        "delivery.publication", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        related="publication_id.company_id", store=True, index=True
    )
    number = fields.Integer(
        required=True,
        help="Issues are delivered in the order of their numbers.",
    )
    name = fields.Char(required=True, help="How the issue is called, e.g. 33/2025.")
    publication_date = fields.Date(required=True)
    delivery_list_date = fields.Date(
        compute="_compute_list_dates", store=True, string="Delivery list on"
    )
    payment_cutoff_date = fields.Date(
        compute="_compute_list_dates", store=True, string="Payment cutoff"
    )
    redelivery_list_date = fields.Date(
        compute="_compute_list_dates", store=True, string="Redelivery list on"
    )
    list_ids = fields.One2many("delivery.list", "issue_id", string="Lists")
    delivery_list_id = fields.Many2one(
        "delivery.list", compute="_compute_issue_lists", string="Delivery list"
    )
    redelivery_list_id = fields.Many2one(
        "delivery.list", compute="_compute_issue_lists", string="Redelivery list"
    )
    schedule_note = fields.Char(
        readonly=True,
        copy=False,
        help="Set when the issue's date was moved after its lists were made.",
    )

    _sql_constraints = [
        (
            "number_unique",
            "unique(publication_id, number)",
            "Each issue number can be used only once per publication.",
        ),
    ]

    @api.depends(
        "publication_date",
        "publication_id.delivery_list_days",
        "publication_id.payment_cutoff_days",
        "publication_id.redelivery_list_days",
    )
    def _compute_list_dates(self):
        for issue in self:
            publication = issue.publication_id
            if not issue.publication_date:
                issue.delivery_list_date = False
                issue.payment_cutoff_date = False
                issue.redelivery_list_date = False
                continue
            delivery = issue.publication_date - timedelta(
                days=publication.delivery_list_days
            )
            issue.delivery_list_date = delivery
            issue.payment_cutoff_date = delivery + timedelta(
                days=publication.payment_cutoff_days
            )
            issue.redelivery_list_date = delivery + timedelta(
                days=publication.redelivery_list_days
            )

    @api.depends("list_ids.kind")
    def _compute_issue_lists(self):
        for issue in self:
            lists = issue.list_ids
            issue.delivery_list_id = lists.filtered(lambda x: x.kind == "delivery")[:1]
            issue.redelivery_list_id = lists.filtered(lambda x: x.kind == "redelivery")[
                :1
            ]

    @api.depends("name", "publication_id.name")
    def _compute_display_name(self):
        for issue in self:
            issue.display_name = f"{issue.publication_id.name or ''} {issue.name or ''}"

    def write(self, vals):
        moved = self.browse()
        if "publication_date" in vals:
            new_date = fields.Date.to_date(vals["publication_date"])
            moved = self.filtered(
                lambda issue: issue.list_ids and issue.publication_date != new_date
            )
            old_dates = {issue.id: issue.publication_date for issue in moved}
        result = super().write(vals)
        for issue in moved:
            issue._notify_moved_after_lists(old_dates[issue.id])
        return result

    def _notify_moved_after_lists(self, old_date):
        """Keep the lists already made, and say so where it matters."""
        self.ensure_one()
        note = self.env._(
            "Issue %(issue)s moved from %(old)s to %(new)s after its lists were "
            "made (%(lists)s). These lists stay as they are and are not "
            "generated again; lists still due follow the new date.",
            issue=self.display_name,
            old=format_date(self.env, old_date),
            new=format_date(self.env, self.publication_date),
            lists=", ".join(self.list_ids.mapped("name")),
        )
        _logger.warning(
            "Issue %s (id %s) moved after its lists were made", self.name, self.id
        )
        self.schedule_note = note
        self.publication_id.message_post(body=note)
        for delivery_list in self.list_ids:
            delivery_list.message_post(body=note)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_listed(self):
        listed = self.filtered("list_ids")
        if listed:
            raise UserError(
                self.env._(
                    "Issue %(issue)s is already on delivery lists and cannot be "
                    "deleted; change its date instead.",
                    issue=listed[0].display_name,
                )
            )
