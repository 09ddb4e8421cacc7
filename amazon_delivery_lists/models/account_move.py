from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _delivery_unpaid_on(self, on_date):
        """The customer invoices of ``self`` not settled in full on ``on_date``.

        An invoice counts as settled by what was reconciled with its
        receivable lines on or before that day (payments, credit notes), and
        by payments of that day or earlier that have no journal entry.
        """
        unpaid = self.browse()
        for invoice in self:
            receivable = invoice.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            )
            due = sum(receivable.mapped("balance"))
            settled = sum(
                partial.amount
                for partial in receivable.matched_credit_ids
                if partial.max_date <= on_date
            )
            settled += sum(
                payment.amount_company_currency_signed
                for payment in invoice.matched_payment_ids
                if not payment.move_id
                and payment.state in ("in_process", "paid")
                and payment.date <= on_date
            )
            if invoice.company_currency_id.compare_amounts(due, settled) > 0:
                unpaid |= invoice
        return unpaid
