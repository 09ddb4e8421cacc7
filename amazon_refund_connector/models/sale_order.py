import logging
from dataclasses import dataclass, field

from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models

from ..sp_api.order_reports import is_history_item
from ..sp_api.orders import MalformedOrder, parse_datetime, parse_order
from .batching import in_batch_or_alone
from .order_line_builder import OrderLineBuilder

_logger = logging.getLogger(__name__)

AMAZON_STATUSES = [
    ("PENDING_AVAILABILITY", "Pending availability"),
    ("PENDING", "Pending"),
    ("UNSHIPPED", "Unshipped"),
    ("PARTIALLY_SHIPPED", "Partially shipped"),
    ("SHIPPED", "Shipped"),
    ("CANCELLED", "Cancelled"),
    ("UNFULFILLABLE", "Unfulfillable"),
]
AMAZON_CHANNELS = [("FBA", "Fulfilled by Amazon"), ("FBM", "Fulfilled by merchant")]


@dataclass
class ImportResult:
    """What importing one batch of Amazon orders did."""

    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    # order reference -> (last update as Amazon gave it, or None; message)
    failures: dict = field(default_factory=dict)
    # Latest lastUpdatedTime among the orders read (for the cursor).
    latest: object = None
    # Set when the rest of the window is read through an order report: the
    # end of that report's period.
    history_until: object = None

    def fail(self, ref, last_update, message):
        self.failures[ref] = (last_update, message)

    def seen(self, last_update):
        if last_update and (self.latest is None or last_update > self.latest):
            self.latest = last_update

    def merge(self, other):
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        self.failures.update(other.failures)
        self.seen(other.latest)

    @property
    def order_ids(self):
        return self.created + self.updated


class SaleOrder(models.Model):
    _inherit = "sale.order"

    amazon_account_id = fields.Many2one(
        "amazon.account",
        string="Amazon account",
        index=True,
        readonly=True,
        copy=False,
    )
    amazon_order_ref = fields.Char(
        string="Amazon order reference", index=True, readonly=True, copy=False
    )
    amazon_marketplace_id = fields.Many2one(
        "amazon.marketplace", string="Amazon marketplace", readonly=True, copy=False
    )
    amazon_channel = fields.Selection(
        AMAZON_CHANNELS, string="Fulfilment channel", readonly=True, copy=False
    )
    amazon_status = fields.Selection(
        AMAZON_STATUSES, string="Amazon status", readonly=True, copy=False
    )
    amazon_purchase_date = fields.Datetime(
        string="Amazon purchase date", readonly=True, copy=False
    )
    amazon_last_update = fields.Datetime(
        string="Amazon last update", readonly=True, copy=False
    )
    amazon_total = fields.Monetary(
        string="Amazon total",
        readonly=True,
        copy=False,
        help="Order total as Amazon charged it.",
    )
    amazon_issue = fields.Text(
        string="Amazon sync issue",
        readonly=True,
        copy=False,
        help="What needs a look before this order can be trusted as imported.",
    )
    is_amazon_order = fields.Boolean(compute="_compute_is_amazon_order", store=True)
    amazon_refund_count = fields.Integer(compute="_compute_amazon_refund_count")

    _sql_constraints = [
        (
            "amazon_order_ref_unique",
            "unique(amazon_account_id, amazon_order_ref)",
            "An Amazon order can be imported only once per Amazon account.",
        ),
    ]

    @api.depends("amazon_order_ref")
    def _compute_is_amazon_order(self):
        for order in self:
            order.is_amazon_order = bool(order.amazon_order_ref)

    def _compute_amazon_refund_count(self):
        counts = dict(
            self.env["amazon.refund"]._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"]
            )
        )
        for order in self:
            order.amazon_refund_count = counts.get(order, 0)

    def action_view_amazon_refunds(self):
        self.ensure_one()
        return self.env["amazon.refund"]._amazon_action(
            [("sale_order_id", "=", self.id)]
        )

    # -- Odoo behaviour on Amazon orders ----------------------------------

    def _prepare_confirmation_values(self):
        values = super()._prepare_confirmation_values()
        if self.env.context.get("amazon_import"):
            # The order date stays Amazon's purchase date.
            values.pop("date_order", None)
        return values

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        # Never make an Amazon buyer a follower who would get Odoo's e-mails.
        if partner_ids:
            partner_ids = (
                self.env["res.partner"].browse(partner_ids)._amazon_buyers_removed().ids
            )
        return super().message_subscribe(partner_ids, subtype_ids)

    # -- import -------------------------------------------------------------

    @api.model
    def _amazon_import_orders(self, account, raw_orders):
        """Create or update sale orders from Amazon ``Order`` dicts.

        Every order is handled on its own terms: a bad one is reported in the
        result (and left for the next run) while the others go on.
        """
        result = ImportResult()
        marketplaces = {
            m.marketplace_ref: m
            for m in self.env["amazon.marketplace"]
            .with_context(active_test=False)
            .search(
                [
                    (
                        "marketplace_ref",
                        "in",
                        [
                            ((o or {}).get("salesChannel") or {}).get("marketplaceId")
                            for o in raw_orders
                            if isinstance(o, dict)
                        ],
                    )
                ]
            )
        }
        parsed = []
        for raw in raw_orders:
            order = self._amazon_parse(account, raw, marketplaces, result)
            if order is not None:
                parsed.append(order)
        if not parsed:
            return result
        existing = self.search(
            [
                ("amazon_account_id", "=", account.id),
                ("amazon_order_ref", "in", [o.order_ref for o in parsed]),
            ]
        )
        by_ref = {o.amazon_order_ref: o for o in existing}
        self._amazon_update_existing(
            [o for o in parsed if o.order_ref in by_ref], by_ref, result
        )
        new = [o for o in parsed if o.order_ref not in by_ref]
        if new:
            self._amazon_create(account, new, marketplaces, result)
        return result

    @api.model
    def _amazon_parse(self, account, raw, marketplaces, result):
        """A parsed order ready to import, or None (skipped or failed)."""
        ref = raw.get("orderId") if isinstance(raw, dict) else None
        ref = ref if isinstance(ref, str) and ref else self.env._("(no order id)")
        try:
            last_update = parse_datetime(raw.get("lastUpdatedTime"), "lastUpdatedTime")
        except (MalformedOrder, AttributeError):
            last_update = None
        channel = (raw.get("salesChannel") or {}) if isinstance(raw, dict) else {}
        if channel.get("channelName") == "NON_AMAZON":
            # Multi-channel fulfilment of a sale made elsewhere: no Amazon sale.
            result.skipped.append(ref)
            return None
        marketplace_ref = channel.get("marketplaceId")
        marketplace = marketplaces.get(marketplace_ref)
        if marketplace_ref and not marketplace:
            result.fail(
                ref,
                last_update,
                self.env._(
                    "Order %(ref)s: marketplace %(marketplace)s is unknown to Odoo; "
                    "test the account's connection to refresh its marketplaces.",
                    ref=ref,
                    marketplace=marketplace_ref,
                ),
            )
            return None
        result.seen(last_update)
        try:
            order = parse_order(raw, marketplace.tax_included if marketplace else False)
        except MalformedOrder as exc:
            result.fail(
                ref,
                last_update,
                self.env._("Amazon sent an order the connector cannot read: %s", exc),
            )
            return None
        if marketplace not in account.marketplace_ids:
            result.fail(
                ref,
                order.last_update,
                self.env._(
                    "Order %(ref)s belongs to marketplace %(marketplace)s, which is "
                    "not "
                    "synchronised by account %(account)s.",
                    ref=ref,
                    marketplace=marketplace.name,
                    account=account.name,
                ),
            )
            return None
        if not order.importable:
            result.skipped.append(order.order_ref)
            return None
        if not order.currency:
            order.currency = marketplace.currency_id.name
        return order

    @api.model
    def _amazon_update_existing(self, orders, by_ref, result):
        """Follow Amazon's status on orders imported before.

        An order Amazon cancelled is cancelled; one whose confirmation or
        FBA delivery failed before is completed now.
        """
        for order in orders:
            sale = by_ref[order.order_ref]
            if sale.amazon_last_update and order.last_update < sale.amazon_last_update:
                # An older state of the order than the one stored: ignore it.
                result.skipped.append(order.order_ref)
                continue
            try:
                with self.env.cr.savepoint():
                    sale._amazon_follow(order)
            except TransactionRollbackError:
                raise  # concurrent update: let Odoo retry the whole transaction
            except Exception as exc:  # this order only; reported
                _logger.warning("Amazon order %s: update failed: %s", sale.id, exc)
                result.fail(
                    order.order_ref,
                    order.last_update,
                    self.env._(
                        "Order %(ref)s could not be updated: %(error)s",
                        ref=order.order_ref,
                        error=exc,
                    ),
                )
                continue
            result.updated.append(sale.id)

    def _amazon_follow(self, order):
        """Bring this order to the state Amazon reports for ``order``."""
        self.ensure_one()
        vals = {"amazon_last_update": order.last_update}
        if self.amazon_status != order.status:
            vals["amazon_status"] = order.status
        self.write(vals)
        self._amazon_adopt_item_refs(order)
        if order.is_cancelled:
            if self.state != "cancel":
                self._amazon_cancel()
        elif self.state == "draft":
            self._amazon_confirm()
        elif (
            self.amazon_channel == "FBA"
            and self.state == "sale"
            and any(p.state not in ("done", "cancel") for p in self.picking_ids)
        ):
            self._amazon_in_batch_or_alone(
                lambda sales: sales._amazon_fba_deliver(),
                self.env._(
                    "Amazon shipped this FBA order, but its delivery could not be "
                    "booked: %s"
                ),
            )._amazon_invoice_shipped()

    def _amazon_adopt_item_refs(self, order):
        """Give lines booked from an order report Amazon's orderItemIds.

        The report has none: its items carry keys of the connector's, in row
        order. Each takes the id of the next item of ``order`` (an Orders API
        answer) of the same SKU.
        """
        lines = self.order_line.filtered(lambda li: is_history_item(li.amazon_item_ref))
        if not lines:
            return
        free = {}
        for item in order.items:
            if not is_history_item(item.item_ref):
                free.setdefault(item.sku, []).append(item.item_ref)
        keys = sorted(
            set(lines.mapped("amazon_item_ref")),
            key=lambda ref: int(ref.rsplit(":", 1)[-1] or 0),
        )
        for key in keys:
            key_lines = lines.filtered(lambda li, key=key: li.amazon_item_ref == key)
            item_line = key_lines.filtered(lambda li: li.amazon_charge == "ITEM")[:1]
            sku = item_line._amazon_refund_sku() if item_line else None
            if free.get(sku):
                key_lines.write({"amazon_item_ref": free[sku].pop(0)})

    def _amazon_cancel(self):
        """Cancel orders Amazon cancelled, with their open deliveries."""
        self.with_context(disable_cancel_warning=True)._action_cancel()
        for sale in self:
            sale.message_post(body=self.env._("Cancelled on Amazon."))

    @api.model
    def _amazon_create(self, account, orders, marketplaces, result):
        company = account.company_id
        fba_problem = account._fba_location_problem()
        if fba_problem:
            # Booking an FBA order elsewhere would put Amazon's shipment on a
            # warehouse's to-do list: such orders wait for a usable location.
            for order in orders:
                if order.channel == "FBA" and not order.is_cancelled:
                    result.fail(
                        order.order_ref,
                        order.last_update,
                        self.env._(
                            "FBA order %(ref)s was not imported: %(problem)s",
                            ref=order.order_ref,
                            problem=fba_problem,
                        ),
                    )
        currencies = self._amazon_currencies(company, orders, result)
        orders = [o for o in orders if o.order_ref not in result.failures]
        if not orders:
            return
        partners = self.env["res.partner"]._amazon_partners(
            orders, company, marketplaces
        )
        products = self.env["amazon.offer"]._products_by_sku(
            account, {item.sku for o in orders for item in o.items}
        )
        builder = OrderLineBuilder(self.env, account, products)
        plans = {
            o.order_ref: builder.plan(
                o, marketplaces[o.marketplace_ref], currencies[o.currency]
            )
            for o in orders
        }
        # Amazon's taxes, currencies and prices are booked whoever syncs: an
        # Amazon user may not manage taxes or pricelists.
        taxes = (
            self.env["account.tax"]
            .sudo()
            ._amazon_taxes(
                company,
                {key for plan in plans.values() for key in plan.tax_keys},
                country=marketplaces[orders[0].marketplace_ref].country_id,
            )
        )
        pricelists = (
            self.env["product.pricelist"]
            .sudo()
            ._amazon_pricelists(company, {currencies[o.currency] for o in orders})
        )
        vals_by_ref = {}
        for order in orders:
            customer, delivery = partners[order.order_ref]
            vals_by_ref[order.order_ref] = self._amazon_order_vals(
                account,
                order,
                marketplaces[order.marketplace_ref],
                customer,
                delivery,
                pricelists[currencies[order.currency]],
                plans[order.order_ref],
                taxes,
            )
        created = self._amazon_create_batch(vals_by_ref, orders, result)
        created._amazon_check_totals()
        created._amazon_confirm()
        result.created.extend(created.ids)

    def _amazon_check_totals(self):
        """Flag orders whose Odoo total is not the total Amazon charged."""
        for sale in self:
            if sale.currency_id.compare_amounts(sale.amount_total, sale.amazon_total):
                sale.amazon_issue = "\n".join(
                    filter(
                        None,
                        [
                            sale.amazon_issue,
                            self.env._(
                                "Odoo's total %(odoo)s differs from Amazon's "
                                "%(amazon)s.",
                                odoo=sale.amount_total,
                                amazon=sale.amazon_total,
                            ),
                        ],
                    )
                )

    @api.model
    def _amazon_currencies(self, company, orders, result):
        """Currencies of the orders; fail orders whose currency has no rate.

        Odoo would convert an amount without rate at 1:1: the order waits
        until the rate is there instead. The currencies of the orders kept
        are activated (a marketplace's currency is in use once it sells).
        """
        codes = {o.currency for o in orders}
        currencies = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "in", list(codes))])
        )
        by_code = {c.name: c for c in currencies}
        foreign = currencies - company.currency_id
        rated = (
            self.env["res.currency.rate"]
            .search(
                [
                    ("currency_id", "in", foreign.ids),
                    ("company_id", "in", [False, company.id]),
                ]
            )
            .currency_id
        )
        used = self.env["res.currency"]
        for order in orders:
            currency = by_code.get(order.currency)
            if not currency:
                result.fail(
                    order.order_ref,
                    order.last_update,
                    self.env._(
                        "Order %(ref)s is in %(currency)s, a currency Odoo does "
                        "not know.",
                        ref=order.order_ref,
                        currency=order.currency,
                    ),
                )
            elif currency != company.currency_id and currency not in rated:
                result.fail(
                    order.order_ref,
                    order.last_update,
                    self.env._(
                        "Order %(ref)s is in %(currency)s, which has no exchange "
                        "rate in company %(company)s; add one, then synchronise again.",
                        ref=order.order_ref,
                        currency=order.currency,
                        company=company.name,
                    ),
                )
            else:
                used |= currency
        inactive = used.filtered(lambda c: not c.active)
        if inactive:
            inactive.sudo().active = True
        return by_code

    @api.model
    def _amazon_order_vals(
        self, account, order, marketplace, customer, delivery, pricelist, plan, taxes
    ):
        issues = list(plan.issues)
        issues += self.env["res.partner"]._amazon_text_issue_messages(order)
        if order.channel == "FBM" and not order.address and not order.is_cancelled:
            issues.append(
                self.env._(
                    "Amazon gave no delivery address: the delivery goes to the "
                    "customer."
                )
            )
        lines = [fields.Command.create(line.vals(taxes)) for line in plan.lines]
        vals = {
            "partner_id": customer.id,
            "partner_invoice_id": customer.id,
            "partner_shipping_id": delivery.id,
            "pricelist_id": pricelist.id,
            "company_id": account.company_id.id,
            "team_id": account.team_id.id,
            "user_id": False,
            "origin": "Amazon",
            "client_order_ref": order.order_ref,
            "source_id": self.env.ref("amazon_refund_connector.utm_source_amazon").id,
            "date_order": order.purchase_date,
            "amazon_account_id": account.id,
            "amazon_order_ref": order.order_ref,
            "amazon_marketplace_id": marketplace.id,
            "amazon_channel": order.channel,
            "amazon_status": order.status,
            "amazon_purchase_date": order.purchase_date,
            "amazon_last_update": order.last_update,
            "amazon_total": float(order.grand_total),
            "amazon_issue": "\n".join(issues) or False,
            "order_line": lines,
        }
        if order.channel == "FBA":
            vals["warehouse_id"] = account._fba_warehouse().id
        return vals

    @api.model
    def _amazon_create_batch(self, vals_by_ref, orders, result):
        """Create the orders at once; isolate the failing ones if that fails."""
        creator = self.with_context(
            amazon_import=True, mail_create_nosubscribe=True, tracking_disable=True
        )
        last_updates = {o.order_ref: o.last_update for o in orders}
        created = []

        def create(refs):
            created.append(creator.create([vals_by_ref[ref] for ref in refs]))

        def failed(ref, error):
            _logger.warning("Amazon order %s could not be created: %s", ref, error)
            result.fail(
                ref,
                last_updates[ref],
                self.env._(
                    "Order %(ref)s could not be created: %(error)s",
                    ref=ref,
                    error=error,
                ),
            )

        in_batch_or_alone(
            self.env.cr, list(vals_by_ref), create, failed, "Creating Amazon orders"
        )
        return self.concat(*created)

    def _amazon_confirm(self):
        """Confirm new orders (cancel those Amazon already cancelled)."""
        # Without tracking, as they were created: the chatter of an order
        # that arrives confirmed logs no "Quotation -> Sales Order", nor its
        # FBA delivery each of its steps. Invoices are made in the caller's
        # context and keep theirs.
        quiet = self.with_context(tracking_disable=True)
        cancelled = quiet.filtered(lambda o: o.amazon_status == "CANCELLED")
        if cancelled:
            cancelled.with_context(disable_cancel_warning=True)._action_cancel()
        to_confirm = (quiet - cancelled).with_context(
            amazon_import=True, mail_create_nosubscribe=True
        )
        confirmed = to_confirm._amazon_in_batch_or_alone(
            lambda sales: sales.action_confirm(),
            self.env._("The order could not be confirmed: %s"),
        )
        fba = confirmed.filtered(lambda s: s.amazon_channel == "FBA")
        delivered = fba._amazon_in_batch_or_alone(
            lambda sales: sales._amazon_fba_deliver(),
            self.env._(
                "Amazon shipped this FBA order, but its delivery could not "
                "be booked: %s"
            ),
        )
        delivered.with_env(self.env)._amazon_invoice_shipped()

    def _amazon_invoice_shipped(self):
        """Post the invoice of what Amazon orders shipped and is not invoiced.

        Only for accounts that invoice their orders; one invoice per order,
        never sent to the buyer (Amazon hides the buyer's address).
        """
        sales = self.filtered(
            lambda s: (
                s.amazon_account_id.invoice_orders
                and s.state == "sale"
                and any(line.qty_to_invoice for line in s.order_line)
            )
        )

        def invoice(orders):
            moves = orders.with_context(
                mail_create_nosubscribe=True, mail_auto_subscribe_no_notify=True
            )._create_invoices(grouped=True)
            moves.action_post()

        return sales.sudo()._amazon_in_batch_or_alone(
            invoice, self.env._("The order could not be invoiced: %s")
        )

    def _amazon_in_batch_or_alone(self, work, failure):
        """``work(self)`` in one go; if that fails, order by order.

        An order whose own run fails keeps ``failure % error`` as its issue.
        Returns the orders the work succeeded for.
        """

        def failed(sale, error):
            _logger.warning("Amazon order %s: %s", sale.amazon_order_ref, error)
            sale.amazon_issue = "\n".join(
                filter(None, [sale.amazon_issue, failure % error])
            )

        return in_batch_or_alone(
            self.env.cr, self, work, failed, "An Amazon order step"
        )

    def _amazon_fba_deliver(self):
        """Amazon shipped these FBA orders: book their deliveries as done.

        One move per item leaves the account's FBA location with the
        quantity Amazon shipped; nothing is left for a warehouse to process.
        """
        for account in self.amazon_account_id:
            sales = self.filtered(lambda s, a=account: s.amazon_account_id == a)
            pickings = sales.picking_ids.filtered(
                lambda p: p.state not in ("done", "cancel")
            )
            shipped = {
                line: line.amazon_qty_shipped
                for line in sales.order_line
                if line.amazon_charge == "ITEM"
            }
            # Amazon shipped it: booked whatever the stock rights of the user.
            pickings.sudo()._amazon_fba_done(account.fba_location_id, shipped)
