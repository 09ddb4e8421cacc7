"""The order parser of the SP-API layer, on Amazon's Order shapes."""

import copy
from decimal import Decimal

import pytest
from layer import load
from sandbox import generate_orders

load()
from amazon_refund_connector.sp_api import orders as parser  # noqa: E402

EUR = "EUR"


def money(amount, currency=EUR):
    return {"amount": amount, "currencyCode": currency}


def order(items, status="SHIPPED", fulfilled_by="MERCHANT", **extra):
    data = {
        "orderId": "302-0000000-0000001",
        "createdTime": "2026-10-01T10:00:00Z",
        "lastUpdatedTime": "2026-10-02T11:30:00+02:00",
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "A1PA6795UKMFR9"},
        "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": fulfilled_by},
        "orderItems": items,
    }
    data.update(extra)
    return data


def item(breakdowns, total=None, qty=1, shipped=1, ref="11111111111111"):
    data = {
        "orderItemId": ref,
        "quantityOrdered": qty,
        "product": {"sellerSku": "SKU-1", "title": "Mug", "asin": "B000000001"},
        "proceeds": {"breakdowns": breakdowns},
        "fulfillment": {"quantityFulfilled": shipped},
    }
    if total is not None:
        data["proceeds"]["proceedsTotal"] = money(total)
    return data


def breakdown(kind, amount, details=None):
    data = {"type": kind, "subtotal": money(amount)}
    if details:
        data["detailedBreakdowns"] = [
            {"subtype": sub, "value": money(value)} for sub, value in details
        ]
    return data


def test_vat_inclusive_item_detected_from_total():
    raw = order(
        [
            item(
                [
                    breakdown("ITEM", "23.80"),
                    breakdown("SHIPPING", "4.76"),
                    breakdown("TAX", "4.56", [("ITEM", "3.80"), ("SHIPPING", "0.76")]),
                ],
                total="28.56",
            ),
        ]
    )
    parsed = parser.parse_order(raw)
    line = parsed.items[0]
    assert line.tax_included is True
    assert line.charge("ITEM").amount == Decimal("23.80")
    assert line.charge("ITEM").tax == Decimal("3.80")
    assert line.charge("SHIPPING").tax == Decimal("0.76")
    assert parsed.grand_total == Decimal("28.56")
    assert parsed.last_update.isoformat() == "2026-10-02T09:30:00"
    assert parsed.channel == parser.FBM


def test_tax_exclusive_item_detected_from_total():
    raw = order(
        [item([breakdown("ITEM", "20.00"), breakdown("TAX", "1.45")], total="21.45")]
    )
    line = parser.parse_order(raw, tax_included_default=True).items[0]
    assert line.tax_included is False
    assert line.charge("ITEM").tax == Decimal("1.45")


def test_without_total_the_marketplace_decides():
    raw = order([item([breakdown("ITEM", "20.00"), breakdown("TAX", "3.19")])])
    assert parser.parse_order(raw, tax_included_default=True).items[0].total == Decimal(
        "20.00"
    )
    assert parser.parse_order(raw, tax_included_default=False).items[0].total == (
        Decimal("23.19")
    )


def test_promotion_and_gift_wrap_are_charges():
    raw = order(
        [
            item(
                [
                    breakdown("ITEM", "30.00"),
                    breakdown("GIFT_WRAP", "3.00"),
                    breakdown("DISCOUNT", "-5.00"),
                    breakdown(
                        "TAX",
                        "4.47",
                        [
                            ("ITEM", "4.79"),
                            ("GIFT_WRAP", "0.48"),
                            ("DISCOUNT", "-0.80"),
                        ],
                    ),
                ],
                total="28.00",
            ),
        ]
    )
    line = parser.parse_order(raw).items[0]
    assert [c.kind for c in line.charges] == ["ITEM", "GIFT_WRAP", "DISCOUNT"]
    assert line.charge("DISCOUNT").amount == Decimal("-5.00")
    assert line.charge("DISCOUNT").tax == Decimal("-0.80")
    assert line.tax_included is True


def test_tax_details_that_do_not_add_up_stay_on_the_item():
    raw = order(
        [
            item(
                [
                    breakdown("ITEM", "10.00"),
                    breakdown("TAX", "1.00", [("SHIPPING", "0.30")]),
                ],
                total="11.00",
            )
        ]
    )
    line = parser.parse_order(raw).items[0]
    assert line.charge("ITEM").tax == Decimal("0.70")
    assert line.charge("SHIPPING").tax == Decimal("0.30")
    assert line.charge("SHIPPING").amount == Decimal(0)


def test_promotion_reduces_the_charge_it_names():
    raw = order(
        [
            item(
                [
                    breakdown("ITEM", "10.99"),
                    breakdown("SHIPPING", "3.00"),
                    {
                        "type": "DISCOUNT",
                        "subtotal": money("-2.65"),
                        "detailedBreakdowns": [
                            {"subtype": "ITEM", "value": money("-1.65")},
                            {"subtype": "SHIPPING", "value": money("-1.00")},
                        ],
                    },
                    breakdown("TAX", "1.81", [("ITEM", "1.49"), ("SHIPPING", "0.32")]),
                ],
                total="11.34",
            ),
        ]
    )
    line = parser.parse_order(raw).items[0]
    assert [c.kind for c in line.charges] == ["ITEM", "SHIPPING"]
    assert line.charge("ITEM").discount == Decimal("-1.65")
    assert line.charge("SHIPPING").discount == Decimal("-1.00")
    # Amazon's tax is on the discounted amounts: 19 % of 9.34 and of 2.00.
    assert line.charge("ITEM").tax == Decimal("1.49")
    assert line.tax_included is True


def test_delivery_tip_is_an_order_charge():
    raw = order(
        [item([breakdown("ITEM", "10.00")], total="10.00")],
        proceeds={
            "grandTotal": money("12.00"),
            "breakdowns": [
                {
                    "type": "DELIVERY_TIP",
                    "status": "FINALIZED",
                    "subtotal": money("2.00"),
                }
            ],
        },
    )
    parsed = parser.parse_order(raw)
    assert parsed.delivery_tip == Decimal("2.00")
    assert parsed.grand_total == Decimal("12.00")


def test_unit_price_when_proceeds_are_missing():
    data = item([], qty=3, shipped=0)
    data["product"]["price"] = {"unitPrice": money("4.99")}
    line = parser.parse_order(order([data], status="UNSHIPPED")).items[0]
    assert line.charge("ITEM").amount == Decimal("14.97")


def test_fba_statuses_imported():
    for status, importable in [
        ("SHIPPED", True),
        ("CANCELLED", True),
        ("UNSHIPPED", False),
        ("PENDING", False),
    ]:
        raw = order(
            [item([breakdown("ITEM", "1.00")])], status=status, fulfilled_by="AMAZON"
        )
        assert parser.parse_order(raw).importable is importable


@pytest.mark.parametrize(
    "mutate, text",
    [
        (lambda o: o.pop("orderItems"), "no orderItems"),
        (
            lambda o: o["orderItems"][0].update(quantityOrdered="2"),
            "not a whole number",
        ),
        (lambda o: o["orderItems"][0].update(quantityOrdered=-1), "not a whole number"),
        (
            lambda o: o["orderItems"][0]["fulfillment"].update(quantityFulfilled=5),
            "5 units fulfilled of 1 ordered",
        ),
        (
            lambda o: o["orderItems"][0]["proceeds"]["breakdowns"][0][
                "subtotal"
            ].update(amount="1O.00"),
            "is not a number",
        ),
        (
            lambda o: o["orderItems"][0]["proceeds"]["breakdowns"][0][
                "subtotal"
            ].update(amount="NaN"),
            "is not a number",
        ),
        (
            lambda o: o["orderItems"][0]["proceeds"]["breakdowns"][0][
                "subtotal"
            ].update(currencyCode="GBP"),
            "is in GBP while the order is in EUR",
        ),
        (
            lambda o: o["orderItems"][0]["proceeds"].update(
                proceedsTotal=money("99.00")
            ),
            "do not add up",
        ),
        (lambda o: o.update(lastUpdatedTime="yesterday"), "not an ISO 8601 date"),
        (lambda o: o["salesChannel"].pop("marketplaceId"), "marketplaceId is missing"),
        (lambda o: o["fulfillment"].update(fulfilledBy="SOMEONE"), "neither AMAZON"),
        (lambda o: o["fulfillment"].pop("fulfillmentStatus"), "fulfillmentStatus"),
        (
            lambda o: o["orderItems"].append(copy.deepcopy(o["orderItems"][0])),
            "share one orderItemId",
        ),
        (
            lambda o: o.update(recipient={"deliveryAddress": "Main street 1"}),
            "not an object",
        ),
        (lambda o: o.pop("orderId"), "no orderId"),
    ],
)
def test_malformed_orders_are_refused_with_a_reason(mutate, text):
    raw = order([item([breakdown("ITEM", "10.00")], total="10.00")])
    mutate(raw)
    with pytest.raises(parser.MalformedOrder) as caught:
        parser.parse_order(raw)
    assert text in str(caught.value)
    if raw.get("orderId"):
        assert raw["orderId"] in str(caught.value)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_generated_order_parses_and_adds_up(seed):
    """Amazon-shaped orders of every marketplace parse, totals to the cent."""
    for raw in generate_orders(
        seed, 150, marketplaces=["US", "CA", "DE", "FR", "UK", "IT", "ES", "JP", "AU"]
    ):
        parsed = parser.parse_order(raw)
        items_total = sum((i.total for i in parsed.items), parsed.delivery_tip)
        assert items_total == parsed.grand_total, raw["orderId"]
        for line in parsed.items:
            charges = sum(c.amount + c.discount for c in line.charges)
            taxes = sum(c.tax for c in line.charges)
            assert line.total == (charges if line.tax_included else charges + taxes)


def test_cancelled_order_without_amounts_parses_without_currency():
    data = item([], qty=1, shipped=0)
    del data["proceeds"]
    data["cancellation"] = {"cancellationRequest": {"requester": "BUYER"}}
    parsed = parser.parse_order(order([data], status="CANCELLED"))
    assert parsed.currency is None
    assert parsed.is_cancelled
    # Cancelled demand still counts: the item stays, at no price.
    [charge] = parsed.items[0].charges
    assert (charge.kind, charge.amount, charge.tax) == ("ITEM", 0, 0)
    assert parsed.items[0].quantity == 1


def test_cancelled_item_keeps_amazons_unit_price():
    data = item([], qty=3, shipped=0)
    del data["proceeds"]
    data["product"]["price"] = {"unitPrice": money("12.50")}
    parsed = parser.parse_order(order([data], status="CANCELLED"))
    assert parsed.currency == EUR
    [charge] = parsed.items[0].charges
    assert (charge.kind, charge.amount) == ("ITEM", Decimal("37.50"))
    assert parsed.items[0].quantity == 3
    assert parsed.grand_total == Decimal("37.50")


def test_unshipped_item_without_price_or_proceeds_is_malformed():
    data = item([], qty=1, shipped=0)
    del data["proceeds"]
    data["product"]["price"] = {"unitPrice": money("1.00")}
    priced = order([data], status="UNSHIPPED")
    bare = copy.deepcopy(priced)
    del bare["orderItems"][0]["product"]["price"]
    bare["proceeds"] = {"grandTotal": money("1.00")}
    with pytest.raises(parser.MalformedOrder, match="neither proceeds nor a unit"):
        parser.parse_order(bare)


def test_shipped_item_without_fulfilled_quantity_shipped_it_all():
    data = item([breakdown("ITEM", "9.00")], qty=3, total="9.00")
    del data["fulfillment"]
    parsed = parser.parse_order(order([data], fulfilled_by="AMAZON"))
    assert parsed.items[0].quantity_shipped == 3
    unshipped = parser.parse_order(order([data], status="UNSHIPPED"))
    assert unshipped.items[0].quantity_shipped == 0


# -- buyer and address text beyond what any address holds --------------------


def _with_buyer_and_address(buyer, address):
    return order(
        [item([breakdown("ITEM", "10.00")], total="10.00")],
        buyer=buyer,
        recipient={"deliveryAddress": address},
    )


def test_overlong_fields_are_cut_and_reported():
    parsed = parser.parse_order(
        _with_buyer_and_address(
            {"buyerName": "A" * 5000, "buyerEmail": "x" * 300 + "@example.com"},
            {
                "name": "Ann Example",
                "addressLine1": "Street " * 100,
                "city": "C" * 70,
                "postalCode": "1" * 40,
                "countryCode": "DE",
            },
        )
    )
    assert len(parsed.buyer_name) == parser.TEXT_LIMITS["buyerName"]
    assert len(parsed.buyer_email) == parser.TEXT_LIMITS["buyerEmail"]
    assert len(parsed.address["addressLine1"]) <= parser.TEXT_LIMITS["addressLine1"]
    assert parsed.address["addressLine1"].startswith("Street Street")
    assert len(parsed.address["city"]) == 64
    assert len(parsed.address["postalCode"]) == 20
    assert parsed.address["name"] == "Ann Example"
    cut = {i.field: i for i in parsed.text_issues if i.problem == "too_long"}
    assert set(cut) == {
        "buyer.buyerName",
        "buyer.buyerEmail",
        "deliveryAddress.addressLine1",
        "deliveryAddress.city",
        "deliveryAddress.postalCode",
    }
    assert cut["buyer.buyerName"].length == 5000
    assert cut["buyer.buyerName"].limit == 128


@pytest.mark.parametrize(
    "raw, kept",
    [
        ("Ann\x00 Example", "Ann Example"),
        ("Ann\tExample\r\n", "Ann Example"),
        ("Ann \x1b[31mExample", "Ann [31mExample"),
        ("Ann \u202eelpmaxE", "Ann elpmaxE"),
        ("Ann\ud800 Example", "Ann Example"),
        ("\u200fAnn\x7f Example\ufeff", "Ann Example"),
    ],
)
def test_control_characters_are_removed_and_reported(raw, kept):
    parsed = parser.parse_order(
        _with_buyer_and_address(
            {"buyerName": raw}, {"name": raw, "city": raw, "countryCode": "DE"}
        )
    )
    assert parsed.buyer_name == kept
    assert parsed.address["name"] == kept
    assert parsed.address["city"] == kept
    assert {(i.field, i.problem) for i in parsed.text_issues} == {
        ("buyer.buyerName", "control"),
        ("deliveryAddress.name", "control"),
        ("deliveryAddress.city", "control"),
    }


def test_clean_text_in_every_script_is_kept_as_is():
    names = ["Zoë Müller", "山田 太郎", "José da Silva", "محمد", "क्षत्रिय", "👩‍👩‍👧"]
    parsed = parser.parse_order(
        _with_buyer_and_address(
            {"buyerName": names[0]},
            {"name": " ".join(names), "countryCode": "JP", "phone": "+81 3-1234-5678"},
        )
    )
    assert parsed.buyer_name == names[0]
    assert parsed.address["name"] == " ".join(names)
    assert parsed.address["phone"] == "+81 3-1234-5678"
    assert parsed.text_issues == []


def test_fields_that_are_not_text_are_left_out():
    parsed = parser.parse_order(
        _with_buyer_and_address(
            {"buyerName": {"first": "Ann"}},
            {"name": "Ann", "postalCode": 10115, "countryCode": "Deutschland"},
        )
    )
    assert parsed.buyer_name == ""
    assert parsed.address["postalCode"] == "10115"
    assert "countryCode" not in parsed.address
    assert {(i.field, i.problem) for i in parsed.text_issues} == {
        ("buyer.buyerName", "invalid"),
        ("deliveryAddress.countryCode", "invalid"),
    }
