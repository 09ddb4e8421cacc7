from odoo import fields, models
from odoo.tools import SQL


class DeliveryListLine(models.Model):
    _name = "delivery.list.line"
    _description = "Delivery list line"
    _order = "list_id, issue_id, id"

    list_id = fields.Many2one(
        "delivery.list", required=True, index=True, ondelete="cascade"
    )
    list_kind = fields.Selection(related="list_id.kind", store=True, string="List type")
    company_id = fields.Many2one(related="list_id.company_id", store=True, index=True)
    subscription_id = fields.Many2one(
        "delivery.subscription", required=True, index=True, ondelete="restrict"
    )
    issue_id = fields.Many2one(
        "delivery.publication.issue", required=True, index=True, ondelete="restrict"
    )
    # What the list shows of the issue, the product and the recipient is kept
    # as it was when the list was made: a list is a document.
    issue_number = fields.Integer(string="Issue number")
    issue_name = fields.Char(string="Issue name")
    issue_date = fields.Date(
        string="Issue date", help="The issue's publication date when the list was made."
    )
    sale_order_id = fields.Many2one(
        "sale.order", string="Source order", index="btree_not_null"
    )
    product_id = fields.Many2one("product.product")
    product_name = fields.Char(string="Product name")
    partner_id = fields.Many2one(
        "res.partner", string="Recipient contact", index="btree_not_null"
    )
    recipient_name = fields.Char(string="Recipient")
    recipient_company = fields.Char(string="Recipient company")
    street = fields.Char()
    street2 = fields.Char()
    zip = fields.Char(string="ZIP")
    city = fields.Char()
    state_name = fields.Char(string="State")
    country_name = fields.Char(string="Country")
    country_code = fields.Char(string="Country code")
    quantity = fields.Float(digits="Product Unit of Measure", default=1.0)
    is_goodwill = fields.Boolean(
        string="Free of charge",
        help="A goodwill delivery: it does not count against the subscription.",
    )

    def init(self):
        # Whatever the list type, a subscriber gets each issue once; only
        # goodwill deliveries may send an issue again.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s"
                " ON %s (subscription_id, issue_id)"
                " WHERE is_goodwill IS NOT TRUE",
                SQL.identifier("delivery_list_line_subscription_issue_uniq"),
                SQL.identifier(self._table),
            )
        )
