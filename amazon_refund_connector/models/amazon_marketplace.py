from odoo import api, fields, models

from ..sp_api import REGION_ENDPOINTS

REGIONS = [
    ("NA", "North America"),
    ("EU", "Europe"),
    ("FE", "Far East"),
]


class AmazonMarketplace(models.Model):
    _name = "amazon.marketplace"
    _description = "Amazon Marketplace"
    _order = "region, name"

    name = fields.Char(required=True, translate=True)
    marketplace_ref = fields.Char(
        string="Marketplace ID",
        required=True,
        help="Amazon's identifier of the marketplace, e.g. ATVPDKIKX0DER.",
    )
    domain = fields.Char(help="Web address of the store, e.g. amazon.de.")
    country_id = fields.Many2one("res.country", required=True)
    currency_id = fields.Many2one("res.currency", required=True)
    region = fields.Selection(REGIONS, required=True)
    endpoint = fields.Char(
        string="SP-API endpoint", compute="_compute_endpoint", store=False
    )
    tax_included = fields.Boolean(
        string="Prices include tax",
        help="Amazon shows and charges prices including VAT in this marketplace.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "marketplace_ref_unique",
            "unique(marketplace_ref)",
            "An Amazon marketplace ID can be registered only once.",
        ),
    ]

    @api.depends("region")
    def _compute_endpoint(self):
        for marketplace in self:
            marketplace.endpoint = REGION_ENDPOINTS.get(marketplace.region, False)

    @api.model
    def _region_of_country(self, country_code):
        """Amazon region serving a country code, by Amazon's endpoint table."""
        return next(
            (
                region
                for region, codes in MARKETPLACE_REGION_COUNTRIES.items()
                if country_code in codes
            ),
            False,
        )

    @api.model
    def _sync_from_participations(self, participations):
        """Create or update marketplaces from getMarketplaceParticipations.

        Returns the marketplaces the seller participates in.
        """
        rows = [
            p.get("marketplace")
            for p in participations
            if isinstance(p, dict) and isinstance(p.get("marketplace"), dict)
        ]
        refs = [row.get("id") for row in rows if row.get("id")]
        existing = self.with_context(active_test=False).search(
            [("marketplace_ref", "in", refs)]
        )
        by_ref = {m.marketplace_ref: m for m in existing}
        countries = self.env["res.country"].search(
            [("code", "in", [row.get("countryCode") for row in rows])]
        )
        country_by_code = {c.code: c for c in countries}
        currencies = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "in", [row.get("defaultCurrencyCode") for row in rows])])
        )
        currency_by_code = {c.name: c for c in currencies}
        to_create = []
        for row in rows:
            ref = row.get("id")
            if not ref or ref in by_ref:
                continue
            country = country_by_code.get(row.get("countryCode"))
            currency = currency_by_code.get(row.get("defaultCurrencyCode"))
            region = self._region_of_country(row.get("countryCode"))
            if not (country and currency and region):
                continue
            to_create.append(
                {
                    "name": row.get("name") or ref,
                    "marketplace_ref": ref,
                    "domain": row.get("domainName"),
                    "country_id": country.id,
                    "currency_id": currency.id,
                    "region": region,
                }
            )
        created = self.create(to_create) if to_create else self.browse()
        return (existing | created).filtered(lambda m: m.marketplace_ref in refs)


# Countries served by each SP-API endpoint region (Amazon's endpoint table).
MARKETPLACE_REGION_COUNTRIES = {
    "NA": {"US", "CA", "MX", "BR"},
    "EU": {
        "IE",
        "ES",
        "GB",
        "UK",
        "FR",
        "BE",
        "NL",
        "DE",
        "IT",
        "SE",
        "ZA",
        "PL",
        "EG",
        "TR",
        "SA",
        "AE",
        "IN",
    },
    "FE": {"SG", "AU", "JP"},
}
