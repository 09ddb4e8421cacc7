import csv
import io
import logging
import re
import zipfile

from odoo import api, fields, models
from odoo.tools import SQL, format_date

_logger = logging.getLogger(__name__)

LIST_KINDS = [
    ("delivery", "Delivery list"),
    ("redelivery", "Redelivery list"),
    ("subsequent", "Subsequent delivery list"),
    ("delivery_note", "Delivery notes"),
]
ISSUE_LIST_KINDS = ("delivery", "redelivery")


def _safe_filename(text):
    return re.sub(r"[^\w.-]+", "_", text or "").strip("_") or "list"


class DeliveryList(models.Model):
    _name = "delivery.list"
    _description = "Delivery list"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    kind = fields.Selection(LIST_KINDS, required=True, readonly=True, index=True)
    publication_id = fields.Many2one(
        "delivery.publication",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    issue_id = fields.Many2one(
        "delivery.publication.issue",
        readonly=True,
        index=True,
        ondelete="restrict",
        help="The issue of a delivery or redelivery list. Subsequent delivery "
        "lists and delivery notes may hold several issues.",
    )
    publication_name = fields.Char(
        string="Publication name",
        readonly=True,
        help="The publication's name when the list was made.",
    )
    company_id = fields.Many2one(
        related="publication_id.company_id", store=True, index=True
    )
    date = fields.Date(string="Generated on", required=True, readonly=True)
    payment_cutoff_date = fields.Date(
        readonly=True,
        help="Redelivery lists: invoices paid by this day put held-back "
        "subscribers on the list.",
    )
    line_ids = fields.One2many(
        "delivery.list.line", "list_id", string="Recipients", readonly=True
    )
    line_count = fields.Integer(
        string="Deliveries", compute="_compute_totals", store=True
    )
    copies = fields.Float(
        compute="_compute_totals", store=True, digits="Product Unit of Measure"
    )
    held_back_subscription_ids = fields.Many2many(
        "delivery.subscription",
        string="Held back for unpaid invoices",
        readonly=True,
        help="Subscriptions due this issue whose invoice was unpaid and "
        "overdue when the list was made.",
    )
    generation_note = fields.Text(
        readonly=True,
        help="Subscriptions that were due but left off this list, and why.",
    )

    def init(self):
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (issue_id, kind) "
                "WHERE kind IN ('delivery', 'redelivery')",
                SQL.identifier("delivery_list_issue_kind_uniq"),
                SQL.identifier(self._table),
            )
        )

    @api.depends("line_ids.quantity")
    def _compute_totals(self):
        for delivery_list in self:
            delivery_list.line_count = len(delivery_list.line_ids)
            delivery_list.copies = sum(delivery_list.line_ids.mapped("quantity"))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("delivery.list") or "/"
                )
        return super().create(vals_list)

    # -- building lists --------------------------------------------------------

    @api.model
    def _with_document_lang(self, publication):
        """``self`` in the language the lists of ``publication`` are written
        in: its company's, whoever makes them (the nightly run or a user)."""
        lang = publication.company_id.partner_id.lang
        return self.with_context(lang=lang) if lang else self

    @api.model
    def _prepare_list_vals(self, kind, publication, today, issue=None, **extra):
        return {
            "kind": kind,
            "publication_id": publication.id,
            "publication_name": publication.name,
            "issue_id": issue.id if issue else False,
            "date": today,
            **extra,
        }

    @api.model
    def _prepare_line_vals(self, subscription, issue, quantity=None, goodwill=False):
        address = subscription.partner_shipping_id
        return {
            "subscription_id": subscription.id,
            "issue_id": issue.id,
            "issue_number": issue.number,
            "issue_name": issue.name,
            "issue_date": issue.publication_date,
            "sale_order_id": subscription.sale_order_id.id,
            "product_id": subscription.product_id.id,
            "product_name": subscription.product_id.display_name,
            "partner_id": address.id,
            "recipient_name": address.name or address.commercial_partner_id.name,
            "recipient_company": address.commercial_partner_id.name
            if address.commercial_partner_id != address
            else False,
            "street": address.street,
            "street2": address.street2,
            "zip": address.zip,
            "city": address.city,
            "state_name": address.state_id.name,
            "country_name": address.country_id.name,
            "country_code": address.country_id.code,
            "quantity": subscription.quantity if quantity is None else quantity,
            "is_goodwill": goodwill,
        }

    @api.model
    def _create_list(self, kind, publication, today, pairs, issue=None, **extra):
        """Create a list of ``pairs`` of (subscription, issue)."""
        document = self._with_document_lang(publication)
        vals = document._prepare_list_vals(
            kind, publication, today, issue=issue, **extra
        )
        vals["line_ids"] = [
            fields.Command.create(document._prepare_line_vals(subscription, line_issue))
            for subscription, line_issue in pairs
        ]
        delivery_list = self.create(vals)
        listed = self.env["delivery.subscription"].browse(
            list(dict.fromkeys(subscription.id for subscription, _issue in pairs))
        )
        listed.filtered("delivery_problem").delivery_problem = False
        listed._refresh_state()
        _logger.info("%s %s: %s deliveries", kind, delivery_list.name, len(pairs))
        return delivery_list

    @api.model
    def _screen_pairs(self, pairs, on_date, check_payment=True):
        """Split due (subscription, issue) pairs.

        Returns the pairs that can be listed, the notes on those that cannot
        for lack of an address, and {subscription: unpaid invoices} for those
        blocked by an unpaid invoice on ``on_date``.
        """
        subscriptions = self.env["delivery.subscription"].browse(
            list(dict.fromkeys(subscription.id for subscription, _issue in pairs))
        )
        blocking = (
            subscriptions._get_blocking_invoices(on_date) if check_payment else {}
        )
        listable, notes, blocked = [], [], {}
        problems = {}
        for subscription in subscriptions:
            if subscription.id in blocking:
                continue
            problem = subscription._get_address_problem()
            if problem:
                problems[subscription.id] = problem
                subscription._report_problem(problem)
        for subscription, issue in pairs:
            if subscription.id in blocking:
                blocked[subscription] = blocking[subscription.id]
            elif subscription.id in problems:
                notes.append(
                    f"{subscription.name} ({subscription.partner_id.display_name}), "
                    f"{issue.name}: {problems[subscription.id]}"
                )
            else:
                listable.append((subscription, issue))
        return listable, notes, blocked

    @api.model
    def _generate_issue_list(self, issue, kind, today):
        """The delivery or redelivery list of ``issue``, made once."""
        existing = self.search([("issue_id", "=", issue.id), ("kind", "=", kind)])
        if existing:
            return existing
        subscriptions = self.env["delivery.subscription"].search(
            [
                ("publication_id", "=", issue.publication_id.id),
                ("kind", "=", "subscription"),
                ("state", "=", "active"),
                ("first_issue_id.number", "<=", issue.number),
            ]
        )
        pairs = subscriptions._pending_pairs(issue)
        on_date = today if kind == "delivery" else issue.payment_cutoff_date
        listable, notes, blocked = self._screen_pairs(pairs, on_date)
        extra = {"generation_note": "\n".join(notes) or False}
        if kind == "delivery":
            extra["held_back_subscription_ids"] = [
                fields.Command.set([s.id for s in blocked])
            ]
        else:
            extra["payment_cutoff_date"] = issue.payment_cutoff_date
        delivery_list = self._create_list(
            kind, issue.publication_id, today, listable, issue=issue, **extra
        )
        if kind == "delivery":
            delivery_list._notify_held_back(blocked, issue)
        else:
            delivery_list._skip_unpaid(blocked, issue)
        return delivery_list

    def _notify_held_back(self, blocked, issue):
        self.ensure_one()
        for subscription, invoices in blocked.items():
            message = self.env._(
                "Held back from %(list)s (issue %(issue)s): invoice %(invoices)s "
                "is unpaid and overdue. Paid by %(cutoff)s, the issue goes on the "
                "redelivery list; otherwise it is neither delivered nor charged.",
                list=self.name,
                issue=issue.name,
                invoices=", ".join(invoices.mapped("name")),
                cutoff=format_date(self.env, issue.payment_cutoff_date),
            )
            subscription.message_post(body=message)
            _logger.info(
                "Subscription %s held back from %s", subscription.id, self.name
            )

    def _skip_unpaid(self, blocked, issue):
        """Record the issues not delivered, hence not charged."""
        self.ensure_one()
        if not blocked:
            return
        self.env["delivery.skipped.issue"].create(
            [
                {
                    "subscription_id": subscription.id,
                    "issue_id": issue.id,
                    "date": issue.payment_cutoff_date,
                    "reason": "unpaid",
                    "invoice_ids": [fields.Command.set(invoices.ids)],
                }
                for subscription, invoices in blocked.items()
            ]
        )
        for subscription, invoices in blocked.items():
            subscription.message_post(
                body=self.env._(
                    "Issue %(issue)s is not delivered and not charged: invoice "
                    "%(invoices)s was still unpaid at the payment cutoff of "
                    "%(cutoff)s (see skipped issues to credit it).",
                    issue=issue.name,
                    invoices=", ".join(invoices.mapped("name")),
                    cutoff=format_date(self.env, issue.payment_cutoff_date),
                )
            )
        self.env["delivery.subscription"].browse(
            [s.id for s in blocked]
        )._refresh_state()
        self.message_post(
            body=self.env._(
                "%(count)s subscriber(s) still unpaid at the payment cutoff: issue "
                "not delivered and not charged.",
                count=len(blocked),
            )
        )

    @api.model
    def _generate_subsequent_list(self, publication, today):
        """List the past issues due to subscriptions that started in the past.

        Who is due a past issue (``delivery.publication._get_past_issues``,
        the rule the "issues back" limit of a sale counts with) and is on
        neither of its lists gets it on the subsequent delivery list.
        """
        past_issues = publication._get_past_issues(today)
        if not past_issues:
            return self.browse()
        subscriptions = self.env["delivery.subscription"].search(
            [
                ("publication_id", "=", publication.id),
                ("kind", "=", "subscription"),
                ("state", "=", "active"),
                ("first_issue_id", "in", past_issues.ids),
            ]
        )
        pairs = subscriptions._pending_pairs(past_issues)
        listable, notes, blocked = self._screen_pairs(pairs, today)
        for subscription, invoices in blocked.items():
            subscription._report_problem(
                self.env._(
                    "Invoice %(invoices)s is unpaid and overdue: the past issues are "
                    "sent on a subsequent delivery list once it is paid.",
                    invoices=", ".join(invoices.mapped("name")),
                )
            )
        if not listable:
            return self.browse()
        return self._create_list(
            "subsequent",
            publication,
            today,
            listable,
            generation_note="\n".join(notes) or False,
        )

    @api.model
    def _generate_single_issue_notes(self, publication, today):
        """Delivery notes for the single issues whose delivery is due."""
        singles = self.env["delivery.subscription"].search(
            [
                ("publication_id", "=", publication.id),
                ("kind", "=", "single_issue"),
                ("state", "=", "active"),
                ("first_issue_id.delivery_list_date", "<=", today),
            ]
        )
        pairs = singles._pending_pairs(singles.first_issue_id)
        listable, notes, _blocked = self._screen_pairs(
            pairs, today, check_payment=False
        )
        if not listable:
            return self.browse()
        return self._create_list(
            "delivery_note",
            publication,
            today,
            listable,
            generation_note="\n".join(notes) or False,
        )

    @api.model
    def _create_goodwill_notes(self, subscription, issues, quantity, reason=False):
        """Delivery notes sending ``issues`` to the subscriber free of charge."""
        today = fields.Date.today()
        document = self._with_document_lang(subscription.publication_id)
        vals = document._prepare_list_vals(
            "delivery_note",
            subscription.publication_id,
            today,
            generation_note=reason or False,
        )
        vals["line_ids"] = [
            fields.Command.create(
                document._prepare_line_vals(
                    subscription, issue, quantity, goodwill=True
                )
            )
            for issue in issues.sorted("number")
        ]
        delivery_list = self.create(vals)
        subscription.message_post(
            body=self.env._(
                "Goodwill delivery of %(issues)s free of charge: %(list)s.",
                issues=", ".join(issues.sorted("number").mapped("name")),
                list=delivery_list.name,
            )
        )
        return delivery_list

    # -- downloads -------------------------------------------------------------

    def _csv_header(self):
        return [
            self.env._("List"),
            self.env._("List type"),
            self.env._("Publication"),
            self.env._("Issue number"),
            self.env._("Issue"),
            self.env._("Publication date"),
            self.env._("Recipient"),
            self.env._("Company"),
            self.env._("Street"),
            self.env._("Street 2"),
            self.env._("ZIP"),
            self.env._("City"),
            self.env._("State"),
            self.env._("Country"),
            self.env._("Country code"),
            self.env._("Product"),
            self.env._("Quantity"),
            self.env._("Source order"),
            self.env._("Subscription"),
            self.env._("Free of charge"),
        ]

    def _csv_row(self, line):
        """The row of ``line``: what the list was made with, not today's
        issue, product or address."""
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        return [
            self.name,
            kinds[self.kind],
            self.publication_name or "",
            line.issue_number,
            line.issue_name or "",
            fields.Date.to_string(line.issue_date) or "",
            line.recipient_name or "",
            line.recipient_company or "",
            line.street or "",
            line.street2 or "",
            line.zip or "",
            line.city or "",
            line.state_name or "",
            line.country_name or "",
            line.country_code or "",
            line.product_name or "",
            line.quantity,
            line.sale_order_id.name or "",
            line.subscription_id.name,
            self.env._("yes") if line.is_goodwill else "",
        ]

    def _get_csv_content(self):
        self.ensure_one()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self._csv_header())
        for line in self.line_ids.sorted(lambda x: (x.issue_number, x.id)):
            writer.writerow(self._csv_row(line))
        return buffer.getvalue().encode("utf-8-sig")

    def _get_delivery_slips(self):
        """One PDF per recipient: [(file name, PDF bytes)]."""
        self.ensure_one()
        report = self.env.ref("amazon_delivery_lists.action_report_delivery_slip")
        slips = []
        by_recipient = self.line_ids.grouped("partner_id")
        for index, (_partner, lines) in enumerate(
            sorted(by_recipient.items(), key=lambda item: item[0].id), start=1
        ):
            pdf, _report_type = self.env["ir.actions.report"]._render_qweb_pdf(
                report, lines.ids
            )
            name = _safe_filename(lines[0].recipient_name)
            slips.append((f"{index:03d}_{name}.pdf", pdf))
        return slips

    def _get_zip_content(self):
        self.ensure_one()
        buffer = io.BytesIO()
        base = _safe_filename(self.name)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{base}.csv", self._get_csv_content())
            for filename, pdf in self._get_delivery_slips():
                archive.writestr(f"delivery_slips/{filename}", pdf)
        return buffer.getvalue()

    def _get_download(self):
        """(file name, content, mimetype) of the list's download."""
        self.ensure_one()
        base = _safe_filename(self.name)
        if self.kind == "delivery_note":
            return f"{base}.zip", self._get_zip_content(), "application/zip"
        return f"{base}.csv", self._get_csv_content(), "text/csv"

    def action_download(self):
        self.ensure_one()
        filename, content, mimetype = self._get_download()
        attachments = self.env["ir.attachment"].sudo()
        attachments.search(
            [
                ("res_model", "=", self._name),
                ("res_id", "=", self.id),
                ("name", "=", filename),
            ]
        ).unlink()
        attachment = attachments.create(
            {
                "name": filename,
                "raw": content,
                "mimetype": mimetype,
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }
