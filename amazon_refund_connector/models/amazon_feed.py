import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..sp_api import AmazonError, AmazonInvalidInput, AmazonThrottled
from ..sp_api.feeds import (
    PAYMENT_ADJUSTMENT,
    XML_CONTENT_TYPE,
    get_feed,
    get_feed_document,
    parse_processing_report,
    submit_feed,
)

_logger = logging.getLogger(__name__)

FEED_STATES = [
    ("queued", "Queued"),
    ("submitted", "Submitted"),
    ("in_progress", "In progress"),
    ("done", "Done"),
    ("fatal", "Fatal error"),
    ("cancelled", "Cancelled"),
    ("refused", "Refused"),
]
AMAZON_STATES = {
    "IN_QUEUE": "submitted",
    "IN_PROGRESS": "in_progress",
    "DONE": "done",
    "FATAL": "fatal",
    "CANCELLED": "cancelled",
}
OPEN_STATES = ("submitted", "in_progress")
# Re-checks of a feed Amazon has not finished: minutes after the previous
# check, growing up to an hour; after a day in progress it is flagged.
CHECK_DELAYS = (2, 5, 10, 20, 30, 60)
STUCK_AFTER = timedelta(hours=24)
# A server error while sending: the queued feed is tried again this late.
SERVER_RETRY = timedelta(minutes=5)


class AmazonFeed(models.Model):
    """A feed sent to Amazon, its document and what Amazon made of it."""

    _name = "amazon.feed"
    _description = "Amazon feed"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    account_id = fields.Many2one(
        "amazon.account", required=True, index=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    marketplace_id = fields.Many2one("amazon.marketplace", readonly=True)
    feed_type = fields.Char(required=True, readonly=True, default=PAYMENT_ADJUSTMENT)
    feed_ref = fields.Char(string="Feed ID", index=True, readonly=True, copy=False)
    document_ref = fields.Char(string="Feed document ID", readonly=True, copy=False)
    content = fields.Text(string="Document", readonly=True)
    content_type = fields.Char(readonly=True, default=XML_CONTENT_TYPE)
    state = fields.Selection(
        FEED_STATES, required=True, default="queued", readonly=True, tracking=True
    )
    processing_status = fields.Char(string="Amazon status", readonly=True)
    result_document_ref = fields.Char(string="Report document ID", readonly=True)
    report = fields.Text(string="Processing report", readonly=True)
    message = fields.Text(readonly=True)
    scheduled_date = fields.Datetime(
        string="Goes at", readonly=True, help="When a queued feed will be sent."
    )
    submitted_date = fields.Datetime(string="Sent", readonly=True)
    next_check = fields.Datetime(string="Next check", readonly=True, index=True)
    check_count = fields.Integer(readonly=True)
    stuck = fields.Boolean(
        readonly=True, help="Amazon has not finished the feed after a day."
    )
    credit_note_id = fields.Many2one("account.move", readonly=True, index=True)
    sale_order_id = fields.Many2one("sale.order", readonly=True)
    refund_ids = fields.One2many(
        "amazon.refund", "feed_id", string="Refund entries", readonly=True
    )
    display_ref = fields.Char(string="Feed", compute="_compute_display_ref")

    _sql_constraints = [
        (
            "feed_ref_unique",
            "unique(account_id, feed_ref)",
            "An Amazon feed is kept once per account.",
        ),
    ]

    @api.depends("feed_ref", "feed_type")
    def _compute_display_ref(self):
        for feed in self:
            feed.display_ref = feed.feed_ref or self.env._("Feed (not sent yet)")

    @api.depends("feed_ref", "feed_type")
    def _compute_display_name(self):
        self._compute_display_ref()
        for feed in self:
            feed.display_name = feed.display_ref

    # -- sending ----------------------------------------------------------------

    def _amazon_send(self, client):
        """Send the queued feed; returns the state reached.

        A spent quota (ours or a 429 from Amazon: other tools of the seller
        spend it too) leaves the feed queued with the time it will go, and a
        job sends it then; no request waits for a token.
        """
        self.ensure_one()
        if self.state != "queued":
            return self.state
        marketplaces = [self.marketplace_id.marketplace_ref]
        try:
            submission = submit_feed(
                client,
                self.content.encode("utf-8"),
                marketplaces,
                feed_type=self.feed_type,
                content_type=self.content_type,
            )
        except AmazonThrottled as error:
            self._amazon_requeue(error.retry_after, str(error))
            return self.state
        except AmazonInvalidInput as error:
            self._amazon_refused(error)
            return self.state
        except AmazonError as error:
            _logger.warning("Amazon feed %s not sent: %s", self.id, error)
            self._amazon_requeue(SERVER_RETRY.total_seconds(), str(error))
            return self.state
        now = fields.Datetime.now()
        self.write(
            {
                "feed_ref": submission.feed_id,
                "document_ref": submission.document_id,
                "state": "submitted",
                "processing_status": "IN_QUEUE",
                "submitted_date": now,
                "scheduled_date": False,
                "next_check": now + timedelta(minutes=CHECK_DELAYS[0]),
                "message": False,
            }
        )
        self.refund_ids.write({"state": "sent", "feed_ref": submission.feed_id})
        return self.state

    def _amazon_requeue(self, seconds, reason):
        when = fields.Datetime.now() + timedelta(seconds=max(int(seconds + 0.999), 1))
        message = self.env._(
            "Waiting for the createFeed quota; the feed goes at %(when)s UTC. "
            "(%(reason)s)",
            when=fields.Datetime.to_string(when),
            reason=reason,
        )
        self.write({"state": "queued", "scheduled_date": when, "message": message})
        self.refund_ids.write({"state": "queued", "message": message})
        self._amazon_enqueue_send(when)

    def _amazon_refused(self, error):
        message = self.env._("Amazon refused the feed: %s", error.message)
        self.write({"state": "refused", "scheduled_date": False, "message": message})
        self.refund_ids.write({"state": "failed", "message": message})

    def _amazon_enqueue_send(self, eta=None):
        self.ensure_one()
        return self.with_delay(
            channel="root.amazon",
            identity_key=f"amazon-feed-send-{self.id}",
            eta=eta,
            description=self.env._("Amazon: send feed %s", self.id),
        )._job_send_feed()

    def _job_send_feed(self):
        self.ensure_one()
        return self.account_id._run_amazon_job(
            self.env._("Feed submission failed"),
            lambda client: self._amazon_send(client),
        )

    # -- results ------------------------------------------------------------------

    def _amazon_check(self, client):
        """Ask Amazon how far the feed is; read its report once it is done."""
        self.ensure_one()
        if self.state not in OPEN_STATES or not self.feed_ref:
            return self.state
        feed = get_feed(client, self.feed_ref)
        status = feed["processingStatus"]
        now = fields.Datetime.now()
        vals = {
            "processing_status": status,
            "state": AMAZON_STATES[status],
            "check_count": self.check_count + 1,
        }
        if status in ("IN_QUEUE", "IN_PROGRESS"):
            delay = CHECK_DELAYS[min(self.check_count, len(CHECK_DELAYS) - 1)]
            vals["next_check"] = now + timedelta(minutes=delay)
            if (
                not self.stuck
                and self.submitted_date
                and now - self.submitted_date >= STUCK_AFTER
            ):
                vals["stuck"] = True
                vals["message"] = self.env._(
                    "Amazon has been processing this feed for more than 24 hours; "
                    "it is checked again every hour."
                )
                self.message_post(body=vals["message"])
            self.write(vals)
            return self.state
        vals.update(next_check=False, stuck=False)
        if status == "CANCELLED":
            vals["message"] = self.env._(
                "The feed was cancelled before Amazon processed it."
            )
            self.write(vals)
            self.refund_ids.write({"state": "failed", "message": vals["message"]})
            return self.state
        document_ref = feed.get("resultFeedDocumentId")
        text = get_feed_document(client, document_ref) if document_ref else None
        vals.update(result_document_ref=document_ref, report=text)
        self.write(vals)
        self._amazon_apply_report(text, status)
        return self.state

    def _amazon_apply_report(self, text, status):
        """Done, failed with Amazon's message, or (an error naming no message)
        every entry failed."""
        if not text:
            message = self.env._(
                "Amazon gave no processing report (status %s).", status
            )
            self.write({"message": message})
            self.refund_ids.write({"state": "failed", "message": message})
            return
        report = parse_processing_report(text)
        errors = report.errors()
        if status == "FATAL" or report.unnamed_failure:
            general = "\n".join(filter(None, report.general_errors()))
            message = self.env._(
                "Amazon failed the feed (%(errors)s errors) without naming the "
                "refunds concerned: every refund of the feed is taken as failed. "
                "%(detail)s",
                errors=report.with_error,
                detail=general,
            ).strip()
            self.write({"message": message})
            self.refund_ids.write({"state": "failed", "message": message})
            return
        failed = self.env["amazon.refund"]
        for entry in self.refund_ids:
            text = errors.get(entry.feed_message)
            if text:
                failed |= entry
                entry.write(
                    {
                        "state": "failed",
                        "message": self.env._("Amazon refused the refund: %s", text),
                    }
                )
        (self.refund_ids - failed).write({"state": "done", "message": False})
        summary = self.env._(
            "%(ok)s of %(all)s messages processed without error.",
            ok=report.successful,
            all=report.processed,
        )
        self.write({"message": summary})

    def action_check_result(self):
        """Button: read Amazon's processing status and report now."""
        client = None
        messages = []
        try:
            for feed in self:
                if feed.state == "queued":
                    if not client:
                        client = feed.account_id._get_client()
                    feed._amazon_send(client)
                    continue
                if feed.state not in OPEN_STATES:
                    continue
                client = client or feed.account_id._get_client()
                feed._amazon_check(client)
        except AmazonError as error:
            messages.append(self.env["amazon.account"]._amazon_error_message(error))
        finally:
            if client:
                client.close()
        if messages:
            raise UserError("\n".join(messages))
        states = dict(self._fields["state"]._description_selection(self.env))
        return self.env["amazon.account"]._notify(
            self.env._("Feed result"),
            ", ".join(f"{feed.display_ref}: {states[feed.state]}" for feed in self),
            "success" if all(f.state == "done" for f in self) else "info",
        )

    @api.model
    def _cron_check_feeds(self):
        """Enqueue a result check per account with feeds due."""
        now = fields.Datetime.now()
        due = self.search([("state", "in", OPEN_STATES), ("next_check", "<=", now)])
        for account in due.account_id:
            account.with_delay(
                channel="root.amazon",
                identity_key=f"amazon-feed-check-{account.id}",
                description=self.env._("Amazon: check feeds of %s", account.name),
            )._job_check_feeds()

    def _amazon_check_due(self, account, client):
        now = fields.Datetime.now()
        done = 0
        for feed in self.search(
            [
                ("account_id", "=", account.id),
                ("state", "in", OPEN_STATES),
                ("next_check", "<=", now),
            ],
            order="next_check",
        ):
            feed._amazon_check(client)
            done += 1
        return self.env._("%s feeds checked.", done)


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    def _job_check_feeds(self):
        self.ensure_one()
        return self._run_amazon_job(
            self.env._("Feed check failed"),
            lambda client: (
                self.env["amazon.feed"].sudo()._amazon_check_due(self, client)
            ),
        )
