"""Credit note lines of an Amazon refund, planned from its parsed lines."""

from decimal import Decimal

from odoo import fields

from ..sp_api.finances import BUYER
from ..sp_api.taxes import COMMON_RATES, rate_for, tax_kind

# Amazon's tax kinds and the amount they are the tax of.
BASE_OF_TAX = {
    "TAX": "PRINCIPAL",
    "SHIPPING_TAX": "SHIPPING",
    "GIFT_WRAP_TAX": "GIFT_WRAP",
    "PROMOTION_TAX": "PROMOTION",
    "RESTOCKING_FEE_TAX": "RESTOCKING_FEE",
}
# The order line charge whose taxes a refunded kind had.
CHARGE_OF_KIND = {
    "PRINCIPAL": "ITEM",
    "PROMOTION": "DISCOUNT",
    "SHIPPING": "SHIPPING",
    "GIFT_WRAP": "GIFT_WRAP",
}
KIND_PRODUCTS = {
    "SHIPPING": "amazon_refund_connector.product_shipping",
    "GIFT_WRAP": "amazon_refund_connector.product_gift_wrap",
    "PROMOTION": "amazon_refund_connector.product_promotion",
}
OTHER_PRODUCT = "amazon_refund_connector.product_other_charge"


class CreditNoteBuilder:
    """Plans the lines of the credit note of one refund.

    Every buyer amount of an item becomes a line, its tax at the rate that
    makes Odoo compute exactly the tax Amazon refunded (preferring the
    rates the order was booked at), so the credit note's total is what
    Amazon refunded to the buyer, to the cent.
    """

    def __init__(self, env, account):
        self.env = env
        self.account = account
        self.products = {k: env.ref(x) for k, x in KIND_PRODUCTS.items()}
        self.other = env.ref(OTHER_PRODUCT)

    def names(self):
        return {
            "PRINCIPAL": self.env._("Refund"),
            "SHIPPING": self.env._("Shipping refund"),
            "GIFT_WRAP": self.env._("Gift wrap refund"),
            "PROMOTION": self.env._("Promotion given back"),
            "GOODWILL": self.env._("Goodwill refund"),
            "RESTOCKING_FEE": self.env._("Restocking fee"),
            "OTHER": self.env._("Other refund"),
            "TAX": self.env._("Tax refund"),
        }

    def plan(self, refund, sale, currency):
        """``(lines, tax_keys)``: planned lines ``(vals, tax_key)`` of the note."""
        included = sale.amazon_marketplace_id.tax_included
        country = sale.amazon_marketplace_id.country_id.code
        kind = tax_kind(country)
        digits = currency.decimal_places
        names = self.names()
        planned = []
        for item in refund.items:
            order_lines = sale.order_line.filtered(
                lambda li, ref=item.order_item_id: li.amazon_item_ref == ref
            )
            item_line = order_lines.filtered(lambda li: li.amazon_charge == "ITEM")[:1]
            label = f"[{item.sku}] {item_line.name or item.description or ''}".strip()
            if item.quantity:
                label = self.env._(
                    "%(label)s (%(qty)s units)", label=label, qty=item.quantity
                )
            for base_kind, (amount, tax) in self._by_base(item).items():
                value = -amount  # a refund to the buyer is positive on the note
                tax_value = -tax
                product = self._product(base_kind, item_line)
                preferred = self._rates(order_lines, base_kind) + COMMON_RATES.get(
                    country, ()
                )
                gross = value + tax_value if included else value
                rate = (
                    rate_for(gross, tax_value, included, digits, preferred)
                    if tax_value
                    else None
                )
                name = f"{names.get(base_kind, names['OTHER'])}: {label}"
                key = (rate, included, kind) if rate is not None else None
                price = gross if rate is not None else value
                planned.append((self._vals(product, name, price), key))
                if tax_value and rate is None:
                    # A tax no rate reproduces: refunded as a line of its own.
                    planned.append(
                        (
                            self._vals(
                                self.other, f"{names['TAX']}: {label}", tax_value
                            ),
                            None,
                        )
                    )
        return planned, {key for _vals, key in planned if key}

    @staticmethod
    def _by_base(item):
        """``{base kind: (amount, tax)}`` of the item's buyer lines."""
        totals = {}
        for line in item.lines:
            if line.side != BUYER:
                continue
            base = BASE_OF_TAX.get(line.kind)
            if base:
                amount, tax = totals.get(base, (Decimal(0), Decimal(0)))
                totals[base] = (amount, tax + line.amount)
                continue
            amount, tax = totals.get(line.kind, (Decimal(0), Decimal(0)))
            totals[line.kind] = (amount + line.amount - line.tax, tax + line.tax)
        return {k: v for k, v in totals.items() if v[0] or v[1]}

    def _product(self, base_kind, item_line):
        if base_kind == "PRINCIPAL" and item_line:
            return item_line.product_id
        return self.products.get(base_kind, self.other)

    @staticmethod
    def _rates(order_lines, base_kind):
        charge = CHARGE_OF_KIND.get(base_kind, "ITEM")
        taxes = order_lines.filtered(lambda li: li.amazon_charge == charge).tax_id
        return tuple(str(amount) for amount in set(taxes.mapped("amount")))

    @staticmethod
    def _vals(product, name, price):
        return {
            "product_id": product.id,
            "name": name,
            "quantity": 1,
            "price_unit": float(price),
        }

    @staticmethod
    def line_commands(planned, taxes):
        commands = []
        for vals, key in planned:
            tax = taxes.get(key) if key else None
            commands.append(
                fields.Command.create(
                    dict(vals, tax_ids=[fields.Command.set(tax.ids if tax else [])])
                )
            )
        return commands
