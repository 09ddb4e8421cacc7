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


# Standard and reduced VAT/GST rates of Amazon marketplace countries, in
# percent: an amount Amazon rounded is read as one of these when it can be.
COMMON_RATES = {
    "DE": ("19", "7"),
    "FR": ("20", "10", "5.5", "2.1"),
    "IT": ("22", "10", "5", "4"),
    "ES": ("21", "10", "4"),
    "GB": ("20", "5"),
    "NL": ("21", "9"),
    "BE": ("21", "12", "6"),
    "IE": ("23", "13.5", "9", "4.8"),
    "SE": ("25", "12", "6"),
    "PL": ("23", "8", "5"),
    "TR": ("20", "10", "1"),
    "AE": ("5",),
    "SA": ("15",),
    "EG": ("14",),
    "IN": ("28", "18", "12", "5"),
    "JP": ("10", "8"),
    "AU": ("10",),
    "SG": ("9",),
    "MX": ("16", "8"),
    "CA": ("5", "13", "15"),
}


def rate_for(amount, tax, included, digits, preferred=()):
    """The percent rate that makes Odoo compute exactly ``tax``, or None.

    Amazon gives tax amounts, not rates, and rounds them, so several rates
    can give the same amount. Of the ``preferred`` rates (the country's VAT
    rates, the company's taxes) the one nearest the exact ratio wins; else
    the plainest: whole (19 %), one decimal (5.5 %), two, four (US sales
    tax), so that no rate like 18.99 % is made up when 19 % gives the tax.
    """
    base = amount - tax if included else amount
    if not base or (base > 0) != (tax > 0):
        return None
    exact = tax * Decimal(100) / base
    fitting = [
        rate
        for rate in (Decimal(str(r)) for r in preferred)
        if rate > 0 and tax_of(amount, rate, included, digits) == tax
    ]
    if fitting:
        return min(fitting, key=lambda rate: (abs(rate - exact), rate))
    for places in (0, 1, 2, 4):
        rate = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if rate > 0 and tax_of(amount, rate, included, digits) == tax:
            return rate
    return None
