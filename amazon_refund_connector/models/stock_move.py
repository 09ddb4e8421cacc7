from odoo import models
from odoo.tools import float_compare
from odoo.tools.misc import groupby


class StockMove(models.Model):
    _inherit = "stock.move"

    def _assign_picking(self):
        """Give the moves of newly imported Amazon orders their pickings at once.

        Odoo looks for an open picking of each group of moves, then creates
        the missing ones one by one. The moves of orders just imported
        belong to procurement groups that have no picking yet: when no
        picking of those groups exists and no two groups of moves could share
        one, Odoo's loop would create exactly one picking per group, in this
        order; they are created in one batch instead.
        """
        if not self.env.context.get("amazon_import") or len(self) < 2:
            return super()._assign_picking()
        groups = [
            self.env["stock.move"].concat(*moves)
            for _key, moves in groupby(self, key=lambda m: m._key_assign_picking())
        ]
        if not self._amazon_new_pickings_only(groups):
            return super()._assign_picking()
        groups = [
            moves.filtered(
                lambda m: (
                    float_compare(
                        m.product_uom_qty,
                        0.0,
                        precision_rounding=m.product_uom.rounding,
                    )
                    >= 0
                )
            )
            for moves in groups
        ]
        groups = [moves for moves in groups if moves]
        pickings = self.env["stock.picking"].create(
            [moves._get_new_picking_values() for moves in groups]
        )
        for moves, picking in zip(groups, pickings, strict=True):
            moves.write({"picking_id": picking.id})
            moves._assign_picking_post_process(new=True)
        return True

    def _amazon_new_pickings_only(self, groups):
        """Whether Odoo's search would find no picking for any of ``groups``.

        True when every move has a procurement group, none of those groups
        has a picking, and no two groups of moves match the same picking
        search (so that a picking made for one could not serve another).
        """
        if not all(move.group_id for move in self):
            return False
        seen = set()
        for moves in groups:
            domain = moves[0]._search_picking_for_assignation_domain()
            key = repr(domain)
            if key in seen:
                return False
            seen.add(key)
        return not self.env["stock.picking"].search_count(
            [("group_id", "in", self.group_id.ids)], limit=1
        )

    def _trigger_scheduler(self):
        # Odoo searches an automatic reordering rule for each move: none can
        # be found where these products have none in these companies.
        if (
            self
            and self.env.context.get("amazon_import")
            and not self.env["stock.warehouse.orderpoint"].search_count(
                [
                    ("product_id", "in", self.product_id.ids),
                    ("trigger", "=", "auto"),
                    ("company_id", "in", self.company_id.ids),
                ],
                limit=1,
            )
        ):
            return
        return super()._trigger_scheduler()
