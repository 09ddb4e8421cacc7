from odoo import fields, models

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
