"""The connector's reading of Amazon's order history reports
(sp_api/order_reports.py): rows into Orders API Order dicts, statuses,
charsets, and what a bad row does."""

import io
from decimal import Decimal

import pytest
from layer import load

load()
from amazon_refund_connector.sp_api import order_reports, reports  # noqa: E402
from amazon_refund_connector.sp_api.orders import parse_order  # noqa: E402

DE = "A1PA6795UKMFR9"
JP = "A1VC38T7YXB528"
HEADER = (
    "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\t"
    "order-status\tfulfillment-channel\tsales-channel\torder-channel\turl\t"
    "ship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\t"
    "item-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\t"
    "gift-wrap-tax\titem-promotion-discount\tship-promotion-discount\tship-city\t"
    "ship-state\tship-postal-code\tship-country\tpromotion-ids\tis-business-order\t"
    "purchase-order-number\tprice-designation"
)
COLUMNS = HEADER.split("\t")


def row(**cells):
    base = {
        "amazon-order-id": "302-1111111-1111111",
        "purchase-date": "2026-10-01T10:00:00+00:00",
        "last-updated-date": "2026-10-03T08:00:00+00:00",
        "order-status": "Shipped",
        "fulfillment-channel": "Amazon",
        "sales-channel": "Amazon.de",
        "product-name": "Teekanne",
        "sku": "TEA-1",
        "asin": "B000000001",
        "item-status": "Shipped",
        "quantity": "2",
        "currency": "EUR",
        "item-price": "39.98",
        "item-tax": "6.38",
        "ship-city": "München",
        "ship-postal-code": "80331",
        "ship-country": "DE",
    }
    base.update(cells)
    return "\t".join(base.get(c, "") for c in COLUMNS)


def read(lines):
    reader = order_reports.OrderReportReader(iter(lines))
    return list(reader.rows())


def order_of(*lines, marketplace=DE, currency="EUR"):
    rows = read([HEADER, *lines])
    return order_reports.order_from_rows(rows, marketplace, currency)


def test_a_shipped_order_reads_as_the_orders_api_would_give_it():
    raw = order_of(
        row(**{"shipping-price": "4.99", "shipping-tax": "0.80"}),
        row(
            sku="MUG-2",
            asin="B000000002",
            quantity="1",
            **{
                "item-price": "12.00",
                "item-tax": "1.76",
                "item-promotion-discount": "-1.00",
                "promotion-ids": "PROMO-A, PROMO-B",
            },
        ),
    )
    order = parse_order(raw, tax_included_default=True)
    assert order.order_ref == "302-1111111-1111111"
    assert order.status == "SHIPPED"
    assert order.channel == "FBA"
    assert order.buyer_name == "" and order.buyer_email == ""
    assert order.address == {
        "city": "München",
        "postalCode": "80331",
        "countryCode": "DE",
    }
    first, second = order.items
    assert (first.sku, first.quantity, first.quantity_shipped) == ("TEA-1", 2, 2)
    assert first.charge("ITEM").amount == Decimal("39.98")
    assert first.charge("ITEM").tax == Decimal("6.38")
    assert first.charge("SHIPPING").amount == Decimal("4.99")
    assert first.charge("SHIPPING").tax == Decimal("0.80")
    assert second.charge("ITEM").discount == Decimal("-1.00")
    assert second.promotion_ids == ["PROMO-A", "PROMO-B"]
    # VAT marketplace: the prices hold the tax.
    assert order.grand_total == Decimal("39.98") + Decimal("4.99") + Decimal("11.00")
    assert first.item_ref != second.item_ref
    assert order_reports.is_history_item(first.item_ref)


def test_a_promotion_without_its_sign_still_lowers_the_charge():
    raw = order_of(row(**{"item-promotion-discount": "2.50"}))
    item = parse_order(raw, tax_included_default=True).items[0]
    assert item.charge("ITEM").discount == Decimal("-2.50")


def test_tax_is_added_where_prices_exclude_it():
    raw = order_of(
        row(currency="USD", **{"item-price": "20.00", "item-tax": "1.60"}),
        currency="USD",
    )
    order = parse_order(raw, tax_included_default=False)
    assert order.grand_total == Decimal("21.60")


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Shipped", "SHIPPED"),
        ("Shipped - Delivered to Buyer", "SHIPPED"),
        ("Shipped - Returned to Seller", "SHIPPED"),
        ("Cancelled", "CANCELLED"),
        ("Canceled", "CANCELLED"),
        ("Pending", "PENDING"),
        ("Pending - Waiting for Pick Up", "PENDING"),
        ("Unshipped", "UNSHIPPED"),
        ("PartiallyShipped", "PARTIALLY_SHIPPED"),
        ("Shipping", "PARTIALLY_SHIPPED"),
    ],
)
def test_amazon_status_texts(text, status):
    assert order_reports.fulfillment_status(text) == status


def test_an_unknown_status_is_refused_with_its_text():
    with pytest.raises(reports.MalformedReport, match="Lost in space"):
        order_of(row(**{"order-status": "Lost in space"}))


def test_a_merchant_order_and_a_multi_channel_one():
    raw = order_of(
        row(
            **{
                "fulfillment-channel": "Merchant",
                "order-status": "Unshipped",
                "item-status": "Unshipped",
            }
        )
    )
    assert raw["fulfillment"] == {
        "fulfillmentStatus": "UNSHIPPED",
        "fulfilledBy": "MERCHANT",
    }
    assert raw["orderItems"][0]["fulfillment"]["quantityFulfilled"] == 0
    raw = order_of(row(**{"sales-channel": "Non-Amazon"}))
    assert raw["salesChannel"]["channelName"] == "NON_AMAZON"


def test_a_cancelled_order_without_amounts_keeps_its_items_at_zero():
    raw = order_of(
        row(
            **{
                "order-status": "Cancelled",
                "item-status": "Cancelled",
                "item-price": "",
                "item-tax": "",
                "currency": "",
            }
        )
    )
    order = parse_order(raw, tax_included_default=True)
    assert order.is_cancelled
    assert order.items[0].charge("ITEM").amount == 0
    assert order.items[0].quantity_shipped == 0


def test_german_decimals_are_read():
    raw = order_of(row(**{"item-price": "39,98", "item-tax": "6,38"}))
    item = parse_order(raw, tax_included_default=True).items[0]
    assert item.charge("ITEM").amount == Decimal("39.98")


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ({"quantity": "two"}, "quantity"),
        ({"quantity": "-1"}, "negative"),
        ({"item-price": "12.x"}, "item-price"),
        ({"purchase-date": "yesterday"}, "purchase-date"),
        ({"fulfillment-channel": "Drone"}, "fulfillment-channel"),
    ],
)
def test_a_bad_row_says_what_is_wrong(cells, problem):
    with pytest.raises(reports.MalformedReport, match=problem):
        order_of(row(**cells))


def test_a_report_without_the_order_columns_is_refused():
    with pytest.raises(reports.MalformedReport, match="amazon-order-id"):
        order_reports.OrderReportReader(iter(["settlement-id\tamount", "1\t2"]))


def test_an_empty_document_has_no_rows():
    assert read([]) == []
    assert read([HEADER]) == []


def test_rows_can_be_skipped_to_resume_and_short_rows_are_padded():
    lines = [HEADER, row(), row(sku="B"), "302-2\t\t2026-10-01T10:00:00Z"]
    reader = order_reports.OrderReportReader(iter(lines))
    rows = list(reader.rows(start=1))
    assert [r.number for r in rows] == [2, 3]
    assert rows[-1].get("sku") == ""


def test_charsets_by_marketplace():
    text = "\n".join([HEADER, row(**{"ship-city": "東京都"})]) + "\n"
    document = io.BytesIO(text.encode("cp932"))
    lines = reports.text_lines(document, None, order_reports.legacy_charset(JP))
    raw = order_of(*list(lines)[1:], marketplace=JP, currency="JPY")
    assert raw["recipient"]["deliveryAddress"]["city"] == "東京都"
    text = "\n".join([HEADER, row(**{"ship-city": "Köln"})]) + "\n"
    document = io.BytesIO(text.encode("cp1252"))
    lines = reports.text_lines(document, None, order_reports.legacy_charset(DE))
    raw = order_of(*list(lines)[1:])
    assert raw["recipient"]["deliveryAddress"]["city"] == "Köln"


def test_yen_amounts_have_no_decimals():
    raw = order_of(
        row(currency="JPY", **{"item-price": "1980", "item-tax": "180"}),
        marketplace=JP,
        currency="JPY",
    )
    order = parse_order(raw, tax_included_default=True)
    assert order.items[0].charge("ITEM").amount == Decimal("1980")


def test_a_window_longer_than_amazon_allows_is_refused_before_any_call():
    from datetime import datetime, timedelta

    start = datetime(2026, 1, 1)

    class NoCalls:
        def call(self, *args, **kwargs):
            raise AssertionError("no call expected")

    with pytest.raises(order_reports.AmazonInvalidInput, match="30 days"):
        order_reports.create_report(
            NoCalls(),
            order_reports.ORDERS_BY_LAST_UPDATE,
            DE,
            start,
            start + timedelta(days=31),
        )
    with pytest.raises(order_reports.AmazonInvalidInput):
        order_reports.create_report(NoCalls(), "GET_V2_SETTLEMENT", DE, start, start)


def test_poll_delays_back_off_to_five_minutes():
    assert [order_reports.poll_delay(n) for n in range(6)] == [
        30,
        60,
        120,
        240,
        300,
        300,
    ]


def test_amazon_charset_names_python_does_not_know():
    assert reports.charset_of("text/plain; charset=windows-31j") == "cp932"
    assert reports.charset_of("text/plain;charset=Cp1252") == "cp1252"
    assert reports.charset_of("text/plain") is None
