from odoo import fields, models

SETTLEMENT_LINE_KINDS = [
    ("sale", "Order payment"),
    ("sale_fees", "Order fees"),
    ("refund", "Refund"),
    ("refund_fees", "Refund fees"),
    ("service_fee", "Service fee"),
    ("advertising", "Advertising"),
    ("reserve", "Reserve"),
    ("transfer", "Transfer"),
    ("other", "Other transaction"),
    ("unknown", "Unknown to the connector"),
    ("payout", "Payout"),
]
MATCH_STATES = [("matched", "Reconciled"), ("unmatched", "To review")]


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    amazon_settlement_id = fields.Many2one(
        "amazon.settlement",
        string="Amazon settlement",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
    )
    amazon_kind = fields.Selection(
        SETTLEMENT_LINE_KINDS, string="Amazon line type", readonly=True
    )
    amazon_transaction_type = fields.Char(
        string="Amazon transaction type", readonly=True
    )
    amazon_order_ref = fields.Char(
        string="Amazon order", index="btree_not_null", readonly=True
    )
    amazon_adjustment_ref = fields.Char(string="Amazon adjustment", readonly=True)
    amazon_sku = fields.Char(string="Amazon SKU", readonly=True)
    amazon_posted_date = fields.Datetime(string="Amazon posted", readonly=True)
    amazon_match_state = fields.Selection(
        MATCH_STATES, string="Amazon reconciliation", readonly=True, index=True
    )
