from odoo import api, fields, models

AMAZON_CHARGES = [
    ("ITEM", "Item"),
    ("SHIPPING", "Shipping"),
    ("GIFT_WRAP", "Gift wrap"),
    ("COD_FEE", "Cash on delivery fee"),
    ("OTHER", "Other charge"),
    ("DISCOUNT", "Promotion"),
    ("TIP", "Delivery tip"),
    ("TAX", "Tax"),
    ("ROUNDING", "Rounding"),
]


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    amazon_item_ref = fields.Char(
        string="Amazon order item", readonly=True, copy=False, index="btree_not_null"
    )
    amazon_sku = fields.Char(
        string="Amazon SKU",
        readonly=True,
        copy=False,
        help="The seller SKU Amazon sold the item under; refunds name it.",
    )
    amazon_charge = fields.Selection(
        AMAZON_CHARGES, string="Amazon charge", readonly=True, copy=False
    )
    amazon_qty_shipped = fields.Float(
        string="Shipped by Amazon",
        digits="Product Unit of Measure",
        readonly=True,
        copy=False,
        help="Units Amazon reported as fulfilled when the order was imported.",
    )

    @api.depends(
        "qty_invoiced",
        "qty_delivered",
        "product_uom_qty",
        "state",
        "order_id.order_line.qty_delivered",
    )
    def _compute_qty_to_invoice(self):
        """Amazon orders invoice what shipped, whatever the product's policy.

        An item invoices the units delivered; its charges (shipping, gift
        wrap, its promotion: the lines with its Amazon item id) go with its
        first shipment, and a charge of the whole order (a delivery tip) with
        the order's first shipment. So the invoices of all its deliveries add
        up to Amazon's total.
        """
        amazon = self.filtered(
            lambda line: (
                line.order_id.amazon_order_ref
                and line.amazon_charge
                and line.state == "sale"
            )
        )
        result = super(SaleOrderLine, self - amazon)._compute_qty_to_invoice()
        for line in amazon:
            if line.amazon_charge == "ITEM":
                line.qty_to_invoice = line.qty_delivered - line.qty_invoiced
                continue
            items = line.order_id.order_line.filtered(
                lambda other, ref=line.amazon_item_ref: (
                    other.amazon_charge == "ITEM"
                    and (not ref or other.amazon_item_ref == ref)
                )
            )
            shipped = any(item.qty_delivered for item in items)
            line.qty_to_invoice = (
                line.product_uom_qty - line.qty_invoiced if shipped else 0.0
            )
        return result

    def _amazon_refund_sku(self):
        """The SKU Amazon's refunds name this item by."""
        self.ensure_one()
        return self.amazon_sku or self.product_id.default_code or False
