from datetime import timedelta

from odoo import api, fields, models

from ..sp_api.finances import BUYER, line_key

# Amazon's clock and Odoo's may differ a little: a refund posted this long
# before its feed was sent can still be that feed's.
SENT_TOLERANCE = timedelta(minutes=10)


class AmazonRefund(models.Model):
    """Refunds sent from Odoo, recognised when Amazon's finances list them."""

    _inherit = "amazon.refund"

    @api.model
    def _amazon_link_sent(self, account, refunds, sales, result):
        """Link the refunds Odoo sent to the refunds Amazon lists; return the
        others, which are booked as imported refunds.

        Each adjustment message of a feed becomes one refund of one item at
        Amazon: a refund whose every item matches the entries of one message
        sent for that order item (same total) is that message. Its entries
        get Amazon's refund ids and keys, so neither this import nor a later
        one books it again; no second credit note is made.
        """
        orders = {r.order_id for r in refunds}
        sent = self.search(
            [
                ("account_id", "=", account.id),
                ("origin", "=", "odoo"),
                ("refund_ref", "=", False),
                ("state", "in", ("sent", "done")),
                ("amazon_order_ref", "in", list(orders)),
            ],
            order="id",
        )
        if not sent:
            return refunds
        pool = {}
        sent_at = {}
        for entry in sent:
            messages = pool.setdefault(
                (entry.amazon_order_ref, entry.order_item_ref), {}
            )
            key = (entry.feed_id.id, entry.feed_message)
            messages[key] = messages.get(key, self.browse()) | entry
            sent_at[key] = entry.feed_id.submitted_date
        used = set()
        remaining = []
        for refund in refunds:
            matches = self._amazon_sent_matches(refund, pool, used, sent_at)
            if not matches:
                remaining.append(refund)
                continue
            for item, entries, key in matches:
                used.add(key)
                self._amazon_link_entries(account, refund, item, entries, sales)
            result.skipped.append(refund.refund_id)
        return remaining

    @api.model
    def _amazon_sent_matches(self, refund, pool, used, sent_at):
        """``[(item, entries, key)]`` when every item of ``refund`` is a
        message Odoo sent before Amazon posted it, else []."""
        matches = []
        for item in refund.items:
            candidates = pool.get((refund.order_id, item.order_item_id)) or {}
            refunded = float(-item.buyer_total)
            found = None
            for key, entries in candidates.items():
                currency = entries[:1].currency_id
                if key in used or any(m[2] == key for m in matches):
                    continue
                submitted = sent_at.get(key)
                if not submitted or refund.posted < submitted - SENT_TOLERANCE:
                    continue
                if not currency.compare_amounts(
                    sum(entries.mapped("amount")), refunded
                ):
                    found = (item, entries, key)
                    break
            if not found:
                return []
            matches.append(found)
        return matches

    @api.model
    def _amazon_link_entries(self, account, refund, item, entries, sales):
        from .amazon_refund import _key

        buyer_lines = [line for line in item.lines if line.side == BUYER]
        free = list(buyer_lines)
        for entry in entries:
            line = next((li for li in free if li.kind == entry.amount_type), None)
            if line is None and entry == entries[-1] and free:
                line = free[0]
            vals = {
                "refund_ref": refund.refund_id,
                "transaction_ref": refund.transaction_id,
                "adjustment_ref": item.item_ref,
                "posted_date": refund.posted,
                "state": "done",
                "message": False,
            }
            if line is not None:
                free.remove(line)
                vals["amazon_key"] = _key(line_key(refund, item, line))
            entry.sudo().write(vals)
        sale = sales.get(refund.order_id)
        if not sale:
            return
        # Amazon's own money (fees given back or kept) is listed as an
        # imported refund would list it; the buyer's is what Odoo sent.
        move = entries.credit_note_id[:1]
        others = [
            vals
            for vals in self._amazon_entry_vals(account, refund, sale, move)
            if vals["side"] != BUYER and vals["adjustment_ref"] == item.item_ref
        ]
        for vals in others:
            vals.update(message=False, credit_note_id=False, origin="fbm")
        if others:
            self.sudo().create(others)
        entries.sudo().write(
            {"posted_date": fields.Datetime.to_datetime(refund.posted)}
        )
