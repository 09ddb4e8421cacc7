"""A long order history imported through Amazon's order reports.

One record per account, marketplace and period. Its job moves through the
phases below, committing after each step, so that a job killed at any point
resumes where the last commit left it and never books an order twice:

``request``   createReport for the next window of at most 30 days;
``wait``      getReport, looked at again after 30 s, 60 s, 120 s, then every
              5 minutes, until Amazon has made the report;
``download``  the document streamed into a temporary file and its rows stored
              here per order (``amazon.order.history.order``);
``import``    the stored orders booked 200 at a time, like searchOrders ones;
``open``      the merchant's orders still to ship: the report has no buyer and
              no street, so these are fetched through searchOrders;
``done`` / ``failed``.

Orders Amazon has shipped or cancelled are booked to one customer per
marketplace, with the delivery city, postal code and country the report
gives; their totals, taxes, promotions and FBA stock moves are those of a
searchOrders import, since the report's rows are read into the same Order
objects. A later searchOrders answer for such an order updates it in place.
"""

import json
import logging
import tempfile
from datetime import timedelta

from psycopg2.extras import execute_values

from odoo import api, fields, models

from ..sp_api.order_reports import (
    MAX_WINDOW,
    ORDERS_BY_LAST_UPDATE,
    ORDERS_BY_ORDER_DATE,
    OrderReportReader,
    ReportRow,
    create_report,
    get_report,
    legacy_charset,
    order_from_rows,
    poll_delay,
)
from ..sp_api.orders import (
    FBA_IMPORTED_STATUSES,
    FBM_IMPORTED_STATUSES,
    ORDER_SYNC_INCLUDED_DATA,
)
from ..sp_api.reports import (
    MalformedReport,
    download_document,
    get_report_document,
    text_lines,
)

_logger = logging.getLogger(__name__)

PHASES = [
    ("request", "Requesting the report"),
    ("wait", "Waiting for Amazon's report"),
    ("download", "Downloading the report"),
    ("import", "Importing orders"),
    ("open", "Fetching orders still to ship"),
    ("done", "Done"),
    ("failed", "Failed"),
]
ACTIVE_PHASES = ("request", "wait", "download", "import", "open")
IMPORT_BATCH = 200
STAGE_BATCH = 500
# Amazon advises asking again for a report that ended FATAL; after this many
# the period is left to the user.
MAX_FATAL = 3
OPEN_STATUSES = ("UNSHIPPED", "PARTIALLY_SHIPPED")


class AmazonOrderHistory(models.Model):
    _name = "amazon.order.history"
    _description = "Amazon order history import"
    _order = "id desc"

    account_id = fields.Many2one(
        "amazon.account", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    marketplace_id = fields.Many2one(
        "amazon.marketplace", required=True, ondelete="restrict"
    )
    report_type = fields.Selection(
        [
            (ORDERS_BY_LAST_UPDATE, "Orders updated in the period"),
            (ORDERS_BY_ORDER_DATE, "Orders placed in the period"),
        ],
        required=True,
        default=ORDERS_BY_LAST_UPDATE,
    )
    date_from = fields.Datetime(string="From", required=True)
    date_to = fields.Datetime(string="To", required=True)
    move_cursor = fields.Boolean(
        help="When done, the order sync goes on from the end of the period.",
    )
    window_start = fields.Datetime(readonly=True)
    window_end = fields.Datetime(readonly=True)
    next_start = fields.Datetime(
        readonly=True, help="Where the next report's window starts."
    )
    state = fields.Selection(PHASES, default="request", required=True, index=True)
    report_ref = fields.Char(string="Amazon report", readonly=True, copy=False)
    report_status = fields.Char(string="Amazon's report status", readonly=True)
    document_ref = fields.Char(readonly=True, copy=False)
    polls = fields.Integer(readonly=True)
    fatal_count = fields.Integer(readonly=True)
    next_check = fields.Datetime(readonly=True)
    open_token = fields.Char(readonly=True, copy=False)
    message = fields.Text(readonly=True)
    order_ids = fields.One2many("amazon.order.history.order", "history_id")
    expected_count = fields.Integer(string="Orders in the report", readonly=True)
    stored_count = fields.Integer(string="Orders stored", readonly=True)
    failed_count = fields.Integer(readonly=True)
    progress = fields.Char(compute="_compute_progress")

    @api.depends(
        "state", "expected_count", "stored_count", "failed_count", "report_status"
    )
    def _compute_progress(self):
        phases = dict(self._fields["state"]._description_selection(self.env))
        for history in self:
            text = self.env._(
                "%(stored)s of %(expected)s orders stored; %(phase)s",
                stored=history.stored_count,
                expected=history.expected_count,
                phase=phases[history.state],
            )
            if history.state == "wait" and history.report_status:
                text += f" ({history.report_status})"
            if history.failed_count:
                text += self.env._("; %s failed", history.failed_count)
            history.progress = text

    # -- starting and running ----------------------------------------------------

    @api.model
    def _start(self, account, date_from, date_to, report_type, move_cursor):
        """One history per marketplace of ``account``, each with its job."""
        histories = self.sudo().create(
            [
                {
                    "account_id": account.id,
                    "marketplace_id": marketplace.id,
                    "report_type": report_type,
                    "date_from": date_from,
                    "date_to": date_to,
                    "move_cursor": move_cursor,
                    "message": self.env._("Waiting for its job to start."),
                }
                for marketplace in account.marketplace_ids
            ]
        )
        for history in histories:
            history._enqueue()
        return histories

    def _enqueue(self, eta=None):
        self.ensure_one()
        return self.with_delay(
            channel="root.amazon",
            identity_key=f"amazon-order-history-{self.id}",
            eta=eta,
            description=self.env._(
                "Amazon: order history of %(account)s on %(marketplace)s",
                account=self.account_id.name,
                marketplace=self.marketplace_id.name,
            ),
        )._job_run()

    def action_resume(self):
        for history in self.filtered(lambda h: h.state in ACTIVE_PHASES):
            history._enqueue()

    def _job_run(self):
        """The job: run the phases; while Amazon makes the report, the job is
        re-scheduled (no worker waits)."""
        from odoo.addons.queue_job.exception import RetryableJobError

        self.ensure_one()
        history = self.with_context(amazon_commit_pages=True)
        outcome = self.account_id._run_amazon_job(
            self.env._("Order history import failed"), history._run
        )
        if isinstance(outcome, (int, float)) and not isinstance(outcome, bool):
            raise RetryableJobError(
                self.message, seconds=int(outcome), ignore_retry=True
            )
        if isinstance(outcome, str) and self.state in ACTIVE_PHASES:
            self.message = outcome
        return self.message

    def _commit(self):
        # The account's rule: a job commits, a test or a button does not.
        self.account_id.with_env(self.env)._commit_page()

    def _say(self, message, **vals):
        self.write(dict(vals, message=message))
        self._commit()

    def _run(self, client):
        """Run the phases as far as they go: returns the seconds to wait for
        Amazon's report, or None when the history is done or failed."""
        self.ensure_one()
        steps = self._steps()
        while self.state in steps:
            delay = steps[self.state](client)
            if delay:
                return delay
        return None

    def _steps(self):
        return {
            "request": self._step_request,
            "wait": self._step_wait,
            "download": self._step_download,
            "import": self._step_import,
            "open": self._step_open,
        }

    # -- the phases ------------------------------------------------------------------

    def _step_request(self, client):
        start = self.next_start or self.date_from
        end = min(start + MAX_WINDOW, self.date_to)
        report_ref = create_report(
            client, self.report_type, self.marketplace_id.marketplace_ref, start, end
        )
        self._say(
            self.env._(
                "Amazon is making report %(report)s of %(start)s to %(end)s.",
                report=report_ref,
                start=start,
                end=end,
            ),
            state="wait",
            window_start=start,
            window_end=end,
            report_ref=report_ref,
            report_status="IN_QUEUE",
            document_ref=False,
            polls=0,
        )

    def _step_wait(self, client):
        info = get_report(client, self.report_ref)
        if info.done:
            self._say(
                self.env._("Report %s is ready; downloading it.", self.report_ref),
                state="download",
                report_status=info.status,
                document_ref=info.document_id,
            )
            return None
        if info.waiting:
            delay = poll_delay(self.polls)
            self._say(
                self.env._(
                    "Waiting for Amazon to make report %(report)s (%(status)s); "
                    "next look in %(seconds)s s.",
                    report=self.report_ref,
                    status=info.status,
                    seconds=delay,
                ),
                report_status=info.status,
                polls=self.polls + 1,
                next_check=fields.Datetime.now() + timedelta(seconds=delay),
            )
            return delay
        if info.status == "CANCELLED":
            # Amazon cancels a report of a window without any order.
            self._say(
                self.env._(
                    "Amazon's report %s holds no order: nothing to import.",
                    self.report_ref,
                ),
                report_status=info.status,
            )
            self._window_done()
            return None
        fatal = self.fatal_count + 1
        if fatal < MAX_FATAL:
            self._say(
                self.env._(
                    "Amazon could not make report %(report)s (%(status)s); "
                    "asking again.",
                    report=self.report_ref,
                    status=info.status,
                ),
                state="request",
                report_status=info.status,
                fatal_count=fatal,
            )
            return None
        self._fail(
            self.env._(
                "Amazon could not make report %(report)s (%(status)s) %(count)s "
                "times. Import the period again with Import orders.",
                report=self.report_ref,
                status=info.status,
                count=fatal,
            ),
            report_status=info.status,
            fatal_count=fatal,
        )
        return None

    def _step_download(self, client):
        document = get_report_document(client, self.document_ref)
        marketplace_ref = self.marketplace_id.marketplace_ref
        with tempfile.TemporaryFile() as spool:
            charset = download_document(document, spool)
            spool.seek(0)
            try:
                with self.env.cr.savepoint():
                    reader = OrderReportReader(
                        text_lines(spool, charset, legacy_charset(marketplace_ref))
                    )
                    self._stage(reader.rows())
            except MalformedReport as error:
                self._fail(
                    self.env._(
                        "Amazon's report %(report)s cannot be read: %(error)s",
                        report=self.report_ref,
                        error=error,
                    )
                )
                return None
        self._count()
        self._say(
            self.env._(
                "Report %(report)s read: %(count)s orders to import.",
                report=self.report_ref,
                count=self.expected_count - self.stored_count - self.failed_count,
            ),
            state="import",
        )
        return None

    def _stage(self, rows):
        """Store the rows per order, in batches.

        An order's rows are adjacent in Amazon's reports; should they not be,
        the later ones join the order already stored.
        """
        pending = {}
        for row in rows:
            ref = row.order_ref
            if not ref:
                continue
            entry = pending.get(ref)
            if entry is None:
                if len(pending) >= STAGE_BATCH:
                    self._stage_flush(pending)
                    pending = {}
                entry = pending[ref] = {"first": row.number, "rows": []}
            entry["rows"].append(row.cells)
        self._stage_flush(pending)
        # Written in SQL: what the cache holds of them is out of date.
        self.env.invalidate_all()

    def _stage_flush(self, pending):
        if not pending:
            return
        table = self.env["amazon.order.history.order"]._table
        uid = self.env.uid
        now = fields.Datetime.now()
        # Rows of the same window join the order's rows; an order read again
        # in a later window takes that window's rows, newer.
        execute_values(
            self.env.cr._obj,
            f"""
            INSERT INTO {table} AS staged (history_id, order_ref, first_row,
                window_start, rows, state, create_uid, write_uid, create_date,
                write_date)
            VALUES %s
            ON CONFLICT (history_id, order_ref) DO UPDATE
               SET rows = CASE WHEN staged.window_start = EXCLUDED.window_start
                               THEN staged.rows || EXCLUDED.rows
                               ELSE EXCLUDED.rows END,
                   window_start = EXCLUDED.window_start,
                   state = 'pending', message = NULL,
                   write_date = EXCLUDED.write_date
            """,
            [
                (
                    self.id,
                    ref,
                    entry["first"],
                    self.window_start,
                    json.dumps(entry["rows"]),
                    "pending",
                    uid,
                    uid,
                    now,
                    now,
                )
                for ref, entry in pending.items()
            ],
            template="(%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s)",
        )

    def _step_import(self, client):
        staged_model = self.env["amazon.order.history.order"]
        account = self.account_id
        while True:
            batch = staged_model.search(
                [("history_id", "=", self.id), ("state", "=", "pending")],
                order="first_row, id",
                limit=IMPORT_BATCH,
            )
            if not batch:
                break
            with account._sync_lock():
                batch._import(account, self.marketplace_id)
            self._count()
            self._say(
                self.env._(
                    "%(stored)s of %(expected)s orders of report %(report)s stored.",
                    stored=self.stored_count,
                    expected=self.expected_count,
                    report=self.report_ref,
                )
            )
            # Each batch's records leave the cache: memory stays flat.
            self.env.invalidate_all()
        self._window_done()
        return None

    def _count(self):
        """Orders in the reports, stored and failed, from the staged orders
        (kept on the history once those go)."""
        self.env.flush_all()
        self.env.cr.execute(
            f"""SELECT count(*),
                       count(*) FILTER (WHERE state = 'done'),
                       count(*) FILTER (WHERE state = 'failed')
                  FROM {self.env["amazon.order.history.order"]._table}
                 WHERE history_id = %s""",
            (self.id,),
        )
        expected, stored, failed = self.env.cr.fetchone()
        self.write(
            {
                "expected_count": expected,
                "stored_count": stored,
                "failed_count": failed,
            }
        )

    def _window_done(self):
        if self.window_end and self.window_end < self.date_to:
            self.write(
                {"state": "request", "fatal_count": 0, "next_start": self.window_end}
            )
        else:
            self.write({"state": "open", "open_token": False})
        self._commit()

    def _step_open(self, client):
        """The merchant's orders still to ship, through searchOrders (buyer
        and address included), one committed page at a time."""
        account = self.account_id
        staged = self.env["amazon.order.history.order"]
        open_orders = staged.search(
            [("history_id", "=", self.id), ("state", "=", "open")]
        )
        if open_orders:
            token = self.open_token or None
            while True:
                page = client.search_orders_page(
                    marketplace_ids=[self.marketplace_id.marketplace_ref],
                    last_updated_after=self.date_from,
                    fulfillment_statuses=OPEN_STATUSES,
                    fulfilled_by=("MERCHANT",),
                    included_data=ORDER_SYNC_INCLUDED_DATA,
                    pagination_token=token,
                )
                with account._sync_lock():
                    result = self.env["sale.order"]._amazon_import_orders(
                        account, page["orders"]
                    )
                refs = {o.get("orderId") for o in page["orders"] if isinstance(o, dict)}
                open_orders.filtered(lambda s, refs=refs: s.order_ref in refs)._mark(
                    result
                )
                token = page["next_token"]
                self._count()
                self._say(
                    self.env._(
                        "Orders still to ship fetched through searchOrders: "
                        "%(found)s of %(open)s.",
                        found=len(open_orders.filtered(lambda s: s.state != "open")),
                        open=len(open_orders),
                    ),
                    open_token=token or False,
                )
                if not token:
                    break
            left = open_orders.filtered(lambda s: s.state == "open")
            if left:
                # Shipped or cancelled since the report: the order sync
                # reads them at their new state.
                left.write(
                    {
                        "state": "skipped",
                        "message": self.env._(
                            "No longer to ship when searchOrders was asked: the "
                            "order sync reads it at its new state."
                        ),
                    }
                )
        self._finish()
        return None

    def _finish(self):
        self._count()
        vals = {
            "state": "done",
            "open_token": False,
            "message": self.env._(
                "%(stored)s orders stored, %(failed)s failed.",
                stored=self.stored_count,
                failed=self.failed_count,
            ),
        }
        self.write(vals)
        account = self.account_id.sudo()
        if self.move_cursor and (
            not account.last_order_sync or account.last_order_sync < self.date_to
        ):
            account.last_order_sync = self.date_to
        failed = self.order_ids.filtered(lambda s: s.state == "failed")
        if failed:
            account.message_post(
                body=self.env._(
                    "Order history of %(marketplace)s: %(count)s orders could not "
                    "be imported; each says why on the history. Import them with "
                    "Recover an order once fixed.",
                    marketplace=self.marketplace_id.name,
                    count=len(failed),
                )
            )
        # The rows held delivery postcodes: they go once the orders are stored.
        self.order_ids.filtered(lambda s: s.state != "failed").unlink()
        self._commit()

    def _fail(self, message, **vals):
        self._say(message, state="failed", **vals)
        self.account_id.sudo().message_post(body=message)


class AmazonOrderHistoryOrder(models.Model):
    _name = "amazon.order.history.order"
    _description = "Order of an Amazon order history report"
    _order = "first_row, id"

    history_id = fields.Many2one(
        "amazon.order.history", required=True, ondelete="cascade", index=True
    )
    order_ref = fields.Char(string="Amazon order", required=True)
    first_row = fields.Integer(readonly=True)
    window_start = fields.Datetime(readonly=True)
    rows = fields.Json(readonly=True)
    state = fields.Selection(
        [
            ("pending", "To import"),
            ("open", "To fetch through searchOrders"),
            ("done", "Stored"),
            ("skipped", "Not imported"),
            ("failed", "Failed"),
        ],
        default="pending",
        required=True,
        index=True,
    )
    message = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "order_unique",
            "unique(history_id, order_ref)",
            "An order appears once in an order history.",
        ),
    ]

    def _classify(self, raw):
        """None to import ``raw``, else (state, message)."""
        channel = (raw.get("salesChannel") or {}).get("channelName")
        if channel == "NON_AMAZON":
            return "skipped", self.env._(
                "A multi-channel fulfilment of a sale made elsewhere."
            )
        fulfillment = raw["fulfillment"]
        status = fulfillment["fulfillmentStatus"]
        if fulfillment["fulfilledBy"] == "MERCHANT" and status in OPEN_STATUSES:
            return "open", False
        allowed = (
            FBA_IMPORTED_STATUSES
            if fulfillment["fulfilledBy"] == "AMAZON"
            else FBM_IMPORTED_STATUSES
        )
        if status not in allowed:
            return "skipped", self.env._(
                "Amazon's status %s is not imported yet: the order sync reads "
                "the order when it changes.",
                status,
            )
        return None

    def _import(self, account, marketplace):
        """Book these staged orders, each to its state."""
        currency = marketplace.currency_id.name
        raws, importing = [], self.browse()
        for staged in self:
            try:
                raw = order_from_rows(
                    [ReportRow(0, cells) for cells in staged.rows or []],
                    marketplace.marketplace_ref,
                    currency,
                )
            except (MalformedReport, IndexError) as error:
                staged.write(
                    {
                        "state": "failed",
                        "message": self.env._(
                            "Order %(ref)s cannot be read from Amazon's report: "
                            "%(error)s",
                            ref=staged.order_ref,
                            error=error or self.env._("it has no row"),
                        ),
                    }
                )
                continue
            verdict = staged._classify(raw)
            if verdict:
                staged.write({"state": verdict[0], "message": verdict[1]})
                continue
            raws.append(raw)
            importing |= staged
        result = self.env["sale.order"]._amazon_import_orders(account, raws)
        importing._mark(result)

    def _mark(self, result):
        """Each of these imported orders to its state in ``result``."""
        done = self.browse()
        for staged in self:
            failure = result.failures.get(staged.order_ref)
            if failure:
                staged.write({"state": "failed", "message": failure[1]})
            else:
                done |= staged
        done.write({"state": "done", "message": False})
