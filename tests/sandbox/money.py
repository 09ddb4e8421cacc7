"""Exact money arithmetic in a currency's minor unit."""

from decimal import ROUND_HALF_UP, Decimal

ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "VND"})


def decimals(currency):
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def quantize(amount, currency):
    """Round half up to the currency's minor unit."""
    exponent = Decimal(1).scaleb(-decimals(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)


def format_amount(amount, currency):
    value = quantize(amount, currency)
    if value == 0:
        value = abs(value)
    return str(value)


def money(amount, currency):
    """A Money object as Amazon writes it: the amount is a decimal string."""
    return {"amount": format_amount(amount, currency), "currencyCode": currency}


def parse_money(value):
    return Decimal(value["amount"])
