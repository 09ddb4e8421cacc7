from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    amazon_fba_warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Amazon FBA warehouse",
        help="Warehouse standing for Amazon's fulfilment centres: its stock "
        "location is the default FBA location of the company's Amazon accounts.",
    )

    def _amazon_fba_warehouse(self):
        """The company's Amazon FBA warehouse, created the first time."""
        self.ensure_one()
        warehouse = self.amazon_fba_warehouse_id
        if warehouse.exists() and warehouse.active:
            return warehouse
        warehouses = self.env["stock.warehouse"].sudo().with_context(active_test=False)
        taken = warehouses.search([("company_id", "=", self.id)])
        codes = set(taken.mapped("code"))
        names = set(taken.mapped("name"))
        code = next(
            c for c in ["FBA"] + [f"FBA{n}" for n in range(2, 100)] if c not in codes
        )
        name = self.env._("Amazon FBA")
        if name in names:
            name = f"{name} ({code})"
        warehouse = warehouses.create(
            {
                "name": name,
                "code": code,
                "company_id": self.id,
                "partner_id": self.partner_id.id,
                "reception_steps": "one_step",
                "delivery_steps": "ship_only",
            }
        )
        self.sudo().amazon_fba_warehouse_id = warehouse
        return warehouse
