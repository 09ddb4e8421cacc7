from odoo import api, models


class ProductPricelist(models.Model):
    _inherit = "product.pricelist"

    @api.model
    def _amazon_pricelists(self, company, currencies):
        """``{currency: pricelist}``: a pricelist per currency of Amazon orders.

        Odoo takes an order's currency from its pricelist; prices of Amazon
        orders are Amazon's, so any pricelist in that currency serves.
        """
        currencies = self.env["res.currency"].union(*currencies)
        found = self.search(
            [
                ("currency_id", "in", currencies.ids),
                ("company_id", "in", [False, company.id]),
            ],
            order="company_id, sequence, id",
        )
        result = {}
        for pricelist in found:
            result.setdefault(pricelist.currency_id, pricelist)
        missing = currencies.filtered(lambda c: c not in result)
        if missing:
            created = self.create(
                [
                    {
                        "name": self.env._("Amazon %s", currency.name),
                        "currency_id": currency.id,
                        "company_id": company.id,
                    }
                    for currency in missing
                ]
            )
            for pricelist in created:
                result[pricelist.currency_id] = pricelist
        return result
