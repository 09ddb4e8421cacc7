"""Sale order lines of an Amazon order, planned from its parsed charges."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from odoo import fields

from ..sp_api.taxes import COMMON_RATES, rate_for, rate_for_lines, tax_kind, tax_of


class _PlannedLine:
    """One sale order line to create, before taxes are looked up."""

    __slots__ = (
        "charge",
        "item_ref",
        "name",
        "price_unit",
        "product",
        "quantity",
        "shipped",
        "sku",
        "tax_key",
    )

    def __init__(
        self,
        product,
        name,
        quantity,
        price_unit,
        charge,
        item_ref=False,
        tax_key=None,
        shipped=0,
        sku=False,
    ):
        self.shipped = shipped
        self.sku = sku
        self.product = product
        self.name = name
        self.quantity = quantity
        self.price_unit = price_unit
        self.charge = charge
        self.item_ref = item_ref
        self.tax_key = tax_key

    def vals(self, taxes):
        tax = taxes.get(self.tax_key) if self.tax_key else None
        return {
            "product_id": self.product.id,
            "name": self.name,
            "product_uom_qty": self.quantity,
            "price_unit": float(self.price_unit),
            "tax_id": [fields.Command.set(tax.ids if tax else [])],
            "amazon_item_ref": self.item_ref,
            "amazon_charge": self.charge,
            "amazon_qty_shipped": self.shipped,
            "amazon_sku": self.sku,
        }


@dataclass
class _Plan:
    lines: list
    issues: list

    @property
    def tax_keys(self):
        return {line.tax_key for line in self.lines if line.tax_key}


class OrderLineBuilder:
    """Turns the charges of a parsed order into planned sale order lines.

    Prices and taxes are Amazon's, to the cent: each line's tax rate is
    derived from the amounts Amazon charged and checked against Odoo's way
    of computing it; what a rate cannot express becomes a line of its own.
    """

    CHARGE_PRODUCTS = {
        "SHIPPING": "amazon_refund_connector.product_shipping",
        "GIFT_WRAP": "amazon_refund_connector.product_gift_wrap",
        "DISCOUNT": "amazon_refund_connector.product_promotion",
        "COD_FEE": "amazon_refund_connector.product_other_charge",
        "OTHER": "amazon_refund_connector.product_other_charge",
        "TIP": "amazon_refund_connector.product_other_charge",
        "TAX": "amazon_refund_connector.product_other_charge",
        "ROUNDING": "amazon_refund_connector.product_other_charge",
    }

    def __init__(self, env, account, products):
        self.env = env
        self.account = account
        self.products = products
        self.unknown = env.ref("amazon_refund_connector.product_unknown_item")
        self.charge_products = {k: env.ref(x) for k, x in self.CHARGE_PRODUCTS.items()}
        self.price_digits = env["decimal.precision"].precision_get("Product Price")
        self.preferred_rates = ()
        self.tax_kind = "vat"
        self.company_rates = tuple(
            str(amount)
            for amount in set(
                env["account.tax"]
                .sudo()
                .search(
                    [
                        ("company_id", "=", account.company_id.id),
                        ("type_tax_use", "=", "sale"),
                        ("amount_type", "=", "percent"),
                    ]
                )
                .mapped("amount")
            )
        )

    def _names(self):
        return {
            "SHIPPING": self.env._("Shipping"),
            "GIFT_WRAP": self.env._("Gift wrap"),
            "DISCOUNT": self.env._("Promotion"),
            "COD_FEE": self.env._("Cash on delivery fee"),
            "OTHER": self.env._("Other charge"),
            "TAX": self.env._("Tax"),
            "ROUNDING": self.env._("Rounding"),
        }

    def plan(self, order, marketplace, currency):
        lines, issues = [], []
        self.preferred_rates = self.company_rates + COMMON_RATES.get(
            marketplace.country_id.code, ()
        )
        self.tax_kind = tax_kind(marketplace.country_id.code)
        names = self._names()
        digits = currency.decimal_places
        for item in order.items:
            product = self.products.get(
                (marketplace.id, item.sku)
            ) or self.products.get((False, item.sku))
            if not product:
                product = self.unknown
                issues.append(
                    self.env._(
                        "SKU %(sku)s (%(title)s) matches no product: the item was "
                        "booked on %(product)s.",
                        sku=item.sku or "-",
                        title=item.title,
                        product=product.display_name,
                    )
                )
            if (
                order.channel == "FBA"
                and item.quantity_shipped
                and not product.is_storable
            ):
                issues.append(
                    self.env._(
                        "%(product)s is not tracked in stock: the FBA location "
                        "does not "
                        "count the %(qty)s units Amazon shipped of SKU %(sku)s.",
                        product=product.display_name,
                        qty=item.quantity_shipped,
                        sku=item.sku or "-",
                    )
                )
            label = f"[{item.sku}] {item.title}" if item.sku else item.title
            for charge in item.charges:
                if charge.kind == "ITEM":
                    lines += self._lines(
                        product, label, item.quantity, charge, item, digits, names
                    )
                else:
                    lines += self._lines(
                        self.charge_products[charge.kind],
                        f"{names[charge.kind]}: {label}",
                        1,
                        charge,
                        item,
                        digits,
                        names,
                    )
        if order.delivery_tip:
            lines.append(
                _PlannedLine(
                    self.charge_products["TIP"],
                    self.env._("Delivery tip"),
                    1,
                    order.delivery_tip,
                    "TIP",
                )
            )
        return _Plan(lines, issues)

    def _lines(self, product, name, quantity, charge, item, digits, names):
        """Lines of one charge: itself, its promotion, what a price can't hold.

        Amazon taxes the charge less its promotion; the rate is chosen so
        that Odoo's tax of each of these lines, rounded per line, adds up to
        Amazon's tax. Only where no rate can do that (a tax on a charge of
        zero) does a tax line carry what Amazon charged on top.
        """
        amount, tax, discount = charge.amount, charge.tax, charge.discount
        included = item.tax_included
        quantum = Decimal(1).scaleb(-self.price_digits)
        unit = (
            (amount / quantity).quantize(quantum, rounding=ROUND_HALF_UP)
            if quantity
            else Decimal(0)
        )
        shipped = item.quantity_shipped if charge.kind == "ITEM" else 0
        lines = [
            _PlannedLine(
                product,
                name,
                quantity,
                unit,
                charge.kind,
                item.item_ref,
                shipped=shipped,
                sku=item.sku or False,
            )
        ]
        remainder = amount - unit * quantity
        if remainder:
            lines.append(
                _PlannedLine(
                    self.charge_products["ROUNDING"],
                    f"{names['ROUNDING']}: {name}",
                    1,
                    remainder,
                    "ROUNDING",
                    item.item_ref,
                )
            )
        if discount:
            lines.append(
                _PlannedLine(
                    self.charge_products["DISCOUNT"],
                    f"{names['DISCOUNT']}: {name}",
                    1,
                    discount,
                    "DISCOUNT",
                    item.item_ref,
                )
            )
        amounts = [line.price_unit * line.quantity for line in lines]
        rate = None
        if tax:
            rate = rate_for_lines(
                amounts, tax, included, digits, self.preferred_rates
            ) or rate_for(
                sum(amounts, Decimal(0)), tax, included, digits, self.preferred_rates
            )
        missing = tax
        if rate is not None:
            for line in lines:
                line.tax_key = (rate, included, self.tax_kind)
            missing -= sum(
                (tax_of(a, rate, included, digits) for a in amounts), Decimal(0)
            )
        if missing and not included:
            # The tax comes on top of the amount: book what no rate could.
            lines.append(
                _PlannedLine(
                    self.charge_products["TAX"],
                    f"{names['TAX']}: {name}",
                    1,
                    missing,
                    "TAX",
                    item.item_ref,
                )
            )
        return lines
