"""Deriving Odoo tax rates from the amounts Amazon charged."""

from decimal import Decimal

import pytest
from layer import load

load()
from amazon_refund_connector.sp_api import taxes  # noqa: E402


@pytest.mark.parametrize(
    "amount, tax, included, digits, rate",
    [
        (Decimal("23.80"), Decimal("3.80"), True, 2, Decimal("19.00")),
        (Decimal("119.00"), Decimal("19.00"), True, 2, Decimal("19.00")),
        (Decimal("10.70"), Decimal("0.70"), True, 2, Decimal("7.00")),
        (Decimal("20.00"), Decimal("1.45"), False, 2, Decimal("7.25")),
        (Decimal("-5.00"), Decimal("-0.80"), True, 2, Decimal("19")),
        # Amazon rounded the tax: 19 % gives it, 18.99 % must not be made up.
        (Decimal("19.99"), Decimal("3.19"), True, 2, Decimal("19")),
        (Decimal("1100"), Decimal("100"), True, 0, Decimal("10.00")),
        (Decimal("37.99"), Decimal("3.12"), False, 2, Decimal("8.2")),
        (Decimal("1000.00"), Decimal("72.53"), False, 2, Decimal("7.2530")),
    ],
)
def test_rate_reproduces_amazons_tax(amount, tax, included, digits, rate):
    found = taxes.rate_for(amount, tax, included, digits)
    assert found is not None
    assert taxes.tax_of(amount, found, included, digits) == tax
    assert found == rate


def test_country_rates_are_preferred_when_the_amount_is_ambiguous():
    amount, tax = Decimal("5.49"), Decimal("0.29")
    # Both 5.5 % and 5.6 % give 0.29: the French reduced rate wins.
    assert taxes.rate_for(amount, tax, True, 2) == Decimal("5.6")
    french = taxes.COMMON_RATES["FR"]
    assert taxes.rate_for(amount, tax, True, 2, french) == Decimal("5.5")
    # A preferred rate that does not give the amount is not forced.
    assert taxes.rate_for(Decimal("23.80"), Decimal("3.80"), True, 2, french) == 19


@pytest.mark.parametrize(
    "amount, tax, included",
    [
        (Decimal("0.00"), Decimal("0.50"), False),  # tax on nothing
        (Decimal("10.00"), Decimal("-1.00"), False),  # signs disagree
        (Decimal("0.50"), Decimal("0.50"), True),  # all of it tax
    ],
)
def test_no_rate_when_a_rate_cannot_express_it(amount, tax, included):
    assert taxes.rate_for(amount, tax, included, 2) is None
