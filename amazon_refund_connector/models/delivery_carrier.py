from odoo import fields, models


class DeliveryCarrier(models.Model):
    _inherit = "delivery.carrier"

    amazon_carrier_id = fields.Many2one(
        "amazon.carrier",
        string="Amazon carrier code",
        help="The code Amazon is told for shipments with this carrier. Left "
        "empty, the carrier's name is matched to Amazon's codes, and a name "
        'none matches goes as "Other" with the name.',
    )
