import logging

from odoo import api, fields, models
from odoo.tools import format_date

_logger = logging.getLogger(__name__)


class DeliveryPublication(models.Model):
    _name = "delivery.publication"
    _description = "Publication"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    issue_ids = fields.One2many(
        "delivery.publication.issue", "publication_id", string="Issues"
    )
    delivery_list_days = fields.Integer(
        string="Delivery list (days before publication)",
        default=7,
        tracking=True,
        help="The delivery list of an issue is generated this many days "
        "before the issue's publication date.",
    )
    payment_cutoff_days = fields.Integer(
        string="Payment cutoff (days after delivery list)",
        default=2,
        tracking=True,
        help="Subscribers held back from the delivery list for an unpaid "
        "invoice are on the redelivery list only if the invoice is paid by "
        "this day. Unpaid by then, they do not receive the issue and are not "
        "charged for it.",
    )
    redelivery_list_days = fields.Integer(
        string="Redelivery list (days after delivery list)",
        default=5,
        tracking=True,
        help="The redelivery list of an issue is generated this many days "
        "after its delivery list.",
    )
    schedule_warning = fields.Char(
        readonly=True,
        copy=False,
        help="Set by the list generation when the schedule needs attention.",
    )
    subscription_ids = fields.One2many(
        "delivery.subscription", "publication_id", string="Subscriptions"
    )
    subscription_count = fields.Integer(compute="_compute_counts")
    list_count = fields.Integer(compute="_compute_counts")
    next_issue_id = fields.Many2one(
        "delivery.publication.issue",
        string="Next issue",
        compute="_compute_next_issue_id",
    )

    _sql_constraints = [
        (
            "delivery_days_positive",
            "CHECK(delivery_list_days >= 0 AND payment_cutoff_days >= 0 "
            "AND redelivery_list_days >= 0)",
            "The delivery list days, the payment cutoff and the redelivery "
            "list days cannot be negative.",
        ),
        (
            "cutoff_before_redelivery",
            "CHECK(payment_cutoff_days <= redelivery_list_days)",
            "The payment cutoff must fall on or before the redelivery list.",
        ),
    ]

    def _compute_counts(self):
        subscriptions = dict(
            self.env["delivery.subscription"]._read_group(
                [("publication_id", "in", self.ids)],
                ["publication_id"],
                ["__count"],
            )
        )
        lists = dict(
            self.env["delivery.list"]._read_group(
                [("publication_id", "in", self.ids)], ["publication_id"], ["__count"]
            )
        )
        for publication in self:
            publication.subscription_count = subscriptions.get(publication, 0)
            publication.list_count = lists.get(publication, 0)

    @api.depends("issue_ids.publication_date")
    def _compute_next_issue_id(self):
        today = fields.Date.today()
        for publication in self:
            upcoming = publication.issue_ids.filtered(
                lambda issue: issue.publication_date >= today
            )
            publication.next_issue_id = upcoming.sorted("number")[:1]

    # -- schedule ---------------------------------------------------------------

    def _get_past_issues(self, on_date):
        """The issues that are past on ``on_date``, sorted by number.

        An issue is past once its redelivery list is made, or once the day of
        its redelivery list is over. This one rule places an issue in time
        for everything: the issue a purchase starts with, how many issues back
        a start lies, and which issues go on the subsequent delivery list
        (those past issues that a subscriber is due and is on neither list
        of). On the day of a redelivery list, the issue is current until the
        night's run has made the list, and past from then on.
        """
        self.ensure_one()
        made = (
            self.env["delivery.list"]
            .search(
                [
                    ("publication_id", "=", self.id),
                    ("kind", "=", "redelivery"),
                    ("date", "<=", on_date),
                ]
            )
            .issue_id
        )
        overdue = self.issue_ids.filtered(
            lambda issue: issue.redelivery_list_date < on_date
        )
        return (made | overdue).sorted("number")

    def _get_current_issue(self, on_date):
        """The issue a purchase made on ``on_date`` starts with: the first
        issue that is not past on that day (see ``_get_past_issues``). When
        its delivery list is already made, the buyer goes on its redelivery
        list.
        """
        self.ensure_one()
        upcoming = self.issue_ids - self._get_past_issues(on_date)
        return upcoming.sorted("number")[:1]

    def _count_issues_back(self, issue, on_date):
        """How many issues in the past a subscription bought on ``on_date``
        lies when it starts with ``issue``: the past issues from ``issue`` on,
        which are the issues its subsequent delivery list sends."""
        self.ensure_one()
        past = self._get_past_issues(on_date)
        return len(past.filtered(lambda other: other.number >= issue.number))

    def _check_schedule(self, today):
        """Warn (once) when no issue is scheduled any more."""
        for publication in self:
            if any(i.publication_date >= today for i in publication.issue_ids):
                publication.schedule_warning = False
                continue
            last = publication.issue_ids.sorted("publication_date")[-1:]
            if last:
                warning = self.env._(
                    "No future issue of %(publication)s is scheduled (the last one, "
                    "%(issue)s, came out on %(date)s): add the next issues so that "
                    "subscriptions keep being delivered.",
                    publication=publication.name,
                    issue=last.name,
                    date=format_date(self.env, last.publication_date),
                )
            else:
                warning = self.env._(
                    "No issue of %(publication)s is scheduled: add its issues so "
                    "that subscriptions can be delivered.",
                    publication=publication.name,
                )
            _logger.warning(
                "Publication %s (id %s) has no future issue",
                publication.name,
                publication.id,
            )
            if publication.schedule_warning != warning:
                publication.schedule_warning = warning
                publication.message_post(body=warning)

    # -- list generation --------------------------------------------------------

    @api.model
    def _cron_generate_delivery_lists(self):
        """Generate every list that is due, publication by publication."""
        self.search([])._generate_due_lists()

    def action_generate_lists(self):
        self._generate_due_lists()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("The lists due today have been generated."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _generate_due_lists(self, today=None):
        """Generate the lists due on ``today``; a failing publication is
        reported on itself and in the log, the others go on."""
        today = today or fields.Date.today()
        for publication in self:
            try:
                with self.env.cr.savepoint():
                    publication._generate_lists_of_day(today)
            except Exception as exc:
                _logger.exception(
                    "Delivery lists of publication %s (id %s) failed",
                    publication.name,
                    publication.id,
                )
                publication.message_post(
                    body=self.env._(
                        "The delivery lists could not be generated: %(error)s",
                        error=str(exc),
                    )
                )

    def _generate_lists_of_day(self, today):
        self.ensure_one()
        subscriptions = self.env["delivery.subscription"]
        DeliveryList = self.env["delivery.list"]
        active = subscriptions.search(
            [("publication_id", "=", self.id), ("state", "=", "active")]
        )
        active._cancel_for_cancelled_orders()
        active.filtered(lambda s: s.state == "active")._assign_first_issue()
        self._check_schedule(today)
        done = {
            (lst.issue_id.id, lst.kind)
            for lst in DeliveryList.search(
                [
                    ("publication_id", "=", self.id),
                    ("kind", "in", ("delivery", "redelivery")),
                ]
            )
        }
        for event_date, _order, kind, issue in self._due_issue_lists(today, done):
            DeliveryList._generate_issue_list(issue, kind, today)
            done.add((issue.id, kind))
            _logger.info(
                "Generated the %s list of issue %s (due %s)",
                kind,
                issue.id,
                event_date,
            )
        DeliveryList._generate_subsequent_list(self, today)
        DeliveryList._generate_single_issue_notes(self, today)

    def _due_issue_lists(self, today, done):
        """(date, order, kind, issue) of the issue lists to make, in order."""
        self.ensure_one()
        events = []
        for issue in self.issue_ids:
            if issue.delivery_list_date <= today and (issue.id, "delivery") not in done:
                events.append((issue.delivery_list_date, 0, "delivery", issue))
            if (
                issue.redelivery_list_date <= today
                and (issue.id, "redelivery") not in done
            ):
                events.append((issue.redelivery_list_date, 1, "redelivery", issue))
        return sorted(events, key=lambda e: (e[0], e[1], e[3].number))

    # -- buttons ----------------------------------------------------------------

    def action_view_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_delivery_lists.action_delivery_subscription"
        )
        action["domain"] = [("publication_id", "=", self.id)]
        action["context"] = {"default_publication_id": self.id}
        return action

    def action_view_lists(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_delivery_lists.action_delivery_list"
        )
        action["domain"] = [("publication_id", "=", self.id)]
        action["context"] = {}
        return action
