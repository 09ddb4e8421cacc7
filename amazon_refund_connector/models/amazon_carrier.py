from odoo import api, fields, models

from ..sp_api.shipments import match_carrier


class AmazonCarrier(models.Model):
    """A carrier code Amazon accepts in shipment confirmations.

    Amazon matches carrier codes exactly; the names and aliases are what an
    Odoo carrier may be called for the connector to find the code.
    """

    _name = "amazon.carrier"
    _description = "Amazon carrier code"
    _order = "name"
    _rec_name = "name"

    code = fields.Char(required=True, help="The code exactly as Amazon spells it.")
    name = fields.Char(required=True, translate=False)
    aliases = fields.Char(
        help="Other names of the carrier, separated by commas, matched "
        "case-insensitively to Odoo's carrier names."
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_unique", "unique(code)", "Amazon carrier codes are unique."),
    ]

    @api.model
    def _amazon_match(self, carrier):
        """``(code, carrier_name)`` to send for an Odoo ``delivery.carrier``.

        A carrier mapped to a code sends it; else its name is matched to
        Amazon's codes and their names; a carrier none matches goes as
        "Other" with its name.
        """
        if carrier.amazon_carrier_id:
            return carrier.amazon_carrier_id.code, None
        known = {
            rec.code: [rec.name, *(a.strip() for a in (rec.aliases or "").split(","))]
            for rec in self.search([])
        }
        return match_carrier(carrier.name or "", known)
