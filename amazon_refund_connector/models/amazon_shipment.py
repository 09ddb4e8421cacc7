import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..sp_api import (
    AmazonAuthError,
    AmazonError,
    AmazonInvalidInput,
    AmazonServerError,
    AmazonThrottled,
)
from ..sp_api.shipments import Package, confirm_shipment, package_applied

_logger = logging.getLogger(__name__)

SYNC_STATES = [
    ("pending", "Amazon sync pending"),
    ("synced", "Synced with Amazon"),
    ("failed", "Amazon sync failed"),
]
# Attempts after which a package Amazon has not confirmed is failed; the
# cron goes on retrying transient failures, ever less often.
MAX_ATTEMPTS = 5
BACKOFF_MINUTES = (1, 5, 15, 60, 240, 720, 1440)
# Errors whose outcome on Amazon's side is unknown: the call may have been
# applied although no answer came.
UNKNOWN_OUTCOME_CODES = ("Timeout", "Unreachable")


class AmazonShipment(models.Model):
    """One package of a merchant-fulfilled delivery, as told to Amazon.

    Amazon confirms shipments per package (Orders v0 confirmShipment). The
    package reference is a positive number unique within the order; sending
    the same reference again edits that package on Amazon, which is what
    makes a resend after an unknown outcome safe.
    """

    _name = "amazon.shipment"
    _description = "Amazon shipment confirmation"
    _order = "id desc"
    _check_company_auto = True

    picking_id = fields.Many2one(
        "stock.picking", required=True, ondelete="cascade", index=True, readonly=True
    )
    sale_order_id = fields.Many2one(
        "sale.order", required=True, ondelete="cascade", index=True, readonly=True
    )
    account_id = fields.Many2one(
        "amazon.account", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    amazon_order_ref = fields.Char(related="sale_order_id.amazon_order_ref")
    package_ref = fields.Integer(
        string="Package reference",
        required=True,
        readonly=True,
        help="Amazon's packageReferenceId: a positive number unique per order.",
    )
    stock_package_id = fields.Many2one(
        "stock.quant.package", string="Package", readonly=True
    )
    items = fields.Json(
        string="Items sent",
        readonly=True,
        help="Amazon order item ids and the quantities shipped.",
    )
    items_text = fields.Char(string="Items", compute="_compute_items_text")
    carrier_code = fields.Char(readonly=True)
    carrier_name = fields.Char(readonly=True)
    tracking_ref = fields.Char(string="Tracking reference", readonly=True)
    ship_date = fields.Datetime(readonly=True)
    state = fields.Selection(
        SYNC_STATES, default="pending", required=True, readonly=True, index=True
    )
    message = fields.Text(string="Amazon's answer", readonly=True)
    attempts = fields.Integer(readonly=True)
    next_try = fields.Datetime(string="Next attempt", readonly=True, index=True)
    transient = fields.Boolean(
        readonly=True,
        help="The last failure was Amazon being unreachable or busy: the "
        "connector tries again by itself.",
    )
    outcome_unknown = fields.Boolean(
        readonly=True,
        help="The last call got no answer: Amazon's order is read before the "
        "package is sent again.",
    )
    synced_date = fields.Datetime(string="Confirmed on", readonly=True)

    _sql_constraints = [
        (
            "package_ref_unique",
            "unique(sale_order_id, package_ref)",
            "A package reference is used once per Amazon order.",
        ),
        (
            "package_ref_positive",
            "check(package_ref > 0)",
            "Amazon needs a positive package reference.",
        ),
    ]

    @api.depends("items")
    def _compute_items_text(self):
        for shipment in self:
            shipment.items_text = ", ".join(
                f"{ref}: {qty}" for ref, qty in sorted((shipment.items or {}).items())
            )

    # -- what is told to Amazon ----------------------------------------------

    def _package(self):
        self.ensure_one()
        return Package(
            reference=self.package_ref,
            carrier_code=self.carrier_code,
            carrier_name=self.carrier_name,
            tracking_number=self.tracking_ref or "",
            ship_date=self.ship_date,
            items={ref: int(qty) for ref, qty in (self.items or {}).items()},
        )

    @api.model
    def _next_package_refs(self, sales):
        """``{sale order id: next free package reference}``, under a row lock.

        The lock on the orders makes two deliveries of one order validated
        at once take different references.
        """
        self.env.cr.execute(
            "SELECT id FROM sale_order WHERE id IN %s FOR UPDATE", (tuple(sales.ids),)
        )
        used = dict(
            self.sudo()._read_group(
                [("sale_order_id", "in", sales.ids)],
                ["sale_order_id"],
                ["package_ref:max"],
            )
        )
        return {sale.id: (used.get(sale) or 0) + 1 for sale in sales}

    # -- the send run --------------------------------------------------------

    @api.model
    def _due_domain(self, account):
        now = fields.Datetime.now()
        return [
            ("account_id", "=", account.id),
            "|",
            ("state", "=", "pending"),
            ("transient", "=", True),
            ("state", "!=", "synced"),
            "|",
            ("next_try", "=", False),
            ("next_try", "<=", now),
        ]

    @api.model
    def _amazon_send_due(self, account, client):
        """Send the account's due packages; returns a summary.

        Throttling stops the run and schedules the next one when Amazon's
        quota allows; what was answered stays answered. Packages that
        failed in this run are listed in one e-mail to the Amazon managers.
        """
        shipments = self.search(self._due_domain(account), order="id")
        newly_failed = self.browse()
        for shipment in shipments:
            was_failed = shipment.state == "failed"
            try:
                shipment._amazon_send(client)
            except AmazonThrottled as error:
                account._enqueue_shipment_confirmation(
                    eta=max(int(error.retry_after + 0.999), 1)
                )
                break
            if shipment.state == "failed" and not was_failed:
                newly_failed |= shipment
        newly_failed.picking_id._amazon_post_failures(newly_failed)
        newly_failed._amazon_mail_failures(account)
        return self.env._(
            "%(synced)s packages confirmed, %(failed)s failed, %(waiting)s waiting.",
            synced=len(shipments.filtered(lambda s: s.state == "synced")),
            failed=len(newly_failed),
            waiting=len(shipments.filtered(lambda s: s.state == "pending")),
        )

    def _amazon_mail_failures(self, account):
        """One e-mail to the account's Amazon managers listing these failures."""
        if not self:
            return
        managers = self.env.ref(
            "amazon_refund_connector.group_amazon_manager"
        ).users.filtered(
            lambda u: u.active and u.email and account.company_id in u.company_ids
        )
        if not managers:
            _logger.warning(
                "Amazon account %s: %s shipments failed and no Amazon manager has "
                "an e-mail address",
                account.id,
                len(self),
            )
            return
        failures = [
            {
                "picking": shipment.picking_id.name,
                "order": shipment.sale_order_id.amazon_order_ref,
                "package": shipment.package_ref,
                "message": shipment.message,
            }
            for shipment in self.sorted(lambda s: (s.picking_id.name, s.package_ref))
        ]
        template = self.env.ref(
            "amazon_refund_connector.mail_template_shipment_failures"
        )
        template.with_context(amazon_failures=failures).send_mail(
            account.id,
            email_values={
                "recipient_ids": [fields.Command.set(managers.partner_id.ids)]
            },
        )

    def _amazon_send(self, client):
        """Confirm this package on Amazon and record what Amazon said.

        Raises AmazonThrottled (nothing recorded: the package stays due).
        """
        self.ensure_one()
        order_ref = self.sale_order_id.amazon_order_ref
        package = self._package()
        try:
            if self.outcome_unknown and self._amazon_has_package(client, package):
                return self._mark_synced(
                    self.env._("Amazon had received the package already.")
                )
            confirm_shipment(
                client,
                order_ref,
                self.sale_order_id.amazon_marketplace_id.marketplace_ref,
                package,
            )
        except AmazonThrottled:
            raise
        except AmazonServerError as error:
            return self._mark_transient(error)
        except AmazonAuthError as error:
            return self._mark_failed(self.account_id._amazon_error_message(error))
        except AmazonInvalidInput as error:
            return self._mark_refused(client, error)
        except AmazonError as error:
            return self._mark_failed(self.account_id._amazon_error_message(error))
        return self._mark_synced(False)

    def _amazon_has_package(self, client, package):
        order = client.get_order(self.sale_order_id.amazon_order_ref, ["PACKAGES"])
        return package_applied(order, package)

    def _mark_synced(self, message):
        self.write(
            {
                "state": "synced",
                "message": message,
                "transient": False,
                "outcome_unknown": False,
                "next_try": False,
                "synced_date": fields.Datetime.now(),
            }
        )

    def _mark_failed(self, message, transient=False):
        self.write(
            {
                "state": "failed",
                "message": message,
                "transient": transient,
                "attempts": self.attempts + 1,
                "next_try": self._backoff() if transient else False,
            }
        )

    def _mark_transient(self, error):
        """Amazon failed or did not answer: try again later, then fail."""
        unknown = self.outcome_unknown or error.code in UNKNOWN_OUTCOME_CODES
        attempts = self.attempts + 1
        reason = self.account_id._amazon_error_message(error)
        if attempts >= MAX_ATTEMPTS:
            message = self.env._(
                "Amazon has not confirmed this package after %(attempts)s "
                "attempts; the connector keeps trying. Last answer: %(reason)s",
                attempts=attempts,
                reason=reason,
            )
            self.outcome_unknown = unknown
            return self._mark_failed(message, transient=True)
        self.write(
            {
                "message": self.env._(
                    "Attempt %(attempt)s of %(max)s: %(reason)s",
                    attempt=attempts,
                    max=MAX_ATTEMPTS,
                    reason=reason,
                ),
                "transient": True,
                "outcome_unknown": unknown,
                "attempts": attempts,
                "next_try": self._backoff(attempts),
            }
        )

    def _mark_refused(self, client, error):
        """Amazon refused the package: a person must look at it.

        The order is read again from Amazon, which tells when it was
        cancelled there meanwhile (and cancels it in Odoo too).
        """
        message = self.account_id._amazon_error_message(error)
        sale = self.sale_order_id
        try:
            self.account_id._recover_order(client, sale.amazon_order_ref)
        except AmazonThrottled as refresh_error:
            # The refusal stands; the next sync refreshes the order.
            _logger.info(
                "Amazon order %s not refreshed: %s",
                sale.amazon_order_ref,
                refresh_error,
            )
        except (AmazonError, UserError) as refresh_error:
            _logger.info(
                "Amazon order %s not refreshed: %s",
                sale.amazon_order_ref,
                refresh_error,
            )
        if sale.amazon_status == "CANCELLED":
            message = self.env._(
                "The order was cancelled on Amazon; do not ship it. %s", message
            )
        self._mark_failed(message)

    def _backoff(self, attempts=None):
        attempts = self.attempts + 1 if attempts is None else attempts
        minutes = BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1]
        return fields.Datetime.now() + timedelta(minutes=minutes)

    def _retry(self):
        """Send these packages again as soon as possible (the Retry button).

        Carrier and tracking are read again from the delivery: what a
        person corrected goes with the resend.
        """
        for picking in self.picking_id:
            code, name = picking._amazon_carrier()
            self.filtered(lambda s, p=picking: s.picking_id == p).write(
                {"carrier_code": code, "carrier_name": name}
            )
            picking._amazon_write_tracking(
                self.filtered(lambda s, p=picking: s.picking_id == p)
            )
        self.write(
            {
                "state": "pending",
                "attempts": 0,
                "transient": False,
                "next_try": False,
                "message": self.env._("Sent again on request."),
            }
        )
        for account in self.account_id:
            account._enqueue_shipment_confirmation()
