"""Tax arithmetic on Amazon's amounts, the way Odoo computes taxes.

Amazon gives tax amounts, not rates; Odoo books percentages. These helpers
find the percentage that makes Odoo compute exactly Amazon's amount.
"""

from decimal import ROUND_HALF_UP, Decimal


def tax_of(amount, rate, included, digits):
    """The tax Odoo computes on ``amount`` for a percent ``rate``.

    Rounded per line: on a price including the tax, the tax is the part of
    the amount it contains; otherwise ``amount`` is the base.
    """
    quantum = Decimal(1).scaleb(-digits)
    if included:
        value = amount * rate / (Decimal(100) + rate)
    else:
        value = amount * rate / Decimal(100)
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def rate_for(amount, tax, included, digits):
    """The percent rate that makes Odoo compute exactly ``tax``, or None.

    Amazon gives tax amounts, not rates: the rate is derived from the amount
    and checked, to two decimals first (VAT rates) then four (US sales tax).
    """
    base = amount - tax if included else amount
    if not base or (base > 0) != (tax > 0):
        return None
    exact = tax * Decimal(100) / base
    for places in (2, 4):
        rate = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if rate > 0 and tax_of(amount, rate, included, digits) == tax:
            return rate
    return None
