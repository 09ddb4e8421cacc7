"""What two imports of one Amazon order must agree on.

Used by the connector's Odoo tests and by the benchmarks to compare an order
booked through searchOrders with the same order booked from a report. Works
on any sale order record; imports nothing.
"""


def order_shape(sale):
    """What two imports of one Amazon order must agree on: lines, taxes,
    totals, states, stock moves and invoices."""
    lines = sorted(
        (
            line.amazon_sku or line.product_id.default_code or "",
            line.amazon_charge or "",
            line.product_uom_qty,
            round(line.price_unit, 2),
            round(line.price_total, 2),
            tuple(sorted(line.tax_id.mapped("amount"))),
        )
        for line in sale.order_line
    )
    moves = sorted(
        (m.product_id.default_code or "", m.quantity, m.state)
        for m in sale.picking_ids.move_ids
    )
    return {
        "state": sale.state,
        "status": sale.amazon_status,
        "channel": sale.amazon_channel,
        "untaxed": round(sale.amount_untaxed, 2),
        "tax": round(sale.amount_tax, 2),
        "total": round(sale.amount_total, 2),
        "lines": lines,
        "moves": moves,
        "pickings": sorted(sale.picking_ids.mapped("state")),
        "invoiced": round(sum(sale.invoice_ids.mapped("amount_total")), 2),
        "country": sale.partner_shipping_id.country_id.code,
    }
