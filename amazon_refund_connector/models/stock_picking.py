import logging

from odoo import models

_logger = logging.getLogger(__name__)


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        # A delivery subscribes its partner: never an Amazon buyer.
        if partner_ids:
            partner_ids = (
                self.env["res.partner"].browse(partner_ids)._amazon_buyers_removed().ids
            )
        return super().message_subscribe(partner_ids, subtype_ids)

    def _amazon_fba_done(self, location, shipped):
        """Book what Amazon shipped: done from ``location``, at once.

        ``shipped`` maps sale order lines to the quantity Amazon shipped.
        """
        moved = self.filtered(lambda p: p.location_id != location)
        if moved:
            moved.write({"location_id": location.id})
            moved.move_ids.write({"location_id": location.id})
        moves = self.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        for move in moves:
            quantity = shipped.get(move.sale_line_id, move.product_uom_qty)
            move._set_quantity_done(min(quantity, move.product_uom_qty))
        moves.picked = True
        self.with_context(cancel_backorder=True, skip_sms=True)._action_done()
