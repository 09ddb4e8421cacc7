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


@pytest.mark.parametrize(
    "amounts, tax, included, preferred, rate",
    [
        # US: a promotion taken off before the tax; 8.875 % gives 1.48 on
        # the net 16.66, but Odoo's lines round to 1.77 - 0.30 = 1.47.
        (["19.99", "-3.33"], "1.48", False, (), None),
        (["20.00", "-5.00"], "1.09", False, ("7.25",), "7.25"),
        # VAT on a price including it, with the promotion on its own line.
        (["19.99", "-2.00"], "2.87", True, ("19", "7"), "19"),
        (["33.33", "-3.33", "0.01"], "2.48", False, (), None),
    ],
)
def test_rate_fits_the_lines_odoo_rounds(amounts, tax, included, preferred, rate):
    amounts = [Decimal(a) for a in amounts]
    tax = Decimal(tax)
    found = taxes.rate_for_lines(amounts, tax, included, 2, preferred)
    assert found is not None
    assert sum(taxes.tax_of(a, found, included, 2) for a in amounts) == tax
    if rate is not None:
        assert found == Decimal(rate)
    else:
        # Near the exact ratio: never a rate made up far from Amazon's.
        base = sum(amounts) - (tax if included else 0)
        assert abs(found - tax * 100 / base) < Decimal("0.2")


def test_no_rate_for_a_tax_on_nothing():
    assert (
        taxes.rate_for_lines([Decimal("5"), Decimal("-5")], Decimal("0.40"), False, 2)
        is None
    )


@pytest.mark.parametrize(
    "country, kind",
    [
        ("US", "sales"),
        ("de", "vat"),
        ("GB", "vat"),
        ("JP", "consumption"),
        ("AU", "gst"),
        ("CA", "gst"),
        ("", "vat"),
        (None, "vat"),
    ],
)
def test_tax_kind_of_marketplace_country(country, kind):
    assert taxes.tax_kind(country) == kind


def test_real_rate_wins_over_a_made_up_one_that_fits_the_lines():
    # 19 % gives Amazon's 2.66 on the net 16.66 (incl.); Odoo's separate
    # lines would give 3.19 - 0.53 = 2.66 only at another rate.
    amounts = [Decimal("19.99"), Decimal("-3.33")]
    assert taxes.rate_for_lines(amounts, Decimal("2.66"), True, 2, ("19", "7")) == 19
    assert taxes.rate_for_lines(
        [Decimal("19.99"), Decimal("-3.33")], Decimal("1.48"), False, 2, ("8.875",)
    ) == Decimal("8.875")
