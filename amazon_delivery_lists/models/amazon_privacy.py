"""The delivery lists' part of the Amazon buyer data purge.

A subscription still to be delivered needs its buyer's address: its order is
held until the subscription ends, and its retention counts from the last
issue delivered. Lines of delivery lists keep copies of the recipients'
names and addresses: they are purged with the buyer.
"""

from datetime import datetime, time

from odoo import models

# Copies of the recipient on a list line; the country stays, as on the
# buyer's partner.
LINE_PII_FIELDS = (
    "recipient_company",
    "street",
    "street2",
    "zip",
    "city",
    "state_name",
)


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _amazon_privacy_reference_dates(self):
        result = super()._amazon_privacy_reference_dates()
        subscriptions = self.env["delivery.subscription"].search(
            [("sale_order_id", "in", self.ids)]
        )
        for order_id, order_subscriptions in subscriptions.grouped(
            "sale_order_id"
        ).items():
            order_id = order_id.id
            if result.get(order_id) is None:
                continue
            if any(s.state == "active" for s in order_subscriptions):
                result[order_id] = None  # issues still to deliver
                continue
            lines = order_subscriptions.line_ids
            last = max(
                [d for d in lines.mapped("issue_date") if d]
                + [d for d in lines.list_id.mapped("date") if d],
                default=None,
            )
            if last:
                result[order_id] = max(
                    result[order_id], datetime.combine(last, time.max)
                )
        return result

    def _amazon_privacy_records(self):
        subscriptions = self.env["delivery.subscription"].search(
            [("sale_order_id", "in", self.ids)]
        )
        return [*super()._amazon_privacy_records(), subscriptions]

    def _amazon_privacy_purge_extra(self, partners, placeholders):
        count = super()._amazon_privacy_purge_extra(partners, placeholders)
        lines = (
            self.env["delivery.list.line"]
            .sudo()
            .search(
                [
                    "|",
                    ("partner_id", "in", partners.ids),
                    ("subscription_id.partner_id", "in", partners.ids),
                ]
            )
        )
        by_partner = lines.grouped("partner_id")
        for partner, partner_lines in by_partner.items():
            customer = partner_lines.subscription_id.partner_id[:1]
            name = placeholders.get(partner.id) or placeholders.get(customer.id)
            vals = dict.fromkeys(LINE_PII_FIELDS, False)
            if name:
                vals["recipient_name"] = name
            partner_lines.write(vals)
        # A list's download is made again from its lines when asked for: the
        # files stored with copies of the recipients go.
        downloads = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "delivery.list"),
                    ("res_id", "in", lines.list_id.ids),
                ]
            )
        )
        downloads.unlink()
        return count + len(lines) + len(downloads)
