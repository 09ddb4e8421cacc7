from odoo import api, fields, models
from odoo.exceptions import ValidationError

PUBLICATION_KINDS = [
    ("subscription", "Issue-based subscription"),
    ("single_issue", "Single issue"),
]


class ProductTemplate(models.Model):
    _inherit = "product.template"

    publication_kind = fields.Selection(
        PUBLICATION_KINDS,
        string="Publication product",
        help="Issue-based subscription: the customer receives a number of "
        "consecutive issues of the publication.\n"
        "Single issue: the customer receives one issue, shipped with a "
        "delivery note.",
    )
    publication_id = fields.Many2one("delivery.publication", ondelete="restrict")
    subscription_issue_count = fields.Integer(
        string="Issues in the subscription",
        default=12,
        help="Number of issues one subscription delivers.",
    )
    subscription_max_issues_back = fields.Integer(
        string="Start up to (issues back)",
        help="How many issues in the past a subscription may start. The past "
        "issues are sent on a subsequent delivery list and count against the "
        "subscription's issues.",
    )
    publication_issue_id = fields.Many2one(
        "delivery.publication.issue",
        string="Issue sold",
        domain="[('publication_id', '=', publication_id)]",
        ondelete="restrict",
        help="The issue a single-issue product stands for. Empty: the current "
        "issue when the order is placed.",
    )

    @api.constrains(
        "publication_kind",
        "publication_id",
        "subscription_issue_count",
        "subscription_max_issues_back",
        "publication_issue_id",
    )
    def _check_publication_settings(self):
        for template in self.filtered("publication_kind"):
            if not template.publication_id:
                raise ValidationError(
                    self.env._(
                        "Product %(product)s is a publication product: choose its "
                        "publication.",
                        product=template.display_name,
                    )
                )
            if (
                template.publication_kind == "subscription"
                and template.subscription_issue_count < 1
            ):
                raise ValidationError(
                    self.env._(
                        "Subscription %(product)s must deliver at least one issue.",
                        product=template.display_name,
                    )
                )
            if template.subscription_max_issues_back < 0:
                raise ValidationError(
                    self.env._(
                        "The number of issues a subscription may start in the past "
                        "cannot be negative (%(product)s).",
                        product=template.display_name,
                    )
                )
            issue = template.publication_issue_id
            if issue and issue.publication_id != template.publication_id:
                raise ValidationError(
                    self.env._(
                        "Issue %(issue)s does not belong to publication "
                        "%(publication)s.",
                        issue=issue.display_name,
                        publication=template.publication_id.display_name,
                    )
                )
