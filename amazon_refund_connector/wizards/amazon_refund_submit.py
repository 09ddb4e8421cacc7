from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.amazon_account import REFUND_REASONS
from ..sp_api import AmazonInvalidInput
from ..sp_api.feeds import AdjustedItem, Component, build_adjustment_feed
from ..sp_api.order_reports import is_history_item

# Amazon's component types of an adjustment; a * marks the types that may
# exceed what Amazon charged for the item (within Amazon's own limits).
COMPONENT_TYPES = [
    ("Principal", "Item price"),
    ("Tax", "Item tax"),
    ("Shipping", "Shipping"),
    ("ShippingTax", "Shipping tax"),
    ("GiftWrap", "Gift wrap"),
    ("GiftWrapTax", "Gift wrap tax"),
    ("COD", "Cash on delivery fee"),
    ("CODTax", "Cash on delivery tax"),
    ("RestockingFee", "Restocking fee *"),
    ("RestockingFeeTax", "Restocking fee tax *"),
    ("ReturnShipping", "Return shipping *"),
    ("Goodwill", "Goodwill *"),
    ("Other", "Other amount *"),
]
MAY_EXCEED = {
    "RestockingFee",
    "RestockingFeeTax",
    "ReturnShipping",
    "Goodwill",
    "Other",
}
# Amounts the seller keeps from the buyer: they lower the refund.
DEDUCTIONS = {"RestockingFee", "RestockingFeeTax"}
# Sale order line charge -> component type of its amount and of its tax.
CHARGE_TYPES = {
    "ITEM": ("Principal", "Tax"),
    "ROUNDING": ("Principal", "Tax"),
    "DISCOUNT": ("Principal", "Tax"),
    "TAX": ("Tax", "Tax"),
    "SHIPPING": ("Shipping", "ShippingTax"),
    "GIFT_WRAP": ("GiftWrap", "GiftWrapTax"),
    "COD_FEE": ("COD", "CODTax"),
}
# Component type -> the overview's amount type.
OVERVIEW_TYPES = {
    "Principal": "PRINCIPAL",
    "Tax": "TAX",
    "Shipping": "SHIPPING",
    "ShippingTax": "SHIPPING_TAX",
    "GiftWrap": "GIFT_WRAP",
    "GiftWrapTax": "GIFT_WRAP_TAX",
    "RestockingFee": "RESTOCKING_FEE",
    "RestockingFeeTax": "RESTOCKING_FEE_TAX",
    "Goodwill": "GOODWILL",
}


class AmazonRefundSubmit(models.TransientModel):
    """Send the refund of a credit note to Amazon (payment adjustment feed)."""

    _name = "amazon.refund.submit"
    _description = "Refund on Amazon"

    move_id = fields.Many2one(
        "account.move", string="Credit note record", readonly=True
    )
    move_label = fields.Char(string="Credit note", readonly=True)
    sale_order_id = fields.Many2one("sale.order", string="Amazon order", readonly=True)
    amazon_order_ref = fields.Char(related="sale_order_id.amazon_order_ref")
    account_id = fields.Many2one("amazon.account", readonly=True)
    marketplace_id = fields.Many2one("amazon.marketplace", readonly=True)
    move_currency_id = fields.Many2one("res.currency", readonly=True)
    currency_id = fields.Many2one(
        "res.currency", string="Amazon currency", readonly=True
    )
    currency_label = fields.Char(string="Currency credit note => Amazon", readonly=True)
    move_total = fields.Monetary(
        string="Credit note total", currency_field="move_currency_id", readonly=True
    )
    amazon_total = fields.Monetary(
        string="Total in Amazon currency", currency_field="currency_id", readonly=True
    )
    charged = fields.Monetary(
        string="Charged by Amazon", currency_field="currency_id", readonly=True
    )
    refunded_before = fields.Monetary(
        string="Refunded before", currency_field="currency_id", readonly=True
    )
    problem = fields.Text(readonly=True)
    has_product_line = fields.Boolean(
        readonly=True, help="A line of the credit note is an item of the order."
    )
    notes = fields.Text(readonly=True)
    line_ids = fields.One2many("amazon.refund.submit.line", "wizard_id", string="Rows")
    earlier_refund_ids = fields.Many2many(
        "amazon.refund", string="Earlier refunds", readonly=True
    )
    total = fields.Monetary(
        string="Refund total", currency_field="currency_id", compute="_compute_total"
    )

    @api.depends("line_ids.amount", "line_ids.amount_type")
    def _compute_total(self):
        for wizard in self:
            wizard.total = sum(line._signed() for line in wizard.line_ids)

    # -- opening --------------------------------------------------------------------

    @api.model
    def _open_for(self, move):
        wizard = self.create({"move_id": move.id})
        wizard._prepare()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Refund on Amazon"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def _prepare(self):
        self.ensure_one()
        move = self.move_id
        sale = move._amazon_refund_order()
        self.move_label = f"{move.name} [{move.id}]"
        problem = move._amazon_refund_problem(sale)
        if problem:
            self.problem = problem
            return
        account = sale.amazon_account_id
        currency = sale.amazon_marketplace_id.currency_id or sale.currency_id
        self.write(
            {
                "sale_order_id": sale.id,
                "account_id": account.id,
                "marketplace_id": sale.amazon_marketplace_id.id,
                "move_currency_id": move.currency_id.id,
                "currency_id": currency.id,
                "currency_label": f"{move.currency_id.name} => {currency.name}",
                "move_total": move.amount_total,
            }
        )
        date = move.invoice_date or fields.Date.context_today(self)
        missing = [
            c.name
            for c in (move.currency_id | currency)
            if not self._has_rate(c, move.company_id, date)
        ]
        if missing:
            self.problem = self.env._(
                "%(currencies)s has no exchange rate on %(date)s in %(company)s: "
                "the credit note cannot be converted into the Amazon currency.",
                currencies=", ".join(missing),
                date=fields.Date.to_string(date),
                company=move.company_id.name,
            )
            return
        self.amazon_total = self._convert(move.amount_total)
        self.charged = sale.amazon_total
        self.refunded_before = sum(
            self.env["amazon.refund"]
            .search(
                [
                    ("sale_order_id", "=", sale.id),
                    ("side", "=", "buyer"),
                    ("state", "!=", "failed"),
                ]
            )
            .mapped("amount")
        )
        self._prepare_rows(account, sale)

    @api.model
    def _has_rate(self, currency, company, date):
        if currency == company.currency_id:
            return True
        return bool(
            self.env["res.currency.rate"]
            .sudo()
            .search_count(
                [
                    ("currency_id", "=", currency.id),
                    ("company_id", "in", [company.id, False]),
                    ("name", "<=", date),
                ],
                limit=1,
            )
        )

    def _convert(self, amount):
        move = self.move_id
        return move.currency_id._convert(
            amount,
            self.currency_id,
            move.company_id,
            move.invoice_date or fields.Date.context_today(self),
        )

    def _charged_amounts(self, sale):
        """``{(item ref, component type): gross amount Amazon charged}``."""
        included = sale.amazon_marketplace_id.tax_included
        charged = defaultdict(float)
        for line in sale.order_line:
            types = CHARGE_TYPES.get(line.amazon_charge)
            if not (types and line.amazon_item_ref):
                continue
            if included:
                charged[(line.amazon_item_ref, types[0])] += line.price_total
            else:
                charged[(line.amazon_item_ref, types[0])] += line.price_subtotal
                if line.price_tax:
                    charged[(line.amazon_item_ref, types[1])] += line.price_tax
        return charged

    def _prepare_rows(self, account, sale):
        included = sale.amazon_marketplace_id.tax_included
        items = sale.order_line.filtered(
            lambda li: li.amazon_charge == "ITEM" and li.amazon_item_ref
        )
        by_ref = {line.amazon_item_ref: line for line in items}
        charged = self._charged_amounts(sale)
        wanted = defaultdict(float)
        matched = []
        notes = []
        lines = self.move_id.invoice_line_ids.filtered(
            lambda li: li.display_type == "product"
        )
        for line in lines:
            sale_line = line.sale_line_ids.filtered(
                lambda sl: sl.order_id == sale and sl.amazon_item_ref
            )[:1]
            if not sale_line:
                sale_line = items.filtered(
                    lambda it, p=line.product_id: it.product_id == p
                )[:1]
            if sale_line:
                ref = sale_line.amazon_item_ref
                types = CHARGE_TYPES.get(sale_line.amazon_charge, ("Other", "Other"))
                if sale_line.amazon_charge == "ITEM" and ref not in matched:
                    matched.append(ref)
            elif line.product_id.type == "service" and items:
                ref, types = items[0].amazon_item_ref, ("Other", "Other")
            else:
                notes.append(
                    self.env._(
                        "%(line)s matches no item of the Amazon order and is not sent.",
                        line=line.name or line.product_id.display_name,
                    )
                )
                continue
            if included or types[0] == "Other":
                wanted[(ref, types[0])] += self._convert(line.price_total)
            else:
                wanted[(ref, types[0])] += self._convert(line.price_subtotal)
                wanted[(ref, types[1])] += self._convert(
                    line.price_total
                ) - self._convert(line.price_subtotal)
        for ref in matched:
            wanted.setdefault((ref, "Principal"), 0.0)
        rows = defaultdict(float)
        currency = self.currency_id
        for (ref, kind), amount in wanted.items():
            amount = currency.round(amount)
            limit = currency.round(charged.get((ref, kind), 0.0))
            if kind not in MAY_EXCEED and currency.compare_amounts(amount, limit) > 0:
                rows[(ref, "Other")] += amount - limit
                amount = limit
            rows[(ref, kind)] += amount
        order = [code for code, _label in COMPONENT_TYPES]
        vals = []
        for (ref, kind), amount in sorted(
            rows.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]))
        ):
            item = by_ref.get(ref)
            if not item:
                continue
            vals.append(
                {
                    "wizard_id": self.id,
                    "sale_line_id": item.id,
                    "amount_type": kind,
                    "amount": currency.round(amount),
                    "reason": account.default_refund_reason,
                }
            )
        self.env["amazon.refund.submit.line"].create(vals)
        self.notes = "\n".join(notes) or False
        self.has_product_line = bool(matched)
        self.earlier_refund_ids = self.env["amazon.refund"].search(
            [
                ("sale_order_id", "=", sale.id),
                ("order_item_ref", "in", list(by_ref)),
                ("side", "=", "buyer"),
            ]
        )

    # -- the rules ------------------------------------------------------------------

    def _rule_problems(self):
        """What stops the refund, one sentence each."""
        self.ensure_one()
        if self.problem:
            return [self.problem]
        currency = self.currency_id
        problems = []
        if not self.has_product_line:
            problems.append(
                self.env._(
                    "The refund needs at least one row of an ordered product: Amazon "
                    "refunds order items only (to refund shipping alone, keep a "
                    "product row with amount 0)."
                )
            )
        if any(is_history_item(ref) for ref in self.line_ids.mapped("order_item_ref")):
            problems.append(
                self.env._(
                    "Order %s was imported from Amazon's order report, which has no "
                    "order item codes: refresh it with Recover order first.",
                    self.amazon_order_ref,
                )
            )
        for line in self.line_ids:
            label = line._label()
            if currency.compare_amounts(line.amount, 0) < 0:
                problems.append(
                    self.env._("%s: enter the amount as a positive number.", label)
                )
            elif line.amount_type not in MAY_EXCEED and (
                currency.compare_amounts(line.amount, line.amazon_amount) > 0
            ):
                problems.append(
                    self.env._(
                        "%(row)s: %(amount)s is more than the %(amazon)s Amazon "
                        "charged; refund the excess as Other amount.",
                        row=label,
                        amount=line.amount,
                        amazon=line.amazon_amount,
                    )
                )
            if not line.reason:
                problems.append(self.env._("%s: choose a reason.", label))
        if currency.compare_amounts(self.total, 0) <= 0:
            problems.append(self.env._("There is no amount to refund."))
        held = self.charged - self.refunded_before
        if currency.compare_amounts(self.total, held) > 0:
            problems.append(
                self.env._(
                    "The refund of %(total)s is more than the %(held)s Amazon still "
                    "holds for order %(order)s (charged %(charged)s, refunded "
                    "before %(before)s).",
                    total=self.total,
                    held=currency.round(held),
                    order=self.amazon_order_ref,
                    charged=self.charged,
                    before=self.refunded_before,
                )
            )
        return problems

    # -- sending ---------------------------------------------------------------------

    def _adjusted_items(self):
        """``[(AdjustedItem, rows)]``: the items with an amount, in row order."""
        by_item = {}
        for line in self.line_ids:
            if self.currency_id.is_zero(line.amount):
                continue
            by_item.setdefault(line.sale_line_id, self.env["amazon.refund.submit.line"])
            by_item[line.sale_line_id] |= line
        result = []
        for item, rows in by_item.items():
            result.append(
                (
                    AdjustedItem(
                        item.amazon_item_ref,
                        rows[0].reason,
                        [Component(r.amount_type, r.amount) for r in rows],
                    ),
                    rows,
                )
            )
        return result

    def action_refund(self):
        self.ensure_one()
        problems = self._rule_problems()
        if problems:
            raise UserError("\n".join(problems))
        reasons = {tuple(line.sale_line_id.ids): line.reason for line in self.line_ids}
        for line in self.line_ids:
            if line.reason != reasons[tuple(line.sale_line_id.ids)]:
                raise UserError(
                    self.env._(
                        "%s: Amazon takes one reason per item; give its rows the "
                        "same reason.",
                        line._label(),
                    )
                )
        items = self._adjusted_items()
        try:
            content = build_adjustment_feed(
                self.account_id.seller_ref or "",
                self.amazon_order_ref,
                self.currency_id.name,
                [item for item, _rows in items],
                self.currency_id.decimal_places,
            )
        except AmazonInvalidInput as error:
            raise UserError(str(error)) from None
        feed = (
            self.env["amazon.feed"]
            .sudo()
            .create(
                {
                    "account_id": self.account_id.id,
                    "marketplace_id": self.marketplace_id.id,
                    "content": content.decode("utf-8"),
                    "credit_note_id": self.move_id.id,
                    "sale_order_id": self.sale_order_id.id,
                }
            )
        )
        vals = []
        for number, (_item, rows) in enumerate(items, start=1):
            for row in rows:
                vals.append(row._prepare_refund_vals(feed, number))
        self.env["amazon.refund"].sudo().create(vals)
        client = self.account_id._get_client()
        try:
            state = feed._amazon_send(client)
        finally:
            client.close()
        return self._answer(feed, state)

    def _answer(self, feed, state):
        notify = self.env["amazon.account"]._notify
        if state == "submitted":
            return notify(
                self.env._("Refund sent to Amazon"),
                self.env._(
                    "Amazon accepted the refund: feed %s. Its result is checked "
                    "in the refunds overview.",
                    feed.feed_ref,
                ),
                "success",
            )
        if state == "queued":
            return notify(
                self.env._("Refund queued"),
                feed.message,
                "warning",
            )
        return notify(self.env._("Amazon refused the refund"), feed.message, "danger")


class AmazonRefundSubmitLine(models.TransientModel):
    _name = "amazon.refund.submit.line"
    _description = "Refund on Amazon: row"
    _order = "id"

    wizard_id = fields.Many2one(
        "amazon.refund.submit", required=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Amazon item",
        required=True,
        domain="[('order_id', '=', parent.sale_order_id), "
        "('amazon_charge', '=', 'ITEM')]",
    )
    sku = fields.Char(related="sale_line_id.amazon_sku", string="SKU")
    order_item_ref = fields.Char(
        related="sale_line_id.amazon_item_ref", string="Amazon order item"
    )
    amount_type = fields.Selection(COMPONENT_TYPES, required=True, default="Principal")
    amount = fields.Monetary(string="Amount to refund")
    amazon_amount = fields.Monetary(
        string="Amazon amount", compute="_compute_amazon_amount", store=True
    )
    reason = fields.Selection(REFUND_REASONS, required=True)

    @api.depends("sale_line_id", "amount_type")
    def _compute_amazon_amount(self):
        charged = {}
        for line in self:
            sale = line.wizard_id.sale_order_id
            if sale not in charged:
                charged[sale] = line.wizard_id._charged_amounts(sale)
            key = (line.sale_line_id.amazon_item_ref, line.amount_type)
            line.amazon_amount = line.currency_id.round(charged[sale].get(key, 0.0))

    def _signed(self):
        return -self.amount if self.amount_type in DEDUCTIONS else self.amount

    def _label(self):
        types = dict(self._fields["amount_type"]._description_selection(self.env))
        return f"{self.sku or self.order_item_ref} / {types.get(self.amount_type)}"

    def _prepare_refund_vals(self, feed, message_number):
        wizard = self.wizard_id
        sale = wizard.sale_order_id
        reasons = dict(self._fields["reason"]._description_selection(self.env))
        return {
            "account_id": wizard.account_id.id,
            "marketplace_id": wizard.marketplace_id.id,
            "sale_order_id": sale.id,
            "amazon_order_ref": sale.amazon_order_ref,
            "order_item_ref": self.order_item_ref,
            "sku": self.sku,
            "product_id": self.sale_line_id.product_id.id,
            "amount_type": OVERVIEW_TYPES.get(self.amount_type, "OTHER"),
            "amazon_type": self.amount_type,
            "side": "buyer",
            "currency_id": wizard.currency_id.id,
            "amount": self._signed(),
            "posted_date": fields.Datetime.now(),
            "reason": reasons.get(self.reason),
            "origin": "odoo",
            "state": "queued",
            "credit_note_id": wizard.move_id.id,
            "feed_id": feed.id,
            "feed_message": message_number,
        }
