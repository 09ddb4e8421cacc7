from collections import defaultdict

from odoo import models
from odoo.tools import float_compare
from odoo.tools.misc import groupby


class StockMove(models.Model):
    _inherit = "stock.move"

    # -- confirmation of imported orders, in batches -------------------------
    #
    # Odoo confirms the moves of a page of orders group by group: for each
    # procurement group it searches an open picking, creates one, posts "This
    # transfer has been created from" on it, then compares every move with
    # every other move of its picking to merge them. The moves of orders just
    # imported belong to groups that have no picking yet and come from
    # distinct order lines: the pickings Odoo would create are created in one
    # batch before, their notes are logged in one batch after, and the merge,
    # which could merge nothing, is skipped. The records are those Odoo's
    # group-by-group run makes.

    def _action_confirm(self, merge=True, merge_into=False):
        if not self.env.context.get("amazon_import"):
            return super()._action_confirm(merge=merge, merge_into=merge_into)
        new_pickings = self._amazon_create_pickings()
        if not new_pickings:
            return super()._action_confirm(merge=merge, merge_into=merge_into)
        if merge and not merge_into and self._amazon_nothing_to_merge(new_pickings):
            merge = False
        # For _assign_picking, by key: a new picking's group is that of its
        # moves, which it has none of yet.
        assignation = tuple((key, picking.id) for key, picking in new_pickings.items())
        moves = super(
            StockMove, self.with_context(amazon_new_pickings=assignation)
        )._action_confirm(merge=merge, merge_into=merge_into)
        pickings = self.env["stock.picking"].concat(*new_pickings.values())
        used = pickings.filtered("move_ids")
        # A picking made for moves that Odoo did not assign: none in practice,
        # never left empty.
        (pickings - used).unlink()
        used._amazon_log_origin()
        return moves.with_env(self.env)

    def _amazon_picking_groups(self):
        """``[moves]`` that Odoo's confirmation gives a new picking each, in
        the order in which it creates them (by group and locations, then by
        picking type)."""
        by_route = defaultdict(lambda: defaultdict(list))
        for move in self:
            if move.state == "draft" and move._should_be_assigned():
                route = (move.group_id, move.location_id, move.location_dest_id)
                by_route[route][move._key_assign_picking()].append(move)
        return [
            self.browse().concat(*moves)
            for by_key in by_route.values()
            for moves in by_key.values()
        ]

    def _amazon_create_pickings(self):
        """Create at once the pickings Odoo's confirmation would create for
        ``self``: ``{assignation key: picking}``, empty if Odoo could find a
        picking for any of the moves."""
        groups = self._amazon_picking_groups()
        if len(groups) < 2 or not self._amazon_new_pickings_only(groups):
            return {}
        pickings = self.env["stock.picking"].create(
            [moves._get_new_picking_values() for moves in groups]
        )
        return {
            moves[0]._amazon_assignation_key(): picking
            for moves, picking in zip(groups, pickings, strict=True)
        }

    def _amazon_new_pickings_only(self, groups):
        """Whether Odoo would create a picking for each of ``groups``.

        True when every move has a procurement group and a demand of zero or
        more (Odoo gives a negative move no new picking), none of those
        groups has a picking, and no two groups of moves share a key of
        their picking search (whose domain may only add conditions to it),
        so that a picking made for one could not serve another.
        """
        moves = self.browse().concat(*groups)
        if not all(
            move.group_id
            and float_compare(
                move.product_uom_qty, 0.0, precision_rounding=move.product_uom.rounding
            )
            >= 0
            for move in moves
        ):
            return False
        keys = {group[0]._amazon_assignation_key() for group in groups}
        if len(keys) < len(groups):
            return False
        return not self.env["stock.picking"].search_count(
            [("group_id", "in", moves.group_id.ids)], limit=1
        )

    def _amazon_nothing_to_merge(self, new_pickings):
        """Whether Odoo's merge would leave ``self`` as it is: every move goes
        to one of the ``new_pickings`` and comes from an order line that no
        other move comes from (Odoo merges only moves of one line)."""
        return len(self.sale_line_id) == len(self) and all(
            move.sale_line_id
            and move.state == "draft"
            and move._amazon_assignation_key() in new_pickings
            for move in self
        )

    def _amazon_assignation_key(self):
        """The ids Odoo's search for the picking of this move compares (see
        ``_search_picking_for_assignation_domain``): group, locations and
        operation type."""
        self.ensure_one()
        return (
            self.group_id.id,
            self.location_id.id,
            (self.location_dest_id or self.picking_type_id.default_location_dest_id).id,
            self.picking_type_id.id,
        )

    def _assign_picking(self):
        assignation = self.env.context.get("amazon_new_pickings")
        if not assignation:
            return super()._assign_picking()
        # One browse: the pickings' moves are read once for all of them.
        records = self.env["stock.picking"].browse([id_ for _key, id_ in assignation])
        pickings = dict(zip((key for key, _id in assignation), records, strict=True))
        rest = self.env["stock.move"]
        for _key, moves in groupby(self, key=lambda m: m._key_assign_picking()):
            moves = self.browse().concat(*moves)
            picking = pickings.get(moves[0]._amazon_assignation_key())
            if not picking or picking.move_ids - moves:
                rest |= moves
                continue
            moves.write({"picking_id": picking.id})
            # Its note "created from" is logged by _action_confirm, in batch.
            moves.with_context(amazon_origin_logged=True)._assign_picking_post_process(
                new=True
            )
        if rest:
            super(StockMove, rest)._assign_picking()
        return True

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
