from odoo import fields, models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    amazon_account_id = fields.Many2one(
        "amazon.account",
        string="Amazon account",
        index="btree_not_null",
        readonly=True,
        ondelete="restrict",
        help="The Amazon account whose settlements this journal receives.",
    )
