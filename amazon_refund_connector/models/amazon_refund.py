import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..sp_api import AmazonError, AmazonThrottled
from ..sp_api.finances import (
    AMAZON,
    BUYER,
    iter_transactions,
    line_key,
    match_order_items,
    refunds_of,
)
from .batching import in_batch_or_alone
from .refund_credit_note_builder import CreditNoteBuilder
from .sale_order import ImportResult

_logger = logging.getLogger(__name__)

AMOUNT_TYPES = [
    ("PRINCIPAL", "Principal"),
    ("TAX", "Tax"),
    ("SHIPPING", "Shipping"),
    ("SHIPPING_TAX", "Shipping tax"),
    ("GIFT_WRAP", "Gift wrap"),
    ("GIFT_WRAP_TAX", "Gift wrap tax"),
    ("PROMOTION", "Promotion given back"),
    ("PROMOTION_TAX", "Promotion tax"),
    ("GOODWILL", "Goodwill"),
    ("RESTOCKING_FEE", "Restocking fee"),
    ("RESTOCKING_FEE_TAX", "Restocking fee tax"),
    ("COMMISSION", "Commission"),
    ("REFUND_COMMISSION", "Refund commission"),
    ("FBA_FEE", "FBA fee"),
    ("SHIPPING_CHARGEBACK", "Shipping chargeback"),
    ("GIFT_WRAP_CHARGEBACK", "Gift wrap chargeback"),
    ("TAX_WITHHELD", "Tax withheld by Amazon"),
    ("AMAZON_FEE", "Other Amazon fee"),
    ("OTHER", "Other"),
]
SIDES = [
    ("buyer", "Buyer's money"),
    ("amazon", "Amazon's fees"),
    ("unknown", "Unknown to the connector"),
]
ORIGINS = [
    ("fba", "Imported (FBA)"),
    ("fbm", "Imported (FBM)"),
    ("odoo", "Sent from Odoo"),
]
STATES = [
    ("queued", "Queued"),
    ("sent", "Sent to Amazon"),
    ("done", "Done"),
    ("failed", "Failed"),
]
# Postings appear up to ~48 h after their posted date: each run reads again
# that far before the cursor and skips what it has by key.
POSTING_LAG_HOURS = 48
FIRST_IMPORT_DAYS = 30


class AmazonRefund(models.Model):
    """One refunded amount of an Amazon order: an item and an amount type.

    Imported refunds are keyed by Amazon's identifiers (per account, in the
    database), so reading the same refund again changes nothing.
    """

    _name = "amazon.refund"
    _description = "Amazon refund"
    _order = "posted_date desc, id desc"
    _check_company_auto = True
    _rec_name = "refund_ref"

    account_id = fields.Many2one(
        "amazon.account", required=True, index=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    marketplace_id = fields.Many2one("amazon.marketplace", readonly=True)
    sale_order_id = fields.Many2one(
        "sale.order", string="Order", index=True, readonly=True, ondelete="cascade"
    )
    amazon_order_ref = fields.Char(string="Amazon order", index=True, readonly=True)
    refund_ref = fields.Char(string="Amazon refund", index=True, readonly=True)
    transaction_ref = fields.Char(string="Amazon transaction", readonly=True)
    adjustment_ref = fields.Char(
        string="Amazon adjustment item",
        readonly=True,
        help="Amazon's id of the refunded item in its refund.",
    )
    order_item_ref = fields.Char(string="Amazon order item", readonly=True)
    sku = fields.Char(string="SKU", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    quantity = fields.Integer(readonly=True)
    amount_type = fields.Selection(AMOUNT_TYPES, required=True, readonly=True)
    amazon_type = fields.Char(
        string="Amazon type", readonly=True, help="Amazon's name of the amount."
    )
    side = fields.Selection(SIDES, required=True, default="buyer", readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary(
        readonly=True,
        help="For the buyer's money: what went back to the buyer (a kept "
        "restocking fee is negative). For Amazon's fees: what Amazon gave "
        "back (positive) or kept (negative).",
    )
    tax_amount = fields.Monetary(string="Of which tax", readonly=True)
    posted_date = fields.Datetime(string="Posted", index=True, readonly=True)
    reason = fields.Char(readonly=True)
    origin = fields.Selection(ORIGINS, required=True, readonly=True)
    state = fields.Selection(STATES, required=True, default="done", readonly=True)
    message = fields.Text(readonly=True)
    credit_note_id = fields.Many2one(
        "account.move", string="Credit note", index=True, readonly=True
    )
    feed_ref = fields.Char(
        string="Numbers", readonly=True, help="Amazon's feed id of a refund sent."
    )
    amazon_key = fields.Char(readonly=True, index=True, copy=False)
    feed_id = fields.Many2one(
        "amazon.feed", string="Feed", index=True, readonly=True, ondelete="restrict"
    )
    feed_message = fields.Integer(
        string="Feed message", readonly=True, help="MessageID of the entry in its feed."
    )

    _sql_constraints = [
        (
            "amazon_key_unique",
            "unique(account_id, amazon_key)",
            "An Amazon refund line is imported once per account.",
        ),
    ]

    @api.depends("refund_ref", "amount_type", "sku")
    def _compute_display_name(self):
        types = dict(self._fields["amount_type"]._description_selection(self.env))
        for entry in self:
            entry.display_name = " / ".join(
                filter(
                    None, [entry.refund_ref, entry.sku, types.get(entry.amount_type)]
                )
            )

    @api.model
    def _amazon_action(self, domain):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_refund_connector.action_amazon_refund"
        )
        action["domain"] = domain
        action["context"] = {"create": False}
        return action

    def action_open_credit_note(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.credit_note_id.id,
            "view_mode": "form",
        }

    def action_check_feed(self):
        """Button: read the processing result of the entries' feeds."""
        feeds = self.feed_id
        if not feeds:
            raise UserError(self.env._("These refunds were not sent from Odoo."))
        return feeds.action_check_result()

    # -- import ------------------------------------------------------------------

    @api.model
    def _amazon_import(self, account, client, posted_after, posted_before=None):
        """Import the refunds Amazon posted in the period; an ImportResult.

        ``result.latest`` is the end of the period Amazon was read for.
        """
        result = ImportResult()
        for page in iter_transactions(
            client, posted_after, posted_before=posted_before
        ):
            self._amazon_import_page(account, client, page.transactions, result)
            result.seen(page.posted_before)
            account._commit_page()
        return result

    @api.model
    def _amazon_import_page(self, account, client, transactions, result):
        refunds, problems = refunds_of(transactions)
        for transaction, error in problems:
            ref = (transaction or {}).get("transactionId") or self.env._("(no id)")
            result.fail(ref, None, str(error))
        ours = set(account.marketplace_ids.mapped("marketplace_ref"))
        refunds = [r for r in refunds if r.marketplace_id in ours]
        if not refunds:
            return
        known = set(
            self.with_context(active_test=False)
            .search(
                [
                    ("account_id", "=", account.id),
                    ("amazon_key", "in", [_key(k) for r in refunds for k in r.keys()]),
                ]
            )
            .mapped("amazon_key")
        )
        new = []
        for refund in refunds:
            if known.intersection(_key(k) for k in refund.keys()):
                result.skipped.append(refund.refund_id)
            else:
                new.append(refund)
        if not new:
            return
        sales = self._amazon_orders_of(account, client, new, result)
        ready = []
        for refund in new:
            problem = self._amazon_refund_problem(account, refund, sales)
            if problem:
                result.fail(refund.refund_id, refund.posted, problem)
            else:
                ready.append(refund)
        ready = self._amazon_link_sent(account, ready, sales, result)
        self._amazon_book(account, ready, sales, result)

    @api.model
    def _amazon_orders_of(self, account, client, refunds, result):
        """``{Amazon order ref: sale order}``, importing orders Odoo lacks."""
        refs = {r.order_id for r in refunds}
        sales = self.env["sale.order"].search(
            [
                ("amazon_account_id", "=", account.id),
                ("amazon_order_ref", "in", list(refs)),
            ]
        )
        by_ref = {s.amazon_order_ref: s for s in sales}
        for ref in sorted(refs - set(by_ref)):
            try:
                account._recover_order(client, ref)
            except AmazonThrottled:
                raise
            except (AmazonError, UserError) as error:
                # Not on Amazon, or another sync holds the lock: the refund
                # is reported and read again by the next run.
                _logger.info("Amazon order %s not recovered: %s", ref, error)
        missing = refs - set(by_ref)
        if missing:
            for sale in self.env["sale.order"].search(
                [
                    ("amazon_account_id", "=", account.id),
                    ("amazon_order_ref", "in", list(missing)),
                ]
            ):
                by_ref[sale.amazon_order_ref] = sale
        return by_ref

    @api.model
    def _amazon_refund_problem(self, account, refund, sales):
        """Why ``refund`` cannot be booked now, or False."""
        sale = sales.get(refund.order_id)
        if not sale:
            return self.env._(
                "Refund %(refund)s: order %(order)s is neither in Odoo nor could "
                "it be imported from Amazon.",
                refund=refund.refund_id,
                order=refund.order_id,
            )
        if sale.currency_id.name != refund.currency:
            return self.env._(
                "Refund %(refund)s is in %(currency)s while order %(order)s is in "
                "%(order_currency)s.",
                refund=refund.refund_id,
                currency=refund.currency,
                order=refund.order_id,
                order_currency=sale.currency_id.name,
            )
        if (
            not sale.currency_id.rate_ids
            and sale.currency_id != sale.company_id.currency_id
        ):
            return self.env._(
                "Refund %(refund)s: %(currency)s has no exchange rate in %(company)s.",
                refund=refund.refund_id,
                currency=refund.currency,
                company=sale.company_id.name,
            )
        order_items = [
            (line.amazon_item_ref, line._amazon_refund_sku())
            for line in sale.order_line
            if line.amazon_charge == "ITEM"
        ]
        missing = match_order_items(refund, order_items)
        if missing:
            return self.env._(
                "Refund %(refund)s names SKU %(skus)s, which order %(order)s does "
                "not have.",
                refund=refund.refund_id,
                skus=", ".join(sorted({i.sku or "-" for i in missing})),
                order=refund.order_id,
            )
        return False

    @api.model
    def _amazon_book(self, account, refunds, sales, result):
        """Credit notes and overview entries of ``refunds``, at once if possible."""
        if not refunds:
            return
        builder = CreditNoteBuilder(self.env, account)

        def failed(refund, error):
            _logger.warning("Amazon refund %s: %s", refund.refund_id, error)
            result.fail(
                refund.refund_id,
                refund.posted,
                self.env._(
                    "Refund %(refund)s could not be booked: %(error)s",
                    refund=refund.refund_id,
                    error=error,
                ),
            )

        booked = in_batch_or_alone(
            self.env.cr,
            refunds,
            lambda batch: self._amazon_book_batch(account, batch, sales, builder),
            failed,
            "Booking Amazon refunds",
        )
        result.created.extend(r.refund_id for r in booked)

    @api.model
    def _amazon_book_batch(self, account, refunds, sales, builder):
        company = account.company_id
        plans = {}
        for refund in refunds:
            sale = sales[refund.order_id]
            plans[refund.refund_id] = builder.plan(refund, sale, sale.currency_id)
        taxes = (
            self.env["account.tax"]
            .sudo()
            ._amazon_taxes(
                company,
                {key for _lines, keys in plans.values() for key in keys},
                country=sales[refunds[0].order_id].amazon_marketplace_id.country_id,
            )
        )
        move_vals = []
        for refund in refunds:
            sale = sales[refund.order_id]
            lines, _keys = plans[refund.refund_id]
            move_vals.append(
                self._amazon_credit_note_vals(
                    account, refund, sale, builder.line_commands(lines, taxes)
                )
            )
        moves = (
            self.env["account.move"]
            .sudo()
            .with_context(
                mail_create_nosubscribe=True,
                tracking_disable=True,
                check_move_validity=False,
            )
            .create(move_vals)
        )
        moves.action_post()
        entry_vals = []
        for refund, move in zip(refunds, moves, strict=True):
            sale = sales[refund.order_id]
            entry_vals += self._amazon_entry_vals(account, refund, sale, move)
        self.sudo().create(entry_vals)

    @api.model
    def _amazon_credit_note_vals(self, account, refund, sale, lines):
        invoice = sale.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted"
        ).sorted("id")[-1:]
        return {
            "move_type": "out_refund",
            "partner_id": sale.partner_invoice_id.id,
            "currency_id": sale.currency_id.id,
            "company_id": account.company_id.id,
            "invoice_date": fields.Date.to_date(refund.posted),
            "invoice_origin": sale.name,
            "ref": self.env._(
                "Amazon refund %(refund)s of %(order)s",
                refund=refund.refund_id,
                order=refund.order_id,
            ),
            "team_id": sale.team_id.id,
            "fiscal_position_id": sale.fiscal_position_id.id,
            "reversed_entry_id": invoice.id or False,
            "invoice_line_ids": lines,
        }

    @api.model
    def _amazon_entry_vals(self, account, refund, sale, move):
        """One overview entry per item and amount type of ``refund``."""
        channel_origin = {"FBA": "fba", "FBM": "fbm"}
        problems = self._amazon_refund_flags(refund, sale, move)
        currency = sale.currency_id
        vals_list = []
        for item in refund.items:
            order_line = sale.order_line.filtered(
                lambda li, ref=item.order_item_id: (
                    li.amazon_item_ref == ref and li.amazon_charge == "ITEM"
                )
            )[:1]
            for line in item.lines:
                sign = -1 if line.side == BUYER else 1
                message = list(problems)
                if line.side not in (BUYER, AMAZON):
                    message.append(
                        self.env._(
                            "Amazon's amount type %s is unknown to the connector: "
                            "kept here, not on the credit note.",
                            line.amazon_type,
                        )
                    )
                vals_list.append(
                    {
                        "account_id": account.id,
                        "marketplace_id": sale.amazon_marketplace_id.id,
                        "sale_order_id": sale.id,
                        "amazon_order_ref": refund.order_id,
                        "refund_ref": refund.refund_id,
                        "transaction_ref": refund.transaction_id,
                        "adjustment_ref": item.item_ref,
                        "order_item_ref": item.order_item_id,
                        "sku": item.sku,
                        "product_id": order_line.product_id.id,
                        "quantity": item.quantity,
                        "amount_type": line.kind,
                        "amazon_type": line.amazon_type,
                        "side": line.side,
                        "currency_id": currency.id,
                        "amount": float(sign * line.amount),
                        "tax_amount": float(sign * line.tax),
                        "posted_date": refund.posted,
                        "reason": refund.description,
                        "origin": channel_origin.get(
                            item.channel or sale.amazon_channel, "fbm"
                        ),
                        "state": "done",
                        "message": "\n".join(message) or False,
                        "credit_note_id": move.id if line.side == BUYER else False,
                        "amazon_key": _key(line_key(refund, item, line)),
                    }
                )
        return vals_list

    @api.model
    def _amazon_refund_flags(self, refund, sale, move):
        """What needs a look on a booked refund (messages), or []."""
        flags = []
        refunded = float(refund.refunded)
        if move.currency_id.compare_amounts(move.amount_total, refunded):
            flags.append(
                self.env._(
                    "The credit note's total %(note)s is not Amazon's refund "
                    "%(amazon)s.",
                    note=move.amount_total,
                    amazon=refunded,
                )
            )
        invoiced = move.reversed_entry_id.amount_total or sale.amazon_total
        if move.currency_id.compare_amounts(refunded, invoiced) > 0:
            flags.append(
                self.env._(
                    "Amazon refunded %(refund)s, more than the %(invoiced)s the "
                    "order was invoiced: the credit note is for what Amazon paid.",
                    refund=refunded,
                    invoiced=invoiced,
                )
            )
        return flags


def _key(key):
    return "|".join(str(part or "") for part in key)
