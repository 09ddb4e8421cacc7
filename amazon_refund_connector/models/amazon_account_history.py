"""A first sync of a long history: through Amazon's order reports.

searchOrders gives 20 pages of 100 orders at once, then one page every few
minutes: a seller with 10,000 orders in the first sync's window would wait
hours. When a sync or an import of a period has read that burst and Amazon
still has more pages, the account stops paging and reads the rest of the
period through ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_*`` reports, one
``amazon.order.history`` per marketplace; the order sync goes on from the
end of that period.
"""

from datetime import timedelta

from odoo import api, fields, models

from ..sp_api.orders import parse_datetime
from .amazon_order_history import ACTIVE_PHASES

# searchOrders' burst: pages read before the rest goes through a report.
HISTORY_AFTER_PAGES = 20
# Amazon's data may lag a little behind the clock: a report ends this much
# before the moment it was asked for.
REPORT_LAG = timedelta(minutes=2)


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    order_history_ids = fields.One2many(
        "amazon.order.history", "account_id", string="Order histories"
    )
    order_history_count = fields.Integer(compute="_compute_order_history")
    order_history_progress = fields.Char(
        string="Order history", compute="_compute_order_history"
    )

    @api.depends(
        "order_history_ids.state",
        "order_history_ids.stored_count",
        "order_history_ids.expected_count",
    )
    def _compute_order_history(self):
        for account in self:
            histories = account.order_history_ids
            account.order_history_count = len(histories)
            running = histories.filtered(lambda h: h.state in ACTIVE_PHASES)
            account.order_history_progress = (
                "; ".join(f"{h.marketplace_id.name}: {h.progress}" for h in running)
                or False
            )

    def action_view_order_histories(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_refund_connector.action_amazon_order_history"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def _purge_buyer_data(self, now=None):
        """Also forget the report rows of orders that could not be imported
        (they hold delivery postcodes) once the retention is over."""
        result = super()._purge_buyer_data(now=now)
        account = self.sudo()
        cutoff = (now or fields.Datetime.now()) - timedelta(
            days=account.buyer_data_retention_days
        )
        account.env["amazon.order.history.order"].search(
            [
                ("history_id.account_id", "=", account.id),
                ("create_date", "<=", cutoff),
            ]
        ).unlink()
        return result

    def _search_order_pages(self, client, result, history=None, **query):
        pages = super()._search_order_pages(client, result, history=history, **query)
        if not history or not self.env.context.get("amazon_order_history", True):
            return pages
        return self._pages_or_history(pages, result, history)

    def _pages_or_history(self, pages, result, history):
        report_type, date_from, move_cursor = history
        for number, page in enumerate(pages, start=1):
            yield page
            if number >= HISTORY_AFTER_PAGES and page["next_token"]:
                try:
                    date_to = parse_datetime(page["before"], "before")
                except ValueError:
                    date_to = None
                date_to = date_to or fields.Datetime.now() - REPORT_LAG
                self.env["amazon.order.history"]._start(
                    self, date_from, date_to, report_type, move_cursor
                )
                result.history_until = date_to
                return
