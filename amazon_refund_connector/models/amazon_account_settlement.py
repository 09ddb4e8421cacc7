"""Settlement configuration and jobs of an Amazon account.

Each account gets an "Amazon payments" bank journal per settlement currency,
made on first need, with an outstanding receipts account of its own; the
expense accounts of Amazon's fees are set here, prefilled from the
company's chart of accounts.
"""

from contextlib import contextmanager

from odoo import api, fields, models

from ..sp_api import AmazonError, AmazonThrottled
from .amazon_account import SyncRunning

# Advisory lock class of an account's settlement import (with the account id).
SETTLEMENT_SYNC_LOCK = 7312

# fee account field: names searched in the company's chart, in this order
FEE_ACCOUNT_HINTS = {
    "settlement_commission_account_id": ("commission", "sales expense"),
    "settlement_fba_fee_account_id": (
        "fulfil",
        "freight",
        "shipping",
        "sales expense",
    ),
    "settlement_refund_commission_account_id": ("commission", "sales expense"),
    "settlement_service_fee_account_id": ("service fee", "bank fee", "fees"),
    "settlement_advertising_account_id": ("advertis", "marketing", "sales expense"),
}
FEE_FIELDS = {
    "commission": "settlement_commission_account_id",
    "fba_fee": "settlement_fba_fee_account_id",
    "refund_commission": "settlement_refund_commission_account_id",
    "service": "settlement_service_fee_account_id",
    "advertising": "settlement_advertising_account_id",
}


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    auto_import_settlements = fields.Boolean(
        string="Import settlements automatically",
        default=True,
        tracking=True,
        help="Read the settlement reports Amazon makes every two weeks into "
        "the account's Amazon payments journal and reconcile them.",
    )
    last_settlement_sync = fields.Datetime(
        string="Last settlement import",
        copy=False,
        help="Settlement reports Amazon created after this moment (less a "
        "day) are read next.",
    )
    settlement_journal_ids = fields.One2many(
        "account.journal",
        "amazon_account_id",
        string="Amazon payments journals",
        readonly=True,
    )
    settlement_count = fields.Integer(compute="_compute_settlement_count")
    settlement_commission_account_id = fields.Many2one(
        "account.account",
        string="Commissions",
        check_company=True,
        help="Expense account of Amazon's referral fees and closing fees.",
    )
    settlement_fba_fee_account_id = fields.Many2one(
        "account.account",
        string="FBA fulfilment fees",
        check_company=True,
        help="Expense account of FBA fulfilment fees and the shipping and gift "
        "wrap charges Amazon keeps on FBA orders.",
    )
    settlement_refund_commission_account_id = fields.Many2one(
        "account.account",
        string="Refund commissions",
        check_company=True,
        help="Expense account of the part of the commission Amazon keeps on a "
        "refund, and of the commission it gives back.",
    )
    settlement_service_fee_account_id = fields.Many2one(
        "account.account",
        string="Subscription and other service fees",
        check_company=True,
        help="Expense account of the subscription, storage and other service "
        "fees, and of reimbursements and adjustments.",
    )
    settlement_advertising_account_id = fields.Many2one(
        "account.account",
        string="Advertising",
        check_company=True,
        help="Expense account of Amazon's advertising costs.",
    )
    settlement_reserve_account_id = fields.Many2one(
        "account.account",
        string="Reserve held by Amazon",
        check_company=True,
        help="Current asset account of the money Amazon holds back from a "
        "settlement and releases in the next one. Made with the first "
        "payments journal when empty.",
    )
    settlement_transfer_account_id = fields.Many2one(
        "account.account",
        string="Payout transfer account",
        check_company=True,
        help="Account the payout to the bank goes through: the bank's statement "
        "line of the deposit is reconciled with it. By default the company's "
        "internal transfer account.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        for account in accounts:
            # Prefilled from the chart of the account's own company.
            account._amazon_fee_accounts()
        return accounts

    def _compute_settlement_count(self):
        counts = dict(
            self.env["amazon.settlement"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.settlement_count = counts.get(account, 0)

    def action_view_settlements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_refund_connector.action_amazon_settlement"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    # -- accounts and journals -----------------------------------------------

    @api.model
    def _default_fee_account(self, field_name, company=None):
        """An expense account of the company's chart for a fee field."""
        company = company or self.env.company
        accounts = self.env["account.account"].sudo()
        domain = [
            ("company_ids", "in", company.root_id.id),
            ("account_type", "=", "expense"),
            ("deprecated", "=", False),
        ]
        for hint in FEE_ACCOUNT_HINTS.get(field_name, ()):
            found = accounts.search([*domain, ("name", "ilike", hint)], limit=1)
            if found:
                return found.id
        return accounts.search(domain, order="code", limit=1).id or False

    def _amazon_fee_accounts(self):
        """``{fee key: account.account}``; empty fields are filled from the chart."""
        self.ensure_one()
        account = self.sudo()
        missing = {}
        for field_name in FEE_FIELDS.values():
            if not account[field_name]:
                default = self._default_fee_account(field_name, self.company_id)
                if default:
                    missing[field_name] = default
        if missing:
            account.write(missing)
        return {key: account[name] for key, name in FEE_FIELDS.items()}

    def _amazon_transfer_account(self):
        self.ensure_one()
        return (
            self.sudo().settlement_transfer_account_id
            or self.company_id.sudo().transfer_account_id
        )

    def _amazon_reserve_account(self):
        self.ensure_one()
        account = self.sudo()
        if not account.settlement_reserve_account_id:
            account.settlement_reserve_account_id = self._amazon_new_account(
                self.env._("Amazon reserve (%s)", self.name), "1285"
            )
        return account.settlement_reserve_account_id

    def _amazon_withheld_tax_account(self):
        """Where tax Amazon collected and keeps (marketplace facilitator) goes:
        the tax account of the company's default sales tax."""
        self.ensure_one()
        tax = self.company_id.sudo().account_sale_tax_id
        lines = tax.invoice_repartition_line_ids.filtered(
            lambda line: line.repartition_type == "tax" and line.account_id
        )
        return lines[:1].account_id

    def _amazon_new_account(self, name, prefix):
        company = self.company_id.sudo()
        accounts = self.env["account.account"].sudo().with_company(company)
        return accounts.create(
            {
                "name": name,
                "code": accounts._search_new_account_code(prefix),
                "account_type": "asset_current",
                "reconcile": True,
                "company_ids": [(6, 0, company.ids)],
            }
        )

    def _amazon_payments_journal(self, currency):
        """The account's Amazon payments journal in ``currency``, made when
        there is none yet, with its own outstanding receipts account."""
        self.ensure_one()
        company = self.company_id
        journals = self.env["account.journal"].sudo()
        journal_currency = currency if currency != company.currency_id else False
        journal = journals.search(
            [
                ("amazon_account_id", "=", self.id),
                ("type", "=", "bank"),
                ("currency_id", "=", journal_currency and journal_currency.id),
                ("company_id", "=", company.id),
            ],
            limit=1,
        )
        if journal:
            return journal
        code = self._amazon_journal_code()
        outstanding = self._amazon_new_account(
            self.env._(
                "Amazon outstanding receipts (%(account)s, %(currency)s)",
                account=self.name,
                currency=currency.name,
            ),
            company.bank_account_code_prefix or "1014",
        )
        journal = journals.create(
            {
                "name": self.env._(
                    "Amazon payments %(currency)s (%(account)s)",
                    currency=currency.name,
                    account=self.name,
                ),
                "code": code,
                "type": "bank",
                "company_id": company.id,
                "currency_id": journal_currency and journal_currency.id,
                "amazon_account_id": self.id,
            }
        )
        journal.inbound_payment_method_line_ids.payment_account_id = outstanding
        if not self.journal_id:
            self.sudo().journal_id = journal
        return journal

    def _amazon_journal_code(self):
        taken = set(
            self.env["account.journal"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", self.company_id.id)])
            .mapped("code")
        )
        number = 1
        while f"AMZ{number}" in taken:
            number += 1
        return f"AMZ{number}"

    # -- jobs ------------------------------------------------------------------

    def action_import_settlements(self):
        """Button: import the settlements Amazon made since the last import."""
        self.ensure_one()
        client = None
        try:
            client = self._get_client(interactive=True)
            result = self._import_settlements(client)
        except AmazonThrottled as error:
            self._enqueue_settlement_import()
            return self._notify(
                self.env._("Settlement import continues in the background"),
                self._amazon_error_message(error),
                "warning",
            )
        except AmazonError as error:
            message = self._record_amazon_error(
                error, self.env._("Settlement import failed")
            )
            return self._notify(
                self.env._("Settlement import failed"), message, "danger"
            )
        finally:
            if client:
                client.close()
        return self._notify(
            self.env._("Settlements imported"),
            self.env["amazon.settlement"]._amazon_summary(result),
            "warning" if result.failures else "success",
        )

    @api.model
    def _cron_import_settlements(self):
        """Enqueue a settlement import per account that imports them."""
        for account in self.search([("auto_import_settlements", "=", True)]):
            account._enqueue_settlement_import()

    def _enqueue_settlement_import(self):
        self.ensure_one()
        return self.with_delay(
            channel="root.amazon",
            identity_key=f"amazon-settlement-import-{self.id}",
            description=self.env._("Amazon: import settlements of %s", self.name),
        )._job_import_settlements()

    def _job_import_settlements(self):
        self.ensure_one()
        return self._run_amazon_job(
            self.env._("Settlement import failed"),
            lambda client: self.env["amazon.settlement"]._amazon_summary(
                self.with_context(amazon_commit_pages=True)._import_settlements(client)
            ),
        )

    def _import_settlements(self, client):
        """Import the settlement reports Amazon made since the cursor."""
        self.ensure_one()
        with self._settlement_lock():
            return self.env["amazon.settlement"]._amazon_import(self, client)

    @contextmanager
    def _settlement_lock(self):
        """The account's settlement lock (a session lock on a connection of
        its own, as the order sync's), or SyncRunning."""
        with self.env.registry.cursor() as lock_cr:
            lock_cr.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (SETTLEMENT_SYNC_LOCK, self.id)
            )
            if not lock_cr.fetchone()[0]:
                raise SyncRunning(
                    self.env._(
                        "Settlements of %s are being imported already; try again "
                        "in a moment.",
                        self.name,
                    )
                )
            try:
                yield
            finally:
                lock_cr.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", (SETTLEMENT_SYNC_LOCK, self.id)
                )
