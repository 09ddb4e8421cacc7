from decimal import Decimal

from odoo import api, fields, models

TAX_KINDS = [
    ("vat", "VAT"),
    ("gst", "GST"),
    ("sales", "Sales tax"),
    ("consumption", "Consumption tax"),
]


class AccountTax(models.Model):
    _inherit = "account.tax"

    amazon_tax_kind = fields.Selection(
        TAX_KINDS,
        string="Amazon tax kind",
        readonly=True,
        copy=False,
        help="Set on the taxes the Amazon connector created: the kind of tax "
        "Amazon collected (VAT, GST, sales tax, consumption tax).",
    )

    @api.model
    def _amazon_taxes(self, company, wanted, country=None):
        """``{(rate, included, kind): tax}`` for every key wanted.

        ``rate`` is a Decimal percentage, ``included`` whether prices include
        the tax, ``kind`` one of :data:`TAX_KINDS`. The company's own sales
        taxes with that percentage are used; a tax the connector created
        serves only its own kind (a US sales tax is no Japanese consumption
        tax of the same rate). Missing ones are created in a tax group that
        says what they are.
        """
        wanted = set(wanted)
        if not wanted:
            return {}
        candidates = self.with_context(active_test=False).search(
            [
                ("company_id", "=", company.id),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("amount", "in", [float(rate) for rate, _inc, _kind in wanted]),
                ("active", "=", True),
            ],
            order="sequence, id",
        )
        found = {}
        to_create = []
        for key in wanted:
            rate, included, kind = key
            tax = next(
                (
                    tax
                    for tax in candidates
                    if Decimal(str(tax.amount)).normalize() == rate.normalize()
                    and bool(tax.price_include) == included
                    and tax.amazon_tax_kind in (False, kind)
                ),
                None,
            )
            if tax:
                found[key] = tax
            else:
                to_create.append(key)
        if to_create:
            # A tax needs a country: the company's fiscal one, or the
            # marketplace's for a company that has none yet.
            tax_country = (
                company.account_fiscal_country_id or company.country_id or country
            )
            created = self.create(
                [
                    dict(
                        self._amazon_tax_vals(company, rate, included, kind),
                        tax_group_id=self._amazon_tax_group(
                            company, rate, kind, tax_country
                        ).id,
                        country_id=tax_country.id,
                    )
                    for rate, included, kind in to_create
                ]
            )
            found.update(zip(to_create, created, strict=True))
        return found

    @api.model
    def _amazon_tax_group_name(self, rate, kind):
        """What invoices print for the taxes of ``kind`` at ``rate``."""
        percent = f"{rate.normalize():f}"
        if kind == "sales":
            # US sales tax rates differ by address: one group shows them all.
            return self.env._("Sales tax")
        if kind == "gst":
            return self.env._("GST %s%%", percent)
        if kind == "consumption":
            return self.env._("Consumption tax %s%%", percent)
        return self.env._("VAT %s%%", percent)

    @api.model
    def _amazon_tax_group(self, company, rate, kind, country):
        """The company's tax group for ``kind`` at ``rate``, made if needed.

        Found by its English name, and named in every installed language.
        """
        groups = self.env["account.tax.group"].with_context(lang="en_US")
        name = self.with_context(lang="en_US")._amazon_tax_group_name(rate, kind)
        group = groups.search(
            [
                ("company_id", "=", company.id),
                ("country_id", "=", country.id),
                ("name", "=", name),
            ],
            limit=1,
        )
        if group:
            return group
        group = groups.create(
            {"name": name, "company_id": company.id, "country_id": country.id}
        )
        translations = {
            lang: self.with_context(lang=lang)._amazon_tax_group_name(rate, kind)
            for lang, _label in self.env["res.lang"].get_installed()
            if lang != "en_US"
        }
        if translations:
            group.update_field_translations("name", translations)
        return group

    @api.model
    def _amazon_tax_vals(self, company, rate, included, kind):
        percent = f"{rate.normalize():f}"
        inclusion = self.env._("incl.") if included else self.env._("excl.")
        return {
            "name": self.env._(
                "Amazon %(kind)s %(rate)s%% (%(inclusion)s)",
                kind=dict(
                    self._fields["amazon_tax_kind"]._description_selection(self.env)
                )[kind],
                rate=percent,
                inclusion=inclusion,
            ),
            "company_id": company.id,
            "type_tax_use": "sale",
            "amount_type": "percent",
            "amount": float(rate),
            "price_include_override": "tax_included" if included else "tax_excluded",
            "description": f"{percent}%",
            "amazon_tax_kind": kind,
        }
