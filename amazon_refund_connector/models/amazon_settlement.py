"""Amazon's settlements, imported as bank statements of the payments journal.

One record per settlement id and account, enforced in the database: a
report read again (or listed twice by Amazon) changes nothing. A report
that cannot be imported (Amazon failed to make it, the document cannot be
read, a currency without a rate) is kept as a failed record with the reason
and read again at the next import.
"""

import logging
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta

from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models
from odoo.tools import config

from ..sp_api import AmazonError, AmazonThrottled
from ..sp_api.reports import (
    REPORT_RETENTION,
    SETTLEMENT_REPORT_TYPE,
    MalformedReport,
    SettlementReader,
    download_document,
    entries,
    get_report_document,
    iter_reports,
    read_totals,
    text_lines,
)
from .settlement_statement_builder import SettlementStatementBuilder

_logger = logging.getLogger(__name__)

STATES = [
    ("imported", "Imported"),
    ("unbalanced", "Rows do not add up"),
    ("failed", "Not imported"),
]
# Reports listed again before the cursor (Amazon may list a report late).
LISTING_OVERLAP = timedelta(days=1)


@dataclass
class SettlementResult:
    created: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    waiting: list = field(default_factory=list)
    failures: dict = field(default_factory=dict)
    unmatched: int = 0


class AmazonSettlement(models.Model):
    _name = "amazon.settlement"
    _description = "Amazon settlement"
    _order = "end_date desc, id desc"
    _check_company_auto = True
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    account_id = fields.Many2one(
        "amazon.account", required=True, index=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    settlement_ref = fields.Char(string="Settlement ID", readonly=True, index=True)
    report_ref = fields.Char(string="Report ID", readonly=True, index=True)
    duplicate_report_refs = fields.Char(
        string="Also listed as",
        readonly=True,
        help="Other reports of Amazon for the same settlement, not imported again.",
    )
    marketplace_id = fields.Many2one("amazon.marketplace", readonly=True)
    start_date = fields.Datetime(string="From", readonly=True)
    end_date = fields.Datetime(string="To", readonly=True)
    deposit_date = fields.Datetime(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    total_amount = fields.Monetary(string="Total", readonly=True)
    rows_total = fields.Monetary(
        string="Rows add up to",
        readonly=True,
        help="The sum of the report's rows; it is the total unless Amazon's "
        "report does not add up.",
    )
    row_count = fields.Integer(string="Rows", readonly=True)
    statement_id = fields.Many2one(
        "account.bank.statement", string="Statement", readonly=True, index=True
    )
    journal_id = fields.Many2one(
        "account.journal", string="Journal", readonly=True, check_company=True
    )
    state = fields.Selection(STATES, required=True, default="imported", readonly=True)
    message = fields.Text(readonly=True)
    statement_line_ids = fields.One2many(
        "account.bank.statement.line", "amazon_settlement_id", readonly=True
    )
    line_count = fields.Integer(string="Lines", compute="_compute_line_figures")
    matched_count = fields.Integer(string="Reconciled", compute="_compute_line_figures")
    unmatched_count = fields.Integer(
        string="To review", compute="_compute_line_figures"
    )
    matched_amount = fields.Monetary(
        string="Reconciled amount", compute="_compute_line_figures"
    )
    unmatched_amount = fields.Monetary(
        string="Amount to review", compute="_compute_line_figures"
    )

    _sql_constraints = [
        (
            "settlement_ref_unique",
            "unique(account_id, settlement_ref)",
            "An Amazon settlement is imported once per account.",
        ),
    ]

    @api.depends("settlement_ref", "report_ref")
    def _compute_name(self):
        for settlement in self:
            settlement.name = settlement.settlement_ref or self.env._(
                "Report %s", settlement.report_ref or "-"
            )

    def _compute_line_figures(self):
        figures = {
            (settlement, state): (count, amount)
            for settlement, state, count, amount in self.env[
                "account.bank.statement.line"
            ]
            .sudo()
            ._read_group(
                [("amazon_settlement_id", "in", self.ids)],
                ["amazon_settlement_id", "amazon_match_state"],
                ["__count", "amount:sum"],
            )
        }
        for settlement in self:
            matched = figures.get((settlement, "matched"), (0, 0.0))
            unmatched = figures.get((settlement, "unmatched"), (0, 0.0))
            settlement.matched_count = matched[0]
            settlement.matched_amount = matched[1]
            settlement.unmatched_count = unmatched[0]
            settlement.unmatched_amount = unmatched[1]
            settlement.line_count = matched[0] + unmatched[0]

    # -- actions -------------------------------------------------------------

    def action_open_statement(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.bank.statement",
            "res_id": self.statement_id.id,
            "view_mode": "form",
        }

    def action_view_lines(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_refund_connector.action_amazon_settlement_lines"
        )
        action["domain"] = [("amazon_settlement_id", "=", self.id)]
        return action

    def action_view_unmatched(self):
        action = self.action_view_lines()
        action["context"] = {"search_default_to_review": 1}
        return action

    # -- import -------------------------------------------------------------

    @api.model
    def _amazon_summary(self, result):
        return self.env._(
            "%(created)s settlements imported, %(skipped)s already there, "
            "%(waiting)s still being made by Amazon, %(failed)s failed; "
            "%(unmatched)s lines to review.",
            created=len(result.created),
            skipped=len(result.skipped),
            waiting=len(result.waiting),
            failed=len(result.failures),
            unmatched=result.unmatched,
        )

    @api.model
    def _amazon_import(self, account, client):
        """List the account's settlement reports since its cursor and import
        the new ones; a :class:`SettlementResult`."""
        result = SettlementResult()
        now = fields.Datetime.now()
        since = (
            account.last_settlement_sync - LISTING_OVERLAP
            if account.last_settlement_sync
            else now - REPORT_RETENTION + timedelta(hours=1)
        )
        reports = [
            report
            for report in iter_reports(
                client,
                since,
                marketplace_ids=account.marketplace_ids.mapped("marketplace_ref"),
            )
            if report.report_type == SETTLEMENT_REPORT_TYPE
        ]
        reports.sort(key=lambda r: (r.created, r.report_id))
        known = {
            s.report_ref: s
            for s in self.sudo().search(
                [
                    ("account_id", "=", account.id),
                    ("report_ref", "in", [r.report_id for r in reports]),
                ]
            )
        }
        duplicates = set()
        for settlement in self.sudo().search(
            [("account_id", "=", account.id), ("duplicate_report_refs", "!=", False)]
        ):
            duplicates.update(settlement.duplicate_report_refs.split(","))
        latest = None
        hold = None
        for report in reports:
            existing = known.get(report.report_id)
            if report.waiting:
                result.waiting.append(report.report_id)
                hold = hold or report.created
                continue
            if report.report_id in duplicates or (
                existing and existing.state != "failed"
            ):
                result.skipped.append(report.report_id)
            elif report.failed:
                self._amazon_failed(
                    account,
                    report,
                    existing,
                    self.env._(
                        "Amazon could not make report %(report)s (%(status)s): "
                        "there is nothing to import. Amazon makes the settlement "
                        "again or support can resend it.",
                        report=report.report_id,
                        status=report.status,
                    ),
                    result,
                )
            else:
                self._amazon_import_report(account, client, report, existing, result)
            latest = report.created
            self._amazon_commit()
        cursor = latest
        if hold and (cursor is None or cursor >= hold):
            cursor = hold - timedelta(seconds=1)
        if cursor and (
            not account.last_settlement_sync or cursor > account.last_settlement_sync
        ):
            account.sudo().last_settlement_sync = cursor
        if result.failures:
            lines = list(result.failures.values())
            account.sudo().write(
                {
                    "last_error": self.env._(
                        "Settlement import: %(count)s reports not imported:\n%(lines)s",
                        count=len(lines),
                        lines="\n".join(lines),
                    ),
                    "last_error_date": fields.Datetime.now(),
                }
            )
        return result

    def _amazon_commit(self):
        if self.env.context.get("amazon_commit_pages") and not config["test_enable"]:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _amazon_failed(self, account, report, existing, message, result, header=None):
        _logger.warning("Amazon account %s: settlement report: %s", account.id, message)
        vals = {
            "account_id": account.id,
            "report_ref": report.report_id,
            "state": "failed",
            "message": message,
            "start_date": report.data_start,
            "end_date": report.data_end,
            "marketplace_id": self._amazon_marketplace(report).id,
        }
        if header is not None:
            same = self.sudo().search(
                [
                    ("account_id", "=", account.id),
                    ("settlement_ref", "=", header.settlement_id),
                    ("state", "=", "failed"),
                ],
                limit=1,
            )
            existing = existing or same
            vals.update(
                {
                    "settlement_ref": header.settlement_id,
                    "start_date": header.start,
                    "end_date": header.end,
                    "deposit_date": header.deposit,
                    "total_amount": float(header.total),
                }
            )
        if existing:
            existing.sudo().write(vals)
        else:
            self.sudo().create(vals)
        result.failures[report.report_id] = message

    def _amazon_marketplace(self, report):
        return self.env["amazon.marketplace"].search(
            [("marketplace_ref", "in", list(report.marketplace_ids))], limit=1
        )

    @api.model
    def _amazon_import_report(self, account, client, report, existing, result):
        with tempfile.TemporaryFile() as spool:
            try:
                document = get_report_document(client, report.document_id)
                charset = download_document(document, spool, timeout=client.timeout)
            except AmazonThrottled:
                raise
            except AmazonError as error:
                self._amazon_failed(
                    account,
                    report,
                    existing,
                    account._amazon_error_message(error),
                    result,
                )
                return
            self._amazon_import_document(
                account, report, existing, spool, charset, result
            )

    def _amazon_read(self, spool, charset):
        spool.seek(0)
        return SettlementReader(text_lines(spool, charset))

    @api.model
    def _amazon_import_document(
        self, account, report, existing, spool, charset, result
    ):
        header = None
        try:
            reader = self._amazon_read(spool, charset)
            header = reader.header
            row_count, rows_total = read_totals(reader)
        except MalformedReport as error:
            self._amazon_failed(
                account,
                report,
                existing,
                self.env._(
                    "Settlement report %(report)s cannot be read: %(error)s",
                    report=report.report_id,
                    error=error,
                ),
                result,
                header=header,
            )
            return
        same = self.sudo().search(
            [
                ("account_id", "=", account.id),
                ("settlement_ref", "=", header.settlement_id),
            ],
            limit=1,
        )
        done = same if same.state != "failed" else self.browse()
        if same and not done:
            # A failed earlier try of this settlement (maybe from another
            # report): one record of it.
            if existing and existing != same:
                existing.sudo().unlink()
            existing = same
        if done:
            refs = [r for r in (done.duplicate_report_refs or "").split(",") if r]
            if report.report_id != done.report_ref and report.report_id not in refs:
                done.duplicate_report_refs = ",".join([*refs, report.report_id])
            result.skipped.append(report.report_id)
            return
        currency, problem = self._amazon_currency(account, header)
        if problem:
            self._amazon_failed(
                account, report, existing, problem, result, header=header
            )
            return
        balanced = currency.compare_amounts(float(rows_total), float(header.total)) == 0
        try:
            with self.env.cr.savepoint():
                settlement = self._amazon_book(
                    account,
                    report,
                    existing,
                    header,
                    currency,
                    row_count,
                    rows_total,
                    balanced,
                    self._amazon_read(spool, charset),
                )
        except TransactionRollbackError:
            raise
        except Exception as error:  # this report only; recorded and read again
            _logger.exception("Amazon settlement %s", header.settlement_id)
            self._amazon_failed(
                account,
                report,
                existing,
                self.env._(
                    "Settlement %(settlement)s could not be booked: %(error)s",
                    settlement=header.settlement_id,
                    error=error,
                ),
                result,
                header=header,
            )
            return
        result.created.append(header.settlement_id)
        result.unmatched += settlement.unmatched_count

    def _amazon_currency(self, account, header):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", header.currency)], limit=1)
        )
        company = account.company_id
        if not currency:
            return None, self.env._(
                "Settlement %(settlement)s is in %(currency)s, a currency Odoo "
                "does not know.",
                settlement=header.settlement_id,
                currency=header.currency,
            )
        if currency != company.currency_id and (
            not currency.active
            or not self.env["res.currency.rate"]
            .sudo()
            .search_count(
                [
                    ("currency_id", "=", currency.id),
                    ("company_id", "in", (company.root_id.id, False)),
                ],
                limit=1,
            )
        ):
            return None, self.env._(
                "Settlement %(settlement)s is in %(currency)s, which has no "
                "exchange rate in %(company)s: add a rate (and activate the "
                "currency); the settlement is imported at the next run.",
                settlement=header.settlement_id,
                currency=currency.name,
                company=company.name,
            )
        return currency, False

    @api.model
    def _amazon_book(
        self,
        account,
        report,
        existing,
        header,
        currency,
        row_count,
        rows_total,
        balanced,
        reader,
    ):
        journal = account._amazon_payments_journal(currency)
        end = header.end or report.data_end or fields.Datetime.now()
        statement = (
            self.env["account.bank.statement"]
            .sudo()
            .create(
                {
                    "name": self.env._("Amazon settlement %s", header.settlement_id),
                    "reference": header.settlement_id,
                    "journal_id": journal.id,
                    "date": end.date(),
                }
            )
        )
        message = False
        if not balanced:
            message = self.env._(
                "The report's rows add up to %(rows)s, not to its total-amount "
                "%(total)s: the lines are imported on the suspense account and "
                "not reconciled. Ask Amazon for a corrected report.",
                rows=rows_total,
                total=header.total,
            )
        vals = {
            "account_id": account.id,
            "settlement_ref": header.settlement_id,
            "report_ref": report.report_id,
            "marketplace_id": self._amazon_marketplace(report).id,
            "start_date": header.start or report.data_start,
            "end_date": end,
            "deposit_date": header.deposit,
            "currency_id": currency.id,
            "total_amount": float(header.total),
            "rows_total": float(rows_total),
            "row_count": row_count,
            "statement_id": statement.id,
            "journal_id": journal.id,
            "state": "imported" if balanced else "unbalanced",
            "message": message,
        }
        if existing:
            settlement = existing.sudo()
            settlement.write(vals)
        else:
            settlement = self.sudo().create(vals)
        builder = SettlementStatementBuilder(
            self.env, account, settlement, journal, reconcile=balanced
        )
        builder.add(entries(reader.rows()))
        statement.balance_end_real = statement.balance_start + float(header.total)
        builder.add_payout(header.total, (header.deposit or end).date())
        return settlement.with_env(self.env)
