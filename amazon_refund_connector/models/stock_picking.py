import logging
import re
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from .amazon_shipment import SYNC_STATES

_logger = logging.getLogger(__name__)

# Carriers whose integration makes the label (and the tracking number) when
# the delivery is validated: stock_delivery's send_to_shipper.
MANUAL_DELIVERY_TYPES = ("fixed", "base_on_rule")


class StockPicking(models.Model):
    _inherit = "stock.picking"

    amazon_shipment_ids = fields.One2many(
        "amazon.shipment", "picking_id", string="Amazon packages", readonly=True
    )
    amazon_sync_state = fields.Selection(
        SYNC_STATES,
        string="Amazon sync",
        compute="_compute_amazon_sync_state",
        store=True,
        index=True,
        help="Whether Amazon confirmed the shipment of this merchant-fulfilled "
        "delivery.",
    )
    amazon_sync_message = fields.Text(
        string="Amazon sync message", compute="_compute_amazon_sync_state", store=True
    )
    is_amazon_fbm = fields.Boolean(
        string="Amazon merchant-fulfilled delivery",
        compute="_compute_is_amazon_fbm",
        help="A delivery to the customer of an order Amazon lets the seller ship.",
    )

    @api.depends("amazon_shipment_ids.state", "amazon_shipment_ids.message")
    def _compute_amazon_sync_state(self):
        for picking in self:
            states = set(picking.amazon_shipment_ids.mapped("state"))
            if not states:
                picking.amazon_sync_state = False
            elif "failed" in states:
                picking.amazon_sync_state = "failed"
            elif "pending" in states:
                picking.amazon_sync_state = "pending"
            else:
                picking.amazon_sync_state = "synced"
            picking.amazon_sync_message = (
                "\n".join(
                    f"{s.package_ref}: {s.message}"
                    for s in picking.amazon_shipment_ids.sorted("package_ref")
                    if s.message and s.state != "synced"
                )
                or False
            )

    @api.depends(
        "sale_id.amazon_channel", "picking_type_code", "location_dest_id.usage"
    )
    def _compute_is_amazon_fbm(self):
        for picking in self:
            picking.is_amazon_fbm = picking._amazon_is_fbm_delivery()

    def _amazon_is_fbm_delivery(self):
        """Whether Amazon must hear of this picking: the customer delivery of
        a merchant-fulfilled Amazon order (not a return, not an FBA order)."""
        self.ensure_one()
        return bool(
            self.sale_id.amazon_order_ref
            and self.sale_id.amazon_channel == "FBM"
            and self.picking_type_code == "outgoing"
            and self.location_dest_id.usage == "customer"
            and not self.move_ids.origin_returned_move_id
        )

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        # A delivery subscribes its partner: never an Amazon buyer.
        if partner_ids:
            partner_ids = (
                self.env["res.partner"].browse(partner_ids)._amazon_buyers_removed().ids
            )
        return super().message_subscribe(partner_ids, subtype_ids)

    # -- pickings of imported orders (see stock.move._action_confirm) -------

    def message_post_with_source(self, source_ref, render_values=None, **kwargs):
        if (
            self.env.context.get("amazon_origin_logged")
            and source_ref == "mail.message_origin_link"
        ):
            return self.env["mail.message"]
        return super().message_post_with_source(
            source_ref, render_values=render_values, **kwargs
        )

    def _amazon_log_origin(self):
        """Log on each picking the orders it was created from, as sale_stock
        does when it creates a picking, for all pickings at once."""
        view = self.env.ref("mail.message_origin_link")
        render = self.env["mail.render.mixin"]._render_template_qweb_view
        bodies_by_order = defaultdict(dict)
        for picking in self:
            for index, sale in enumerate(picking.move_ids.sale_line_id.order_id):
                bodies_by_order[index][picking.id] = render(
                    view, self._name, picking.ids, {"self": picking, "origin": sale}
                )[picking.id]
        for bodies in bodies_by_order.values():
            self.browse(list(bodies))._message_log_batch(bodies)

    # -- validation ----------------------------------------------------------

    def button_validate(self):
        self.filtered(lambda p: p.state != "done")._amazon_check_shipping_details()
        return super().button_validate()

    def _amazon_check_shipping_details(self):
        """Refuse, before anything is done, what Amazon would refuse.

        Amazon requires a tracking number for each package, and a carrier.
        A carrier whose integration makes the label at validation brings
        its own tracking number.
        """
        problems = []
        for picking in self.filtered(lambda p: p._amazon_is_fbm_delivery()):
            carrier = picking.carrier_id
            if not carrier:
                problems.append(
                    self.env._(
                        "%(picking)s: Amazon needs the carrier of the shipment of "
                        "order %(order)s. Set the carrier.",
                        picking=picking.name,
                        order=picking.sale_id.amazon_order_ref,
                    )
                )
                continue
            makes_label = (
                carrier.integration_level == "rate_and_ship"
                and carrier.delivery_type not in MANUAL_DELIVERY_TYPES
            )
            if makes_label:
                continue
            refs = picking._amazon_tracking_refs()
            packages = picking._amazon_package_groups()
            if not refs:
                problems.append(
                    self.env._(
                        "%(picking)s: Amazon needs a tracking reference for the "
                        "shipment of order %(order)s. Enter the carrier's tracking "
                        "reference before validating.",
                        picking=picking.name,
                        order=picking.sale_id.amazon_order_ref,
                    )
                )
            elif len(refs) > 1 and len(refs) != len(packages):
                problems.append(
                    self.env._(
                        "%(picking)s: %(refs)s tracking references for %(packages)s "
                        "packages. Give one reference per package (separated by "
                        "commas), or one for all.",
                        picking=picking.name,
                        refs=len(refs),
                        packages=len(packages),
                    )
                )
        if problems:
            raise UserError("\n".join(problems))

    def _action_done(self):
        result = super()._action_done()
        shipped = self.filtered(
            lambda p: (
                p.state == "done"
                and not p.amazon_shipment_ids
                and p._amazon_is_fbm_delivery()
            )
        )
        shipped._amazon_prepare_shipments()
        shipped.sale_id._amazon_invoice_shipped()
        return result

    # -- packages --------------------------------------------------------------

    def _amazon_tracking_refs(self):
        """The tracking references of the delivery, one per package."""
        self.ensure_one()
        refs = re.split(r"[,;\s]+", self.carrier_tracking_ref or "")
        return [ref for ref in refs if ref]

    def _amazon_package_groups(self):
        """``[(stock package or empty, {Amazon order item id: quantity})]``.

        One group per package the items were put in (items outside any
        package make a group of their own), so that Amazon hears of each
        package with its own tracking number.
        """
        self.ensure_one()
        groups = {}
        for line in self.move_line_ids:
            sale_line = line.move_id.sale_line_id
            if not sale_line.amazon_item_ref or sale_line.amazon_charge != "ITEM":
                continue
            quantity = line.quantity_product_uom
            if not quantity:
                continue
            items = groups.setdefault(line.result_package_id, {})
            items[sale_line.amazon_item_ref] = (
                items.get(sale_line.amazon_item_ref, 0) + quantity
            )
        return sorted(groups.items(), key=lambda group: group[0].id or 0)

    def _amazon_carrier(self):
        """``(Amazon carrier code, carrier name for "Other")`` of the delivery."""
        self.ensure_one()
        if not self.carrier_id:
            return "Other", False
        code, name = self.env["amazon.carrier"]._amazon_match(self.carrier_id)
        return code, name or False

    def _amazon_write_tracking(self, shipments):
        """Give ``shipments`` (packages of this delivery) their tracking refs."""
        self.ensure_one()
        refs = self._amazon_tracking_refs()
        for index, shipment in enumerate(shipments.sorted("package_ref")):
            ref = refs[index] if len(refs) == len(shipments) else (refs or [""])[0]
            shipment.tracking_ref = ref or False

    def _amazon_prepare_shipments(self):
        """Record the packages of these done deliveries and send them.

        Nothing is sent in the transaction that validates the delivery: a job
        of the account sends them once it is committed.
        """
        if not self:
            return
        Shipment = self.env["amazon.shipment"].sudo()
        next_refs = Shipment._next_package_refs(self.sale_id)
        vals_list = []
        for picking in self:
            code, name = picking._amazon_carrier()
            groups = picking._amazon_package_groups()
            refs = picking._amazon_tracking_refs()
            for index, (package, items) in enumerate(groups):
                if len(refs) == len(groups):
                    tracking = refs[index]
                else:
                    tracking = refs[0] if refs else False
                sale = picking.sale_id
                vals_list.append(
                    {
                        "picking_id": picking.id,
                        "sale_order_id": sale.id,
                        "account_id": sale.amazon_account_id.id,
                        "package_ref": next_refs[sale.id],
                        "stock_package_id": package.id or False,
                        "items": items,
                        "carrier_code": code,
                        "carrier_name": name,
                        "tracking_ref": tracking,
                        "ship_date": picking.date_done,
                    }
                )
                next_refs[sale.id] += 1
        shipments = Shipment.create(vals_list)
        for account in shipments.account_id:
            account._enqueue_shipment_confirmation()

    # -- failures and retries ------------------------------------------------

    def _amazon_post_failures(self, shipments):
        """Post Amazon's refusal on each delivery concerned."""
        for picking in self:
            lines = [
                self.env._(
                    "Package %(ref)s: %(message)s",
                    ref=shipment.package_ref,
                    message=shipment.message,
                )
                for shipment in shipments
                if shipment.picking_id == picking
            ]
            picking.message_post(
                body=self.env._(
                    "Amazon did not confirm the shipment:\n%s", "\n".join(lines)
                )
            )

    def action_amazon_retry_sync(self):
        """Send the packages Amazon has not confirmed again."""
        shipments = self.amazon_shipment_ids.filtered(lambda s: s.state != "synced")
        if not shipments:
            raise UserError(
                self.env._("Amazon has confirmed these deliveries: nothing to resend.")
            )
        shipments.sudo()._retry()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Sent to Amazon again"),
                "message": self.env._(
                    "%s packages will be sent to Amazon in a moment.", len(shipments)
                ),
                "type": "info",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _amazon_fba_done(self, location, shipped):
        """Book what Amazon shipped: done from ``location``, at once.

        ``shipped`` maps sale order lines to the quantity Amazon shipped.
        """
        moved = self.filtered(lambda p: p.location_id != location)
        if moved:
            moved.write({"location_id": location.id})
            moved.move_ids.write({"location_id": location.id})
        moves = self.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        line_vals = []
        for move in moves:
            quantity = shipped.get(move.sale_line_id, move.product_uom_qty)
            quantity = min(quantity, move.product_uom_qty)
            if move.move_line_ids or move.product_id.tracking == "serial":
                move._set_quantity_done(quantity)
            elif (
                float_compare(
                    quantity, 0.0, precision_rounding=move.product_uom.rounding
                )
                > 0
            ):
                # What _set_quantity_done does for a move with no reservation,
                # for all such moves at once.
                vals = move._prepare_move_line_vals(quantity=0)
                vals["quantity"] = quantity
                line_vals.append(vals)
        if line_vals:
            self.env["stock.move.line"].create(line_vals)._apply_putaway_strategy()
        moves.picked = True
        self.with_context(cancel_backorder=True, skip_sms=True)._action_done()
