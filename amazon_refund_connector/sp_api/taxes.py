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


# What a marketplace country calls the tax Amazon collects: the name of the
# tax group of the taxes the connector creates for it.
SALES_TAX_COUNTRIES = ("US",)
GST_COUNTRIES = ("AU", "CA", "IN", "NZ", "SG")
CONSUMPTION_TAX_COUNTRIES = ("JP",)


def tax_kind(country_code):
    """``sales``, ``gst``, ``consumption`` or ``vat`` for a country code."""
    code = (country_code or "").upper()
    if code in SALES_TAX_COUNTRIES:
        return "sales"
    if code in GST_COUNTRIES:
        return "gst"
    if code in CONSUMPTION_TAX_COUNTRIES:
        return "consumption"
    return "vat"


# How far (in steps of 0.0001 %) the search for a rate that Odoo's per-line
# rounding turns into Amazon's tax may stray from the exact ratio.
MAX_RATE_STEPS = 2000
RATE_STEP = Decimal("0.0001")


def rate_for(amount, tax, included, digits, preferred=()):
    """The percent rate that makes Odoo compute exactly ``tax`` on ``amount``."""
    return rate_for_lines([amount], tax, included, digits, preferred)


def rate_for_lines(amounts, tax, included, digits, preferred=()):
    """The percent rate whose per-line taxes on ``amounts`` add up to ``tax``.

    Amazon taxes a charge once, after its promotion; Odoo books the charge
    and the promotion as lines of their own and rounds the tax of each (its
    default "round per line" method). The rate must make both agree, or
    None is returned.

    Amazon gives tax amounts, not rates, and rounds them, so several rates
    can give the same amount. Of the ``preferred`` rates (the country's VAT
    rates, the company's taxes) the one nearest the exact ratio wins; else
    the plainest: whole (19 %), one decimal (5.5 %), two, four (US sales
    tax), so that no rate like 18.99 % is made up when 19 % gives the tax.
    A preferred rate that gives Amazon's tax on the total still wins over a
    plain one that fits the lines (a real VAT rate is never traded for a
    made-up one). Only when nothing fits is the nearest rate of four
    decimals that fits the lines taken (US sales tax, which has no list).
    """
    amount = sum(amounts, Decimal(0))
    base = amount - tax if included else amount
    if not base or (base > 0) != (tax > 0):
        return None
    exact = tax * Decimal(100) / base

    def fits(rate):
        return (
            rate > 0
            and sum((tax_of(a, rate, included, digits) for a in amounts), Decimal(0))
            == tax
        )

    preferred = [Decimal(str(r)) for r in preferred]
    for fit in (fits, lambda rate: tax_of(amount, rate, included, digits) == tax):
        # A real rate of the country wins even where Odoo's rounding of the
        # separate lines misses a cent: VAT is declared by its rates.
        fitting = [rate for rate in preferred if rate > 0 and fit(rate)]
        if fitting:
            return min(fitting, key=lambda rate: (abs(rate - exact), rate))
    for places in (0, 1, 2, 4):
        rate = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if fits(rate):
            return rate
    if len(amounts) == 1:
        return None
    start = exact.quantize(RATE_STEP, rounding=ROUND_HALF_UP)
    for step in range(1, MAX_RATE_STEPS + 1):
        for rate in (start + step * RATE_STEP, start - step * RATE_STEP):
            if fits(rate):
                return rate
    return None
