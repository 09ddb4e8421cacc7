from decimal import Decimal

from odoo import api, models


class AccountTax(models.Model):
    _inherit = "account.tax"

    @api.model
    def _amazon_taxes(self, company, wanted, country=None):
        """``{(rate, included): tax}`` for every (Decimal rate, bool) wanted.

        Existing sales taxes of the company with that percentage are used;
        missing ones are created, named after Amazon.
        """
        wanted = set(wanted)
        if not wanted:
            return {}
        candidates = self.with_context(active_test=False).search(
            [
                ("company_id", "=", company.id),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("amount", "in", [float(rate) for rate, _inc in wanted]),
                ("active", "=", True),
            ],
            order="sequence, id",
        )
        result = {}
        for tax in candidates:
            key = (Decimal(str(tax.amount)).normalize(), bool(tax.price_include))
            result.setdefault(key, tax)
        found = {}
        to_create = []
        for rate, included in wanted:
            tax = result.get((rate.normalize(), included))
            if tax:
                found[(rate, included)] = tax
            else:
                to_create.append((rate, included))
        if to_create:
            group = self._amazon_tax_group(company)
            created = self.create(
                [
                    dict(
                        self._amazon_tax_vals(company, r, inc),
                        tax_group_id=group.id,
                        # A tax needs a country: the company's fiscal one, or
                        # the marketplace's for a company that has none yet.
                        country_id=(
                            company.account_fiscal_country_id
                            or company.country_id
                            or country
                        ).id,
                    )
                    for r, inc in to_create
                ]
            )
            for (rate, included), tax in zip(to_create, created, strict=True):
                found[(rate, included)] = tax
        return found

    @api.model
    def _amazon_tax_group(self, company):
        """A tax group of the company (one is made if it has none yet)."""
        groups = self.env["account.tax.group"]
        return groups.search([("company_id", "=", company.id)], limit=1) or (
            groups.create({"name": self.env._("Amazon"), "company_id": company.id})
        )

    @api.model
    def _amazon_tax_vals(self, company, rate, included):
        percent = f"{rate.normalize():f}"
        kind = self.env._("incl.") if included else self.env._("excl.")
        return {
            "name": self.env._("Amazon %(rate)s%% (%(kind)s)", rate=percent, kind=kind),
            "company_id": company.id,
            "type_tax_use": "sale",
            "amount_type": "percent",
            "amount": float(rate),
            "price_include_override": "tax_included" if included else "tax_excluded",
            "description": f"{percent}%",
        }
