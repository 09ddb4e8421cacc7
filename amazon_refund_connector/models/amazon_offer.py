from odoo import api, fields, models


class AmazonOffer(models.Model):
    """Which product an Amazon SKU sells, per account (and marketplace)."""

    _name = "amazon.offer"
    _description = "Amazon Offer (SKU mapping)"
    _order = "account_id, sku"
    _check_company_auto = True

    account_id = fields.Many2one(
        "amazon.account", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    marketplace_id = fields.Many2one(
        "amazon.marketplace",
        help="Leave empty for an offer valid in every marketplace of the account.",
    )
    sku = fields.Char(string="Seller SKU", required=True, index=True)
    product_id = fields.Many2one(
        "product.product", required=True, check_company=True, ondelete="restrict"
    )

    def init(self):
        # One mapping per account, marketplace (or none) and SKU; a plain
        # unique constraint would let NULL marketplaces repeat.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS amazon_offer_account_mkt_sku_uniq
                ON amazon_offer (account_id, COALESCE(marketplace_id, 0), sku)
            """
        )

    @api.model
    def _products_by_sku(self, account, skus):
        """``{(marketplace id or False, sku): product}`` for a batch of SKUs.

        Offers of the account come first (marketplace-specific, then
        account-wide); then products whose internal reference is the SKU.
        """
        skus = {s for s in skus if s}
        if not skus:
            return {}
        result = {}
        offers = self.search(
            [("account_id", "=", account.id), ("sku", "in", list(skus))]
        )
        for offer in offers:
            result[(offer.marketplace_id.id or False, offer.sku)] = offer.product_id
        # The internal reference serves every SKU without an account-wide
        # offer, so that an offer for one marketplace does not hide it in
        # the others.
        missing = skus - {sku for mkt, sku in result if not mkt}
        if missing:
            products = self.env["product.product"].search(
                [
                    ("default_code", "in", list(missing)),
                    ("sale_ok", "=", True),
                    ("company_id", "in", [False, account.company_id.id]),
                ],
                order="company_id, id",
            )
            for product in products:
                result.setdefault((False, product.default_code), product)
        return result
