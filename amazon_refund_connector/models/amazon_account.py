import logging
from contextlib import contextmanager
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import config

from ..sp_api import (
    AmazonAuthError,
    AmazonClient,
    AmazonError,
    AmazonInvalidInput,
    AmazonServerError,
    AmazonThrottled,
    Credentials,
    endpoint_problem,
)
from ..sp_api.order_reports import ORDERS_BY_LAST_UPDATE, ORDERS_BY_ORDER_DATE
from ..sp_api.orders import (
    FBM_IMPORTED_STATUSES,
    ORDER_SYNC_INCLUDED_DATA,
    parse_datetime,
)
from .amazon_marketplace import REGIONS
from .amazon_refund import FIRST_IMPORT_DAYS, POSTING_LAG_HOURS
from .sale_order import ImportResult

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "amazon_refund_connector.group_amazon_manager"
TECHNICAL_GROUPS = "base.group_no_one,amazon_refund_connector.group_amazon_manager"

# Amazon's AdjustmentReason values (POST_PAYMENT_ADJUSTMENT_DATA).
REFUND_REASONS = [
    ("NoInventory", "No inventory"),
    ("CustomerReturn", "Customer return"),
    ("GeneralAdjustment", "General adjustment"),
    ("CouldNotShip", "Could not ship"),
    ("DifferentItem", "Different item"),
    ("Abandoned", "Abandoned"),
    ("CustomerCancel", "Customer cancel"),
    ("PriceError", "Price error"),
    ("ProductOutofStock", "Product out of stock"),
    ("CustomerAddressIncorrect", "Customer address incorrect"),
    ("Exchange", "Exchange"),
    ("Other", "Other"),
    ("CarrierCreditDecision", "Carrier credit decision"),
    ("RiskAssessmentInformationNotValid", "Risk assessment information not valid"),
    ("CarrierCoverageFailure", "Carrier coverage failure"),
    ("TransactionRecord", "Transaction record"),
    ("Undeliverable", "Undeliverable"),
    ("RefusedDelivery", "Refused delivery"),
]

# How long an interactive call (a button) may wait for a rate-limit token.
INTERACTIVE_MAX_WAIT = 2.0


class SyncRunning(UserError):
    """Another sync of the same account holds its lock."""


# Jobs of an account whose state the account shows.
AMAZON_JOB_METHODS = (
    "_job_sync_orders",
    "_job_refresh_marketplaces",
    "_job_confirm_shipments",
    "_job_import_refunds",
    "_job_import_settlements",
)

# Advisory lock class of an account's order sync (with the account id).
ORDER_SYNC_LOCK = 7310
# ... and of its refund import.
REFUND_SYNC_LOCK = 7311
# How far back the first order sync of an account looks.
FIRST_SYNC_DAYS = 30
# Seconds an SP-API call may take (system parameter amazon_refund_connector.timeout).
DEFAULT_TIMEOUT = 20.0


class AmazonAccount(models.Model):
    _name = "amazon.account"
    _description = "Amazon Seller Account"
    _inherit = ["mail.thread"]
    # Amazon users, who may not edit accounts, still see errors posted on them.
    _mail_post_access = "read"
    _order = "company_id, name"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
    )
    region = fields.Selection(REGIONS, required=True, default="EU", tracking=True)
    seller_ref = fields.Char(
        string="Seller ID",
        help="Merchant token of the seller account in Seller Central.",
        tracking=True,
    )
    # Credentials: only the Amazon managers may read or write them.
    lwa_client_id = fields.Char(
        string="LWA client ID", groups=MANAGER_GROUP, copy=False
    )
    lwa_client_secret = fields.Char(
        string="LWA client secret", groups=MANAGER_GROUP, copy=False
    )
    refresh_token = fields.Char(groups=MANAGER_GROUP, copy=False)
    marketplace_ids = fields.Many2many(
        "amazon.marketplace",
        "amazon_account_marketplace_rel",
        "account_id",
        "marketplace_id",
        string="Synchronised marketplaces",
        domain="[('region', '=', region)]",
        help="Marketplaces whose orders this account imports. Split a "
        "marketplace into an account record of its own to give it its own "
        "stock location or sales team.",
    )
    available_marketplace_ids = fields.Many2many(
        "amazon.marketplace",
        "amazon_account_available_marketplace_rel",
        "account_id",
        "marketplace_id",
        string="Available marketplaces",
        readonly=True,
        help="Marketplaces the seller participates in, as Amazon last said.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales team",
        check_company=True,
        help="Sales team of the orders of this account; give an account its "
        "own team to report on its sales apart.",
    )
    fba_location_id = fields.Many2one(
        "stock.location",
        string="FBA stock location",
        check_company=True,
        domain="[('usage', '=', 'internal')]",
        help="Stock held in Amazon's fulfilment centres for this account. By "
        "default the stock of the company's Amazon FBA warehouse, shared by "
        "its accounts; give a split marketplace's account a location of its "
        "own to follow its stock apart.",
    )
    fba_stock_warning = fields.Text(
        string="FBA stock warning", compute="_compute_fba_stock_warning"
    )
    journal_id = fields.Many2one(
        "account.journal",
        string="Payments journal",
        check_company=True,
        domain="[('type', '=', 'bank')]",
        help="Bank journal receiving Amazon's settlements.",
    )
    last_order_sync = fields.Datetime(
        string="Last order sync",
        copy=False,
        help="Orders whose status changed after this moment are synchronised "
        "next. Set it earlier to synchronise older orders again.",
    )
    auto_import_orders = fields.Boolean(
        string="Import orders automatically", default=True, tracking=True
    )
    invoice_orders = fields.Boolean(
        string="Invoice Amazon orders",
        default=True,
        tracking=True,
        help="Post the customer invoice of what an Amazon order shipped: FBA "
        "orders when they are imported, merchant-fulfilled ones when their "
        "delivery is validated. The invoices are never e-mailed: Amazon hides "
        "the buyers' addresses.",
    )
    auto_import_refunds = fields.Boolean(
        string="Import refunds automatically", tracking=True
    )
    last_refund_sync = fields.Datetime(
        string="Last refund import",
        copy=False,
        help="Refunds Amazon posted after this moment (less the two days "
        "Amazon may take to list a posting) are imported next.",
    )
    refund_count = fields.Integer(compute="_compute_refund_count")
    default_refund_reason = fields.Selection(
        REFUND_REASONS, default="CustomerReturn", required=True
    )
    # Technical: where the SP-API and Login with Amazon are reached.
    endpoint_override = fields.Char(
        string="SP-API endpoint override",
        groups=TECHNICAL_GROUPS,
        help="Base URL used instead of the region's SP-API endpoint (e.g. a sandbox).",
    )
    lwa_endpoint_override = fields.Char(
        string="LWA token URL override",
        groups=TECHNICAL_GROUPS,
        help="URL used instead of https://api.amazon.com/auth/o2/token.",
    )
    connection_state = fields.Selection(
        [("unknown", "Not tested"), ("ok", "Connected"), ("failed", "Failed")],
        default="unknown",
        readonly=True,
        copy=False,
    )
    order_count = fields.Integer(compute="_compute_order_count")
    job_message = fields.Text(
        string="Background work",
        compute="_compute_job_message",
        help="What the account's last background job waits for or failed on.",
    )
    last_error = fields.Text(readonly=True, copy=False)
    last_error_date = fields.Datetime(readonly=True, copy=False)

    _sql_constraints = [
        (
            "name_company_unique",
            "unique(name, company_id)",
            "An Amazon account name must be unique per company.",
        ),
    ]

    def _compute_order_count(self):
        counts = dict(
            self.env["sale.order"]._read_group(
                [("amazon_account_id", "in", self.ids)],
                ["amazon_account_id"],
                ["__count"],
            )
        )
        for account in self:
            account.order_count = counts.get(account, 0)

    def _compute_refund_count(self):
        counts = dict(
            self.env["amazon.refund"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.refund_count = counts.get(account, 0)

    def action_view_refunds(self):
        self.ensure_one()
        return self.env["amazon.refund"]._amazon_action([("account_id", "=", self.id)])

    def _compute_fba_stock_warning(self):
        """Products Amazon shipped beyond the stock recorded at FBA locations.

        Amazon is authoritative on what it shipped, so such moves are done
        anyway and the location goes negative until someone records the
        replenishment or an inventory adjustment.
        """
        locations = self.fba_location_id
        negative = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [("location_id", "in", locations.ids), ("quantity", "<", 0)],
                ["location_id", "product_id"],
                ["quantity:sum"],
            )
            if locations
            else []
        )
        for account in self:
            lines = [
                f"{product.display_name}: {quantity:g}"
                for location, product, quantity in negative
                if location == account.fba_location_id
            ]
            account.fba_stock_warning = (
                self.env._(
                    "Amazon shipped more than the stock recorded at %(location)s. "
                    "Record the replenishments or adjust the inventory of:\n%(lines)s",
                    location=account.fba_location_id.display_name,
                    lines="\n".join(lines),
                )
                if lines
                else False
            )

    def _fba_warehouse(self):
        """Warehouse of FBA orders: the FBA location's, else the company's."""
        self.ensure_one()
        return (
            self.fba_location_id.warehouse_id or self.company_id._amazon_fba_warehouse()
        )

    def _fba_location_problem(self):
        """Why FBA orders of this account cannot be booked, or False."""
        self.ensure_one()
        if not self.fba_location_id:
            self.sudo().fba_location_id = self._fba_warehouse().lot_stock_id
        location = self.fba_location_id.sudo()
        if not location.active:
            return self.env._(
                "The FBA location %(location)s of account %(account)s is archived.",
                location=location.display_name,
                account=self.name,
            )
        if location.company_id and location.company_id != self.company_id:
            return self.env._(
                "The FBA location %(location)s belongs to %(company)s, not to "
                "%(account_company)s.",
                location=location.display_name,
                company=location.company_id.name,
                account_company=self.company_id.name,
            )
        if location.usage != "internal":
            return self.env._(
                "The FBA location %s is not an internal location.",
                location.display_name,
            )
        warehouse = location.warehouse_id
        if warehouse and warehouse.delivery_steps != "ship_only":
            # Each step's picking would be re-sourced: stock would leave twice.
            return self.env._(
                "The FBA location %(location)s is in warehouse %(warehouse)s, "
                "which delivers in several steps; FBA stock needs a warehouse "
                "delivering in one step, like Amazon FBA.",
                location=location.display_name,
                warehouse=warehouse.name,
            )
        if warehouse and warehouse == self._fbm_warehouse():
            return self.env._(
                "The FBA location %(location)s is in %(warehouse)s, the warehouse "
                "merchant-fulfilled orders ship from: its stock would serve both.",
                location=location.display_name,
                warehouse=warehouse.name,
            )
        return False

    def _fbm_warehouse(self):
        """The warehouse merchant-fulfilled orders of this account ship from."""
        return self.env.user.with_company(self.company_id)._get_default_warehouse_id()

    def _compute_job_message(self):
        """The reason of a job of the account waiting to retry, or failed.

        A throttled or failing job is rolled back and re-scheduled by
        queue_job, which keeps the reason on the job: it is shown here.
        """
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search(
                [
                    ("model_name", "=", self._name),
                    ("method_name", "in", AMAZON_JOB_METHODS),
                    ("state", "in", ("pending", "failed")),
                ],
                order="date_created desc",
                limit=200,
            )
        )
        for account in self:
            job = next(
                (
                    j
                    for j in jobs
                    if account.id in j.records.ids
                    and (j.state == "failed" or (j.retry and j.result))
                ),
                None,
            )
            if not job:
                account.job_message = False
            elif job.state == "failed":
                account.job_message = self.env._(
                    "%(job)s failed: %(error)s",
                    job=job.name,
                    error=job.exc_message or job.exc_name or "",
                )
            else:
                account.job_message = self.env._(
                    "%(job)s will try again (attempt %(attempt)s): %(reason)s",
                    job=job.name,
                    attempt=job.retry + 1,
                    reason=job.result,
                )

    def action_view_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_refund_connector.action_amazon_orders"
        )
        action["domain"] = [("amazon_account_id", "=", self.id)]
        return action

    # -- defaults -----------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        for account in accounts.filtered(lambda a: not a.team_id):
            account.team_id = account._default_team()
        for account in accounts.filtered(lambda a: not a.fba_location_id):
            account.fba_location_id = (
                account.company_id._amazon_fba_warehouse().lot_stock_id
            )
        return accounts

    @api.constrains("endpoint_override", "lwa_endpoint_override")
    def _check_endpoint_overrides(self):
        """Refuse on save an override no call could reach (never an outage)."""
        problems = {
            "empty": self.env._("it is empty"),
            "spaces": self.env._("it contains spaces or control characters"),
            "port": self.env._("its port is not a number between 1 and 65535"),
            "scheme": self.env._("it does not start with http:// or https://"),
            "host": self.env._("it names no host"),
            "query": self.env._("it has a query or a fragment"),
        }
        for account in self.sudo():
            for name in ("endpoint_override", "lwa_endpoint_override"):
                url = account[name]
                problem = url and endpoint_problem(url)
                if problem:
                    raise ValidationError(
                        self.env._(
                            "%(field)s %(url)s is not a valid http(s) URL: "
                            "%(problem)s. Enter an address such as "
                            "https://sandbox.example.com, or leave it empty.",
                            field=account._fields[name]._description_string(self.env),
                            url=url,
                            problem=problems[problem],
                        )
                    )

    def _default_team(self):
        """The company's "Amazon" sales team, shared by its accounts."""
        self.ensure_one()
        team_model = self.env["crm.team"].sudo()
        team = team_model.search(
            [("company_id", "=", self.company_id.id), ("name", "=", "Amazon")],
            limit=1,
        )
        return team or team_model.create(
            {"name": "Amazon", "company_id": self.company_id.id}
        )

    # -- talking to Amazon ------------------------------------------------

    def _get_credentials(self):
        self.ensure_one()
        account = self.sudo()
        return Credentials(
            client_id=account.lwa_client_id or "",
            client_secret=account.lwa_client_secret or "",
            refresh_token=account.refresh_token or "",
            region=account.region,
            endpoint=account.endpoint_override or None,
            lwa_endpoint=account.lwa_endpoint_override or None,
        )

    def _get_client(self, interactive=False):
        """An :class:`AmazonClient` sharing this account's rate limits."""
        self.ensure_one()
        timeout = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("amazon_refund_connector.timeout", DEFAULT_TIMEOUT)
        )
        return AmazonClient(
            self._get_credentials(),
            self.env["amazon.rate.limit"]._limiter_of(self),
            max_wait=INTERACTIVE_MAX_WAIT if interactive else 0.0,
            timeout=float(timeout),
        )

    @api.model
    def _amazon_error_message(self, error):
        """A translated, secret-free sentence describing ``error``."""
        if isinstance(error, AmazonThrottled):
            return self.env._(
                "Amazon is limiting the calls of this account (%(operation)s). "
                "Try again in %(seconds)s seconds.",
                operation=error.operation or "",
                seconds=max(int(error.retry_after + 0.999), 1),
            )
        if isinstance(error, AmazonAuthError):
            return self.env._(
                "Amazon refused the account's credentials. Check the LWA client "
                "ID, client secret and refresh token. Amazon said: %s",
                error.message,
            )
        if isinstance(error, AmazonInvalidInput):
            return self.env._("Amazon refused the request: %s", error.message)
        if isinstance(error, AmazonServerError):
            return self.env._(
                "Amazon could not be reached or failed; the operation will "
                "succeed once Amazon answers again. Details: %s",
                error.message,
            )
        return self.env._("Amazon error: %s", error.message)

    def _record_amazon_error(self, error, what):
        """Keep ``error`` on the account (banner and chatter) and in the log."""
        message = self._amazon_error_message(error)
        _logger.warning("Amazon account %s: %s: %s", self.ids, what, error)
        # Technical state: kept whoever triggered the call.
        self.sudo().write(
            {
                "last_error": f"{what}: {message}",
                "last_error_date": fields.Datetime.now(),
            }
        )
        for account in self:
            account.message_post(
                body=self.env._("%(what)s: %(message)s", what=what, message=message)
            )
        return message

    def action_clear_error(self):
        self.sudo().write({"last_error": False, "last_error_date": False})

    def action_test_connection(self):
        """Call Amazon with the account's credentials and say what happened."""
        self.ensure_one()
        client = None
        try:
            client = self._get_client(interactive=True)
            # A cached access token would hide a wrong client secret.
            client.forget_access_token()
            participations = client.get_marketplace_participations()
        except AmazonError as error:
            message = self._record_amazon_error(
                error, self.env._("Connection test failed")
            )
            self.sudo().connection_state = "failed"
            return self._notify(self.env._("Connection failed"), message, "danger")
        finally:
            if client:
                client.close()
        marketplaces = self._apply_participations(participations)
        self.sudo().write(
            {"connection_state": "ok", "last_error": False, "last_error_date": False}
        )
        message = self.env._(
            "Amazon accepted the credentials. The seller participates in "
            "%(count)s marketplaces: %(names)s.",
            count=len(marketplaces),
            names=", ".join(marketplaces.mapped("name")) or "-",
        )
        self.message_post(body=message)
        return self._notify(self.env._("Connection successful"), message, "success")

    def _apply_participations(self, participations):
        """Store the marketplaces Amazon says the seller participates in.

        Amazon is the authority here, so this runs as superuser whoever asked.
        """
        account = self.sudo()
        marketplaces = account.env["amazon.marketplace"]._sync_from_participations(
            participations
        )
        account.available_marketplace_ids = marketplaces
        if not account.marketplace_ids:
            account.marketplace_ids = marketplaces.filtered(
                lambda m: m.region == account.region
            )
        return marketplaces.with_env(self.env)

    @staticmethod
    def _notify(title, message, kind):
        """A notification, then a reload of the view showing what changed."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # -- scheduled work ---------------------------------------------------

    @api.model
    def _cron_refresh_marketplaces(self):
        """Enqueue a marketplace refresh per active account."""
        for account in self.search([]):
            account.with_delay(
                channel="root.amazon",
                identity_key=f"amazon-marketplaces-{account.id}",
                description=self.env._(
                    "Amazon: refresh marketplaces of %s", account.name
                ),
            )._job_refresh_marketplaces()

    def _job_refresh_marketplaces(self):
        self.ensure_one()
        return self._run_amazon_job(
            self.env._("Marketplace refresh failed"),
            lambda client: self._apply_participations(
                client.get_marketplace_participations()
            ).mapped("marketplace_ref"),
        )

    def _run_amazon_job(self, what, work):
        """Run ``work(client)`` in a queue job and return its result.

        Throttling re-schedules the job after the delay Amazon asked for (no
        worker sleeps), an outage (Amazon or Login with Amazon unreachable or
        failing) after the job's back-off; other Amazon errors (refused
        credentials, a malformed endpoint) are recorded on the account and
        end the job with that message as its result.
        """
        # queue_job is a dependency of the addon, not of the SP-API layer.
        from odoo.addons.queue_job.exception import RetryableJobError

        self.ensure_one()
        client = None
        try:
            client = self._get_client()
            return work(client)
        except AmazonThrottled as error:
            raise RetryableJobError(
                str(error),
                seconds=max(int(error.retry_after + 0.999), 1),
                ignore_retry=True,
            ) from None
        except AmazonServerError as error:
            # An outage: the job's retry pattern backs off attempt by attempt.
            raise RetryableJobError(self._amazon_error_message(error)) from None
        except SyncRunning as error:
            raise RetryableJobError(str(error), seconds=60) from None
        except AmazonError as error:
            return self._record_amazon_error(error, what)
        finally:
            if client:
                client.close()

    # -- shipment confirmations --------------------------------------------

    @api.model
    def _cron_confirm_shipments(self):
        """Enqueue a shipment run for each account with packages due."""
        due = self.env["amazon.shipment"].sudo()
        for account in self.search([]):
            if due.search_count(due._due_domain(account), limit=1):
                account._enqueue_shipment_confirmation()

    def _enqueue_shipment_confirmation(self, eta=None):
        self.ensure_one()
        return self.with_delay(
            channel="root.amazon",
            identity_key=f"amazon-shipments-{self.id}",
            eta=eta,
            description=self.env._("Amazon: confirm shipments of %s", self.name),
        )._job_confirm_shipments()

    def _job_confirm_shipments(self):
        self.ensure_one()
        return self._run_amazon_job(
            self.env._("Shipment confirmation failed"),
            lambda client: (
                self.env["amazon.shipment"].sudo()._amazon_send_due(self, client)
            ),
        )

    # -- refund import ------------------------------------------------------

    def action_import_refunds(self):
        """Button: import the refunds Amazon posted since the last import."""
        self.ensure_one()
        client = None
        try:
            client = self._get_client(interactive=True)
            result = self._import_refunds(client)
        except AmazonThrottled as error:
            self._enqueue_refund_import()
            return self._notify(
                self.env._("Refund import continues in the background"),
                self._amazon_error_message(error),
                "warning",
            )
        except AmazonError as error:
            message = self._record_amazon_error(
                error, self.env._("Refund import failed")
            )
            return self._notify(self.env._("Refund import failed"), message, "danger")
        finally:
            if client:
                client.close()
        return self._notify(
            self.env._("Refunds imported"),
            self._refund_summary(result),
            "warning" if result.failures else "success",
        )

    @api.model
    def _cron_import_refunds(self):
        """Enqueue a refund import per account that imports them automatically."""
        for account in self.search([("auto_import_refunds", "=", True)]):
            account._enqueue_refund_import()

    def _enqueue_refund_import(self):
        self.ensure_one()
        return self.with_delay(
            channel="root.amazon",
            identity_key=f"amazon-refund-import-{self.id}",
            description=self.env._("Amazon: import refunds of %s", self.name),
        )._job_import_refunds()

    def _job_import_refunds(self):
        self.ensure_one()
        return self._run_amazon_job(
            self.env._("Refund import failed"),
            lambda client: self._refund_summary(
                self.with_context(amazon_commit_pages=True)._import_refunds(client)
            ),
        )

    def _refund_summary(self, result):
        return self.env._(
            "%(created)s refunds imported, %(skipped)s already there, "
            "%(failed)s failed.",
            created=len(result.created),
            skipped=len(result.skipped),
            failed=len(result.failures),
        )

    def _import_refunds(self, client, start=None, end=None):
        """Import the refunds Amazon posted from ``start`` to ``end``.

        Without ``start`` the account's cursor less Amazon's posting lag is
        read (what was imported before is skipped by its key) and the cursor
        moves to the end of what Amazon was read for, never past a refund
        that failed. A given period leaves the cursor where it is.
        """
        self.ensure_one()
        move_cursor = start is None
        if start is None:
            start = (
                self.last_refund_sync - timedelta(hours=POSTING_LAG_HOURS)
                if self.last_refund_sync
                else fields.Datetime.now() - timedelta(days=FIRST_IMPORT_DAYS)
            )
        with self._sync_lock(REFUND_SYNC_LOCK):
            result = self.env["amazon.refund"]._amazon_import(
                self, client, start, posted_before=end
            )
        failed = [t for t, _msg in result.failures.values()]
        if move_cursor and None not in failed:
            # A failure of unknown date keeps the cursor: the same period is
            # read again.
            cursor = min(failed) if failed else result.latest
            if cursor and (not self.last_refund_sync or cursor > self.last_refund_sync):
                self.sudo().last_refund_sync = cursor
        self._report_failures(result, self.env._("Refund import"), refunds=True)
        return result

    # -- order sync ---------------------------------------------------------

    def action_sync_orders(self):
        """Button: synchronise now; what Amazon throttles continues in a job."""
        self.ensure_one()
        client = None
        try:
            client = self._get_client(interactive=True)
            result = self._sync_orders(client)
        except AmazonThrottled as error:
            self._enqueue_order_sync()
            return self._notify(
                self.env._("Order sync continues in the background"),
                self._amazon_error_message(error),
                "warning",
            )
        except AmazonError as error:
            message = self._record_amazon_error(error, self.env._("Order sync failed"))
            return self._notify(self.env._("Order sync failed"), message, "danger")
        finally:
            if client:
                client.close()
        return self._notify(
            self.env._("Orders synchronised"),
            self._sync_summary(result),
            "warning" if result.failures else "success",
        )

    @api.model
    def _cron_sync_orders(self):
        """Enqueue an order sync per account that imports automatically."""
        for account in self.search([("auto_import_orders", "=", True)]):
            account._enqueue_order_sync()

    def _enqueue_order_sync(self):
        self.ensure_one()
        return self.with_delay(
            channel="root.amazon",
            identity_key=f"amazon-order-sync-{self.id}",
            description=self.env._("Amazon: synchronise orders of %s", self.name),
        )._job_sync_orders()

    def _job_sync_orders(self):
        self.ensure_one()
        return self._run_amazon_job(
            self.env._("Order sync failed"),
            lambda client: self._sync_summary(
                self.with_context(amazon_commit_pages=True)._sync_orders(client)
            ),
        )

    def _sync_summary(self, result):
        return self.env._(
            "%(created)s orders created, %(updated)s updated, %(skipped)s skipped, "
            "%(failed)s failed.",
            created=len(result.created),
            updated=len(result.updated),
            skipped=len(result.skipped),
            failed=len(result.failures),
        )

    @contextmanager
    def _sync_lock(self, lock=ORDER_SYNC_LOCK):
        """Hold one of this account's sync locks, or raise SyncRunning.

        The lock is a session lock taken on a connection of its own: a job
        commits page by page, so a transaction lock would not last, and a
        lock on the job's own connection could not be released once its
        transaction failed.
        """
        with self.env.registry.cursor() as lock_cr:
            lock_cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (lock, self.id))
            if not lock_cr.fetchone()[0]:
                raise SyncRunning(
                    self.env._(
                        "%(what)s of %(account)s are being synchronised already; "
                        "try again in a moment.",
                        what=self.env._("Refunds")
                        if lock == REFUND_SYNC_LOCK
                        else self.env._("Orders"),
                        account=self.name,
                    )
                )
            try:
                yield
            finally:
                lock_cr.execute("SELECT pg_advisory_unlock(%s, %s)", (lock, self.id))

    def _sync_orders(self, client):
        """Import the orders whose status changed since the cursor.

        The cursor (``last_order_sync``) moves only past what was stored: to
        the end of the window Amazon searched when every order was imported,
        otherwise to the earliest failed order, which the next run fetches
        again.
        """
        self.ensure_one()
        since = self.last_order_sync or (
            fields.Datetime.now() - timedelta(days=FIRST_SYNC_DAYS)
        )
        result = ImportResult()
        window_end = None
        with self._sync_lock():
            for page in self._search_order_pages(
                client,
                result,
                history=(ORDERS_BY_LAST_UPDATE, since, True),
                marketplace_ids=self.marketplace_ids.mapped("marketplace_ref"),
                last_updated_after=since,
                fulfillment_statuses=FBM_IMPORTED_STATUSES,
                included_data=ORDER_SYNC_INCLUDED_DATA,
            ):
                result.merge(self._import_page(page["orders"]))
                window_end = page["before"] or window_end
            self._store_cursor(since, window_end, result)
        self._report_failures(result, self.env._("Order sync"))
        return result

    def _search_order_pages(self, client, result, history=None, **query):
        """The pages of a searchOrders query.

        ``history`` is ``(report type, start, move the cursor)`` where a
        history too long for searchOrders' quota may be read through Amazon's
        order reports instead (see ``amazon_account_history``).
        """
        return client.iter_search_orders(**query)

    def _import_page(self, orders):
        result = self.env["sale.order"]._amazon_import_orders(self, orders)
        self._commit_page()
        return result

    def _commit_page(self):
        """In a job, keep each stored page even if a later page fails: the
        cursor has not moved, so a re-run finds the page as imported."""
        if self.env.context.get("amazon_commit_pages") and not config["test_enable"]:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _store_cursor(self, since, window_end, result):
        """Move the cursor past what was stored, never past a failed order.

        Without failures it goes to the end of the window Amazon searched
        (``lastUpdatedBefore`` of its answer) or, when Amazon leaves that
        out, to the latest update read: lastUpdatedAfter includes its bound,
        so that order is read again, not lost.
        """
        if result.history_until:
            # The rest of the window, failed orders included, is read through
            # Amazon's order reports; the sync goes on from its end.
            if result.history_until > since:
                self.sudo().last_order_sync = result.history_until
            return
        failed_times = [t for t, _msg in result.failures.values()]
        if None in failed_times:
            return  # a failed order of unknown date: look at the same window again
        if failed_times:
            cursor = min(failed_times)
        else:
            try:
                cursor = (
                    parse_datetime(window_end, "lastUpdatedBefore")
                    if window_end
                    else result.latest
                )
            except ValueError:
                cursor = result.latest
        if cursor and cursor > since:
            self.sudo().last_order_sync = cursor

    def _report_failures(self, result, what, refunds=False):
        if not result.failures:
            return
        lines = [message for _time, message in result.failures.values()]
        for line in lines:
            _logger.warning("Amazon account %s: %s: %s", self.id, what, line)
        if refunds:
            summary = self.env._(
                "%(what)s: %(count)s refunds could not be imported and will be "
                "read again at the next import:\n%(lines)s",
                what=what,
                count=len(lines),
                lines="\n".join(lines),
            )
        else:
            summary = self.env._(
                "%(what)s: %(count)s orders could not be imported and will be "
                "fetched again at the next sync:\n%(lines)s",
                what=what,
                count=len(lines),
                lines="\n".join(lines),
            )
        self.sudo().write(
            {"last_error": summary, "last_error_date": fields.Datetime.now()}
        )
        self.message_post(body=summary)

    def _import_orders_since(self, client, days):
        """Manual import: orders created in the last ``days`` days.

        Leaves the cursor where it is.
        """
        self.ensure_one()
        result = ImportResult()
        created_after = fields.Datetime.now() - timedelta(days=days)
        with self._sync_lock():
            for page in self._search_order_pages(
                client,
                result,
                history=(ORDERS_BY_ORDER_DATE, created_after, False),
                marketplace_ids=self.marketplace_ids.mapped("marketplace_ref"),
                created_after=created_after,
                fulfillment_statuses=FBM_IMPORTED_STATUSES,
                included_data=ORDER_SYNC_INCLUDED_DATA,
            ):
                result.merge(self._import_page(page["orders"]))
        self._report_failures(result, self.env._("Order import"))
        return result

    def _recover_order(self, client, order_ref):
        """Import or refresh one order, whatever the cursor."""
        self.ensure_one()
        order = client.get_order(order_ref.strip(), ORDER_SYNC_INCLUDED_DATA)
        with self._sync_lock():
            result = self.env["sale.order"]._amazon_import_orders(self, [order])
        self._report_failures(result, self.env._("Order recovery"))
        return result
