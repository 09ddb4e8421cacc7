from odoo import api, models


class StockQuant(models.Model):
    _inherit = "stock.quant"

    @api.model
    def _amazon_demo_fba_stock(self, product_ids, account_id, quantity):
        """Demo data: put ``quantity`` of each product at the account's FBA location."""
        location = self.env["amazon.account"].browse(account_id).fba_location_id
        quants = self.with_context(inventory_mode=True).create(
            [
                {
                    "product_id": product_id,
                    "location_id": location.id,
                    "inventory_quantity": quantity,
                }
                for product_id in product_ids
            ]
        )
        quants.action_apply_inventory()
