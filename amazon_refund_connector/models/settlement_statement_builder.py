"""Statement lines of a settlement, booked and reconciled batch by batch.

Each :class:`~..sp_api.reports.Entry` becomes one statement line whose
journal items are written at once (the liquidity item and its counterparts),
so a line never passes through the suspense account when its counterpart is
known:

- an order's or refund's money: the receivable account, reconciled with
  Odoo Community's own reconciliation (``_reconcile_plan``) with the open
  receivable items of the order's customer invoices and of the refund's
  credit notes; an order's payment and its refunds in the same settlement
  are matched together, so a refund whose credit note already reversed the
  invoice still finds its counterpart;
- fees, subscription, advertising: the expense accounts of the Amazon
  account; the reserve: the reserve account; transfers: the transfer
  account;
- whatever finds nothing (an order not in Odoo, an amount that differs, a
  type unknown to the connector, a settlement that does not add up) stays on
  the journal's suspense account, open, with the reason in its narration.
"""

from collections import defaultdict
from decimal import Decimal
from itertools import islice

from odoo import Command, fields

from ..sp_api.reports import (
    ADVERTISING,
    OTHER,
    REFUND,
    REFUND_FEES,
    RESERVE,
    SALE,
    SALE_FEES,
    SERVICE,
    SERVICE_FEE,
    TRANSFER,
    UNKNOWN,
)

BATCH_SIZE = 500
MONEY_KINDS = (SALE, REFUND)


def batched(iterable, size):
    iterator = iter(iterable)
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        yield chunk


class SettlementStatementBuilder:
    """Books the entries of one settlement into its statement."""

    def __init__(self, env, account, settlement, journal, reconcile=True):
        self.env = env
        self.account = account
        self.settlement = settlement
        self.statement = settlement.statement_id
        self.journal = journal
        self.currency = settlement.currency_id
        self.company = account.company_id
        self.company_currency = self.company.currency_id
        self.reconcile = reconcile
        self.fee_accounts = account._amazon_fee_accounts()
        self.transfer_account = account._amazon_transfer_account()
        self.reserve_account = account._amazon_reserve_account()
        self.withheld_account = (
            account._amazon_withheld_tax_account() or self.fee_accounts[SERVICE]
        )
        self.suspense = journal.suspense_account_id
        self.liquidity = journal.default_account_id
        self._rates = {}
        self.lines = 0

    # -- money ----------------------------------------------------------------

    def _rate(self, date):
        rate = self._rates.get(date)
        if rate is None:
            rate = self._rates[date] = self.env["res.currency"]._get_conversion_rate(
                self.currency, self.company_currency, self.company, date
            )
        return rate

    def _balance(self, amount, date):
        if self.currency == self.company_currency:
            return self.company_currency.round(amount)
        return self.company_currency.round(amount * self._rate(date))

    def _line_ids(self, amount, date, parts, partner, label, balance=None):
        """Journal items of a statement line of ``amount``: the liquidity item
        and one counterpart per ``(account, part)``, balanced to the cent in
        the company's currency too (``balance``, when given, is the line's
        amount in the company's currency)."""
        if balance is None:
            balance = self._balance(amount, date)
        commands = [
            Command.create(
                {
                    "name": label,
                    "account_id": self.liquidity.id,
                    "partner_id": partner.id,
                    "currency_id": self.currency.id,
                    "amount_currency": amount,
                    "balance": balance,
                }
            )
        ]
        parts = [(acc, part) for acc, part in parts if part] or [(parts[0][0], amount)]
        balances = [self._balance(part, date) for _acc, part in parts]
        # Rounding each part may miss the total by a cent: the largest part
        # takes the difference.
        gap = self.company_currency.round(balance - sum(balances))
        if gap:
            index = max(range(len(parts)), key=lambda i: abs(parts[i][1]))
            balances[index] += gap
        for (acc, part), part_balance in zip(parts, balances, strict=True):
            commands.append(
                Command.create(
                    {
                        "name": label,
                        "account_id": acc.id,
                        "partner_id": partner.id,
                        "currency_id": self.currency.id,
                        "amount_currency": -part,
                        "balance": -part_balance,
                    }
                )
            )
        return commands

    # -- labels -----------------------------------------------------------------

    def _label(self, entry):
        _ = self.env._
        if entry.kind == SALE:
            return _(
                "Order %s: principal, shipping, taxes and promotions", entry.order_id
            )
        if entry.kind == SALE_FEES:
            return _("Order %s: Amazon fees", entry.order_id)
        if entry.kind == REFUND:
            return _(
                "Refund %(refund)s of order %(order)s",
                refund=entry.adjustment_id or "-",
                order=entry.order_id,
            )
        if entry.kind == REFUND_FEES:
            return _(
                "Refund %(refund)s of order %(order)s: Amazon fees",
                refund=entry.adjustment_id or "-",
                order=entry.order_id,
            )
        kinds = {
            SERVICE_FEE: _("Service fee"),
            ADVERTISING: _("Advertising"),
            RESERVE: _("Reserve"),
            TRANSFER: _("Transfer"),
            OTHER: _("Other transaction"),
            UNKNOWN: _("Unknown to the connector"),
        }
        detail = entry.descriptions[-1].split(" / ")[-1] if entry.descriptions else ""
        text = f"{kinds.get(entry.kind, entry.kind)}: {detail or entry.label}"
        if entry.order_id:
            text = f"{text} ({entry.order_id})"
        return text

    # -- matching ----------------------------------------------------------------

    def _orders(self, entries):
        """``{order ref: (sale, open receivable items)}`` of the orders named."""
        refs = {e.order_id for e in entries if e.kind in MONEY_KINDS and e.order_id}
        if not refs:
            return {}
        sales = (
            self.env["sale.order"]
            .sudo()
            .search(
                [
                    ("amazon_account_id", "=", self.account.id),
                    ("amazon_order_ref", "in", list(refs)),
                ]
            )
        )
        refunds = (
            self.env["amazon.refund"]
            .sudo()
            .search(
                [
                    ("account_id", "=", self.account.id),
                    ("sale_order_id", "in", sales.ids),
                ]
            )
        )
        moves_by_sale = defaultdict(lambda: self.env["account.move"])
        for sale in sales:
            moves_by_sale[sale.id] |= sale.invoice_ids
        for refund in refunds:
            if refund.credit_note_id:
                moves_by_sale[refund.sale_order_id.id] |= refund.credit_note_id
        all_moves = self.env["account.move"].concat(*moves_by_sale.values())
        open_lines = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("move_id", "in", all_moves.ids),
                    ("parent_state", "=", "posted"),
                    ("account_type", "=", "asset_receivable"),
                    ("reconciled", "=", False),
                ]
            )
        )
        by_move = defaultdict(lambda: self.env["account.move.line"])
        for line in open_lines:
            by_move[line.move_id.id] |= line
        credit_notes = defaultdict(lambda: self.env["account.move"])
        for refund in refunds:
            if refund.credit_note_id:
                credit_notes[(refund.sale_order_id.id, refund.refund_ref)] |= (
                    refund.credit_note_id
                )
        result = {}
        for sale in sales:
            moves = moves_by_sale[sale.id]
            lines = self.env["account.move.line"].concat(
                *(by_move[m.id] for m in moves if m.id in by_move)
            )
            result[sale.amazon_order_ref] = {
                "sale": sale,
                "open": lines,
                "invoices": moves.filtered(
                    lambda m: m.move_type == "out_invoice" and m.state == "posted"
                ),
                "credit_notes": {
                    ref: notes
                    for (sale_id, ref), notes in credit_notes.items()
                    if sale_id == sale.id
                },
            }
        return result

    def _residual(self, lines):
        return Decimal(str(sum(lines.mapped("amount_residual_currency")))).quantize(
            Decimal(1).scaleb(-self.currency.decimal_places)
        )

    def _plan_money(self, entries, orders):
        """``{id(entry): (receivable account, partner, open lines) or reason}``"""
        _ = self.env._
        plans = {}
        by_order = defaultdict(list)
        for entry in entries:
            if entry.kind in MONEY_KINDS:
                by_order[entry.order_id].append(entry)
        for ref, group in by_order.items():
            data = orders.get(ref)
            if not data:
                reason = _(
                    "Order %s is not in Odoo: there is no invoice to reconcile with.",
                    ref,
                )
                plans.update({id(e): reason for e in group})
                continue
            sale = data["sale"]
            if sale.currency_id != self.currency:
                reason = _(
                    "Order %(order)s is in %(currency)s, the settlement in "
                    "%(settlement)s.",
                    order=ref,
                    currency=sale.currency_id.name,
                    settlement=self.currency.name,
                )
                plans.update({id(e): reason for e in group})
                continue
            partner = sale.partner_invoice_id.commercial_partner_id
            receivable = (
                data["open"][:1].account_id
                or data["invoices"][:1]
                .line_ids.filtered(lambda li: li.account_type == "asset_receivable")[:1]
                .account_id
                or partner.with_company(self.company).property_account_receivable_id
            )
            open_lines = data["open"]
            total = sum((e.amount for e in group), Decimal(0))
            if (open_lines and total == self._residual(open_lines)) or (
                not open_lines and total == 0 and data["invoices"]
            ):
                for entry in group:
                    plans[id(entry)] = (receivable, partner, open_lines)
                    open_lines = open_lines.browse()
                continue
            for entry in group:
                plans[id(entry)] = self._plan_one(entry, data, receivable, partner)
        return plans

    def _plan_one(self, entry, data, receivable, partner):
        _ = self.env._
        if entry.kind == SALE:
            lines = data["open"].filtered(lambda li: li.move_id in data["invoices"])
            if not data["invoices"]:
                return _("Order %s has no posted invoice in Odoo.", entry.order_id)
            if not lines:
                return _(
                    "Order %s has no open invoice: its invoices are paid or reversed.",
                    entry.order_id,
                )
            if self._residual(lines) == entry.amount:
                return (receivable, partner, lines)
            single = lines.filtered(lambda li: self._residual(li) == entry.amount)[:1]
            if single:
                return (receivable, partner, single)
            return _(
                "Amazon paid %(amount)s for order %(order)s; its open invoices "
                "amount to %(open)s.",
                amount=entry.amount,
                order=entry.order_id,
                open=self._residual(lines),
            )
        notes = data["credit_notes"].get(entry.adjustment_id)
        if not notes:
            return _(
                "Refund %(refund)s of order %(order)s has no credit note in Odoo: "
                "import the refund first.",
                refund=entry.adjustment_id or "-",
                order=entry.order_id,
            )
        lines = data["open"].filtered(lambda li: li.move_id in notes)
        if lines and self._residual(lines) == entry.amount:
            return (receivable, partner, lines)
        return _(
            "Amazon refunded %(amount)s in refund %(refund)s; its credit notes "
            "have %(open)s open.",
            amount=-entry.amount,
            refund=entry.adjustment_id,
            open=-self._residual(lines) if lines else 0,
        )

    def _fee_parts(self, entry):
        parts = [
            (self.fee_accounts.get(key), amount) for key, amount in entry.fees.items()
        ]
        if entry.withheld:
            parts.append((self.withheld_account, entry.withheld))
        return parts

    def _plan_other(self, entry):
        _ = self.env._
        if entry.kind == UNKNOWN:
            return _(
                "Amazon's %s is unknown to the connector: kept with its label on "
                "the suspense account.",
                "; ".join(entry.unknown) or entry.label,
            )
        if entry.kind in (SALE_FEES, REFUND_FEES, SERVICE_FEE, ADVERTISING, OTHER):
            parts = self._fee_parts(entry)
            missing = [p for p in parts if not p[0]]
            if missing or not parts:
                return _(
                    "No expense account is set on the Amazon account for %s.",
                    entry.label,
                )
            return parts
        if entry.kind == RESERVE:
            return [(self.reserve_account, entry.amount)]
        if entry.kind == TRANSFER:
            if not self.transfer_account:
                return _("The company has no internal transfer account.")
            return [(self.transfer_account, entry.amount)]
        return _("Amazon's %s is unknown to the connector.", entry.label)

    def _same_rate_balances(self, matched):
        """``{id(entry): balance}`` for the orders paid at their invoices' own
        rate.

        ``matched`` holds ``(entry, date, open lines)`` of the entries planned
        against an order's open items. Where an order's entries pay exactly
        what its items have open, in the currency of the settlement, and
        every one of its invoices and credit notes was booked at the rate of
        the entries' dates, the entries' balances in the company's currency
        are made to add up to what the items have open: the largest entry
        takes the rounding gap, so that the reconciliation books no exchange
        difference of a cent. Any other rate leaves the balances to the rate
        of the day, and Odoo books the exchange difference.
        """
        if self.currency == self.company_currency:
            return {}
        by_order = defaultdict(list)
        for entry, date, open_lines in matched:
            by_order[entry.order_id].append((entry, date, open_lines))
        balances = {}
        for group in by_order.values():
            open_lines = self.env["account.move.line"]
            for _entry, _date, lines in group:
                open_lines |= lines
            if not open_lines:
                continue
            total = sum((entry.amount for entry, _date, _lines in group), Decimal(0))
            if total != self._residual(open_lines):
                continue
            rates = {move.invoice_currency_rate for move in open_lines.move_id}
            if any(
                abs(invoice_rate * self._rate(date) - 1) > 1e-9
                for invoice_rate in rates
                for _entry, date, _lines in group
            ):
                continue
            group_balances = {
                id(entry): self._balance(float(entry.amount), date)
                for entry, date, _lines in group
            }
            gap = self.company_currency.round(
                sum(open_lines.mapped("amount_residual")) - sum(group_balances.values())
            )
            if gap:
                largest = max(group, key=lambda item: abs(item[0].amount))[0]
                group_balances[id(largest)] += gap
            balances.update(group_balances)
        return balances

    # -- booking -------------------------------------------------------------------

    def add(self, entries):
        """Book the entries, batch by batch."""
        for batch in batched(entries, BATCH_SIZE):
            self._add_batch(batch)
            # Written batch by batch: the ORM cache would otherwise keep every
            # line of the report, and memory would grow with its size.
            self.env.flush_all()
            self.env.invalidate_all()

    def _add_batch(self, batch):
        orders = self._orders(batch) if self.reconcile else {}
        money = self._plan_money(batch, orders) if self.reconcile else {}
        unbalanced = self.env._(
            "The settlement's rows do not add up to its total-amount: the line is "
            "not reconciled."
        )
        planned, matched = [], []
        partner_model = self.env["res.partner"]
        for entry in batch:
            date = (entry.posted or self.settlement.end_date).date()
            label = self._label(entry)
            partner = partner_model
            open_lines = None
            if not self.reconcile:
                plan = unbalanced
            elif entry.kind in MONEY_KINDS:
                plan = money[id(entry)]
            else:
                plan = self._plan_other(entry)
            if isinstance(plan, tuple):
                receivable, partner, open_lines = plan
                parts = [(receivable, entry.amount)]
                reason = False
            elif isinstance(plan, list):
                parts, reason = plan, False
            else:
                parts, reason = [(self.suspense, entry.amount)], plan
            planned.append((entry, date, label, partner, parts, reason, open_lines))
            if open_lines is not None:
                matched.append((entry, date, open_lines))
        balances = self._same_rate_balances(matched)
        vals_list, groups = [], []
        for entry, date, label, partner, parts, reason, open_lines in planned:
            amount = float(entry.amount)
            vals_list.append(
                {
                    "statement_id": self.statement.id,
                    "journal_id": self.journal.id,
                    "date": date,
                    "payment_ref": label,
                    "amount": amount,
                    "partner_id": partner.id,
                    "narration": reason,
                    "amazon_settlement_id": self.settlement.id,
                    "amazon_kind": entry.kind,
                    "amazon_transaction_type": entry.transaction_type,
                    "amazon_order_ref": entry.order_id or False,
                    "amazon_adjustment_ref": entry.adjustment_id or False,
                    "amazon_sku": entry.sku[:250] or False,
                    "amazon_posted_date": entry.posted,
                    "amazon_match_state": "unmatched" if reason else "matched",
                    "line_ids": self._line_ids(
                        amount,
                        date,
                        [(a, float(p)) for a, p in parts],
                        partner,
                        label,
                        balance=balances.get(id(entry)),
                    ),
                }
            )
            groups.append((open_lines, parts[0][0] if open_lines is not None else None))
        # No chatter on each line's journal entry: the settlement records the
        # import, and the mail thread's per-record bookkeeping would grow with
        # the report until the transaction ends.
        st_lines = (
            self.env["account.bank.statement.line"]
            .sudo()
            .with_context(skip_readonly_check=True, tracking_disable=True)
            .create(vals_list)
        )
        self.lines += len(st_lines)
        self._reconcile(st_lines, groups)

    def _reconcile(self, st_lines, groups):
        """Reconcile each matched line's receivable item with the open items
        planned for it; an order's lines planned together go together."""
        plan = {}
        for st_line, (open_lines, receivable) in zip(st_lines, groups, strict=True):
            if open_lines is None:
                continue
            counterpart = st_line.move_id.line_ids.filtered(
                lambda li, acc=receivable: li.account_id == acc
            )
            key = st_line.amazon_order_ref
            plan[key] = plan.get(key, self.env["account.move.line"]) | counterpart
            plan[key] |= open_lines
        groups_to_do = [lines for lines in plan.values() if len(lines) > 1]
        if groups_to_do:
            self.env["account.move.line"].sudo()._reconcile_plan(groups_to_do)

    def add_payout(self, amount, date):
        """The payout of the settlement to the bank: out of the Amazon journal,
        through the transfer account (outside the statement, whose lines are
        the settlement's rows)."""
        if not amount:
            return self.env["account.bank.statement.line"]
        label = self.env._(
            "Payout of Amazon settlement %s to the bank",
            self.settlement.settlement_ref,
        )
        account = self.transfer_account or self.suspense
        reason = (
            False
            if self.transfer_account
            else self.env._("The company has no internal transfer account.")
        )
        amount = -float(amount)
        return (
            self.env["account.bank.statement.line"]
            .sudo()
            .create(
                {
                    "journal_id": self.journal.id,
                    "date": date,
                    "payment_ref": label,
                    "amount": amount,
                    "narration": reason,
                    "amazon_settlement_id": self.settlement.id,
                    "amazon_kind": "payout",
                    "amazon_posted_date": fields.Datetime.to_datetime(date),
                    "amazon_match_state": "unmatched" if reason else "matched",
                    "line_ids": self._line_ids(
                        amount,
                        date,
                        [(account, amount)],
                        self.env["res.partner"],
                        label,
                    ),
                }
            )
        )
