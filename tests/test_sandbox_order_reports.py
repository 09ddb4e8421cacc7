"""Order history reports of the sandbox (Reports 2021-06-30 createReport,
getReport, getReportDocument and the download), through python-amazon-sp-api
and plain HTTP: the report's life over sandbox time, its flat file against
searchOrders to the cent, its charsets and compression, quotas and errors."""

import gzip
import io
import itertools
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest
from layer import load
from sandbox.marketplaces import CODE_TO_ID
from sandbox.timeutil import ManualClock, format_time
from sp_api.api import OrdersV20260101, Reports
from sp_api.base import SellingApiNotFoundException, SellingApiRequestThrottledException
from test_sandbox_schema import Model, assert_valid, raw_body

load()
from amazon_refund_connector.sp_api import reports as layer_reports  # noqa: E402

START = datetime(2026, 10, 5, 12, 0, tzinfo=timezone.utc)
DE, FR, UK, US, JP = (CODE_TO_ID[code] for code in ("DE", "FR", "UK", "US", "JP"))
BR = CODE_TO_ID["BR"]  # not one of the fixture seller's marketplaces
BY_ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
BY_LAST_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
PATH = "/reports/2021-06-30/reports"
REPORT_PATH = "/reports/2021-06-30/reports/{reportId}"
DOCUMENT_PATH = "/reports/2021-06-30/documents/{reportDocumentId}"
COLUMNS = (
    "amazon-order-id merchant-order-id purchase-date last-updated-date "
    "order-status fulfillment-channel sales-channel order-channel url "
    "ship-service-level product-name sku asin item-status quantity currency "
    "item-price item-tax shipping-price shipping-tax gift-wrap-price "
    "gift-wrap-tax item-promotion-discount ship-promotion-discount ship-city "
    "ship-state ship-postal-code ship-country promotion-ids is-business-order "
    "purchase-order-number price-designation"
).split()
PRICES = (
    "item-price",
    "shipping-price",
    "gift-wrap-price",
    "item-promotion-discount",
    "ship-promotion-discount",
)
TAXES = ("item-tax", "shipping-tax", "gift-wrap-tax")
SALES_CHANNELS = {
    DE: "Amazon.de",
    FR: "Amazon.fr",
    UK: "Amazon.co.uk",
    US: "Amazon.com",
    JP: "Amazon.co.jp",
}
TAX_INCLUDED = {DE: True, FR: True, UK: True, US: False, JP: False}
ORDER_STATUSES = {
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "Shipping",
    "Cancelled",
}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")


@pytest.fixture
def clock(sandbox):
    """The sandbox's clock stands at START and moves only when told."""
    sandbox.clock = ManualClock(START)
    return sandbox.clock


@pytest.fixture
def history(sandbox, clock):
    """300 orders of DE, FR, UK, US and JP placed over four weeks."""
    return sandbox.seed_orders(
        11,
        300,
        start=START - timedelta(days=28),
        end=START - timedelta(hours=2),
        marketplaces=[DE, FR, UK, US, JP],
    )


@pytest.fixture
def api(sp_client, clock):
    return sp_client(Reports)


@pytest.fixture
def model():
    return Model("reports_2021-06-30.json")


@pytest.fixture
def token(sandbox, seller, clock):
    answer = httpx.post(
        f"{sandbox.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": seller["client_id"],
            "client_secret": seller["client_secret"],
            "refresh_token": seller["refresh_token"],
        },
    )
    return answer.json()["access_token"]


def create(api, marketplaces, start, end=None, report_type=BY_ORDER_DATE):
    body = {
        "reportType": report_type,
        "marketplaceIds": list(marketplaces),
        "dataStartTime": format_time(start),
    }
    if end is not None:
        body["dataEndTime"] = format_time(end)
    response = api.create_report(**body)
    return response.payload["reportId"]


def finished(sandbox, api, report_id):
    """The report once its queue and processing time (30 + 60 s) are over."""
    sandbox.advance(90)
    return api.get_report(report_id).payload


def fetch(api, report):
    """(bytes as sent, Content-Type, getReportDocument payload)."""
    document = api.get_report_document(report["reportDocumentId"]).payload
    response = httpx.get(document["url"])  # the presigned URL takes no token
    assert response.status_code == 200
    return response.content, response.headers["content-type"], document


def charset(content_type):
    found = re.search(r"charset=([\w.:-]+)", content_type)
    return found.group(1) if found else None


def parse(text):
    lines = text.split("\n")
    assert lines[-1] == "", "the document ends with a line end"
    header = lines[0].split("\t")
    return header, [
        dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:-1]
    ]


def document_rows(api, report, encoding="utf-8"):
    data, _type, _document = fetch(api, report)
    header, rows = parse(data.decode(encoding))
    assert header == COLUMNS
    return rows


def amount(cell):
    return Decimal(cell) if cell else Decimal(0)


def by_order(rows):
    found = {}
    for row in rows:
        found.setdefault(row["amazon-order-id"], []).append(row)
    return found


def searched(sp_client, search_all, marketplaces, **window):
    client = sp_client(OrdersV20260101)
    orders, _ = search_all(
        client,
        marketplaceIds=",".join(marketplaces),
        includedData="PROCEEDS,RECIPIENT,BUYER,FULFILLMENT",
        **window,
    )
    return orders


# the report's life ------------------------------------------------------------


def test_queue_progress_done_over_sandbox_time(sandbox, api, history, model):
    response = api.create_report(
        reportType=BY_ORDER_DATE,
        marketplaceIds=[DE, FR],
        dataStartTime=format_time(START - timedelta(days=29)),
        dataEndTime=format_time(START),
    )
    assert_valid(model.response(PATH, 202, "post"), raw_body(response))
    report_id = response.payload["reportId"]
    assert re.match(r"^\d{11}$", report_id)
    states = []
    for step in (0, 29, 1, 59, 1, 600):
        sandbox.advance(step)
        answer = api.get_report(report_id)
        assert_valid(model.response(REPORT_PATH, 200), raw_body(answer))
        states.append(answer.payload)
    assert [s["processingStatus"] for s in states] == [
        "IN_QUEUE",
        "IN_QUEUE",
        "IN_PROGRESS",
        "IN_PROGRESS",
        "DONE",
        "DONE",
    ]
    created = format_time(START)
    assert {s["createdTime"] for s in states} == {created}
    assert "processingStartTime" not in states[1]
    assert "reportDocumentId" not in states[3] and "processingEndTime" not in states[3]
    assert states[2]["processingStartTime"] == format_time(
        START + timedelta(seconds=30)
    )
    done = states[4]
    assert done["processingEndTime"] == format_time(START + timedelta(seconds=90))
    assert done["reportType"] == BY_ORDER_DATE
    assert done["marketplaceIds"] == [DE, FR]
    assert done["dataStartTime"] == format_time(START - timedelta(days=29))
    assert done["dataEndTime"] == created
    assert done["reportDocumentId"] == states[5]["reportDocumentId"]
    document = api.get_report_document(done["reportDocumentId"])
    assert_valid(model.response(DOCUMENT_PATH, 200), raw_body(document))
    assert "compressionAlgorithm" not in document.payload
    # getReports lists it by its type, with the settlements left alone.
    # sp_api asks for its own marketplace (US) unless told otherwise.
    listed = api.get_reports(reportTypes=BY_ORDER_DATE, marketplaceIds=f"{DE},{FR}")
    assert_valid(model.response(PATH, 200), raw_body(listed))
    assert [r["reportId"] for r in listed.payload["reports"]] == [report_id]
    assert listed.payload["reports"][0] == done
    settlements = api.get_reports(
        reportTypes=SETTLEMENT, marketplaceIds=f"{DE},{FR}"
    ).payload["reports"]
    assert settlements
    assert report_id not in {r["reportId"] for r in settlements}
    summary = sandbox.order_reports()
    assert [s["reportId"] for s in summary] == [report_id]
    assert summary[0]["processingStatus"] == "DONE"
    assert summary[0]["rows"] >= len(summary[0]["orderIds"]) > 0


def test_phase_times_are_options_read_at_creation(sandbox, api, history):
    sandbox.configure_order_reports(queue_seconds=5, processing_seconds=10)
    quick = create(api, [UK], START - timedelta(days=3))
    sandbox.configure_order_reports(queue_seconds=0, processing_seconds=0)
    at_once = create(api, [UK], START - timedelta(days=3))
    assert api.get_report(at_once).payload["processingStatus"] == "DONE"
    assert api.get_report(quick).payload["processingStatus"] == "IN_QUEUE"
    sandbox.advance(5)
    assert api.get_report(quick).payload["processingStatus"] == "IN_PROGRESS"
    sandbox.advance(10)
    assert api.get_report(quick).payload["processingStatus"] == "DONE"


@pytest.mark.parametrize(
    "method, path, operation",
    [("post", PATH, "createReport"), ("get", REPORT_PATH, "getReport")],
)
def test_usage_plans_follow_the_model(sandbox, model, method, path, operation):
    op = model.operation(path, method)
    assert op["operationId"] == operation
    route = next(r for r in sandbox.router if r.operation == operation)
    assert (route.method, route.pattern) == (method.upper(), path)
    plan = op["x-usage-plan"]
    assert (route.rate, route.burst) == (plan["rate"], plan["burst"])


def test_unknown_report_answers_404(api, clock):
    with pytest.raises(SellingApiNotFoundException) as caught:
        api.get_report("12345678901")
    assert caught.value.error[0]["code"] == "NotFound"


def test_get_report_finds_settlement_reports_too(sandbox, api, history):
    settlements = api.get_reports(
        reportTypes=SETTLEMENT, marketplaceIds=f"{DE},{US}"
    ).payload["reports"]
    assert settlements, "the shipped orders of four weeks make settlements"
    for report in settlements[:2]:
        assert api.get_report(report["reportId"]).payload == report
    # Their documents are still the settlements'.
    data, _type, _document = fetch(api, settlements[0])
    assert data.decode("utf-8").startswith("settlement-id\t")


# the flat file -------------------------------------------------------------------


def test_document_columns_rows_and_values(sandbox, api, history, sp_client, search_all):
    start = START - timedelta(days=29)
    report = finished(sandbox, api, create(api, [DE, FR, UK], start, START))
    data, content_type, _document = fetch(api, report)
    assert content_type == "text/plain; charset=UTF-8"
    text = data.decode("utf-8")
    header, rows = parse(text)
    assert header == COLUMNS
    orders = searched(
        sp_client,
        search_all,
        [DE, FR, UK],
        createdAfter=format_time(start),
        createdBefore=format_time(START),
    )
    assert len(orders) > 100
    assert len(rows) == sum(len(o["orderItems"]) for o in orders)
    # The rows of an order are together; the orders go by purchase date.
    sequence = [row["amazon-order-id"] for row in rows]
    changes = [sequence[0]] + [b for a, b in itertools.pairwise(sequence) if a != b]
    assert len(changes) == len(set(changes)) == len(orders)
    dates = [row["purchase-date"] for row in rows]
    assert dates == sorted(dates)
    known = {o["orderId"]: o for o in orders}
    for row in rows:
        order = known[row["amazon-order-id"]]
        marketplace = order["salesChannel"]["marketplaceId"]
        assert DATE.match(row["purchase-date"]) and DATE.match(row["last-updated-date"])
        assert row["purchase-date"] == order["createdTime"].replace("Z", "+00:00")
        assert row["last-updated-date"] == order["lastUpdatedTime"].replace(
            "Z", "+00:00"
        )
        assert row["sales-channel"] == SALES_CHANNELS[marketplace]
        assert (
            row["fulfillment-channel"]
            == {
                "AMAZON": "Amazon",
                "MERCHANT": "Merchant",
            }[order["fulfillment"]["fulfilledBy"]]
        )
        status = order["fulfillment"]["fulfillmentStatus"]
        if status == "SHIPPED":
            assert row["order-status"] == "Shipped" or row["order-status"].startswith(
                "Shipped - "
            )
            assert row["item-status"] == "Shipped"
        else:
            assert row["order-status"] in ORDER_STATUSES
        if status == "CANCELLED":
            assert (row["order-status"], row["item-status"]) == (
                "Cancelled",
                "Cancelled",
            )
        if status in ("PENDING", "UNSHIPPED"):
            assert row["item-status"] == "Unshipped"
        assert row["is-business-order"] == (
            "true" if "AMAZON_BUSINESS" in order.get("programs", ()) else "false"
        )
        assert row["purchase-order-number"] == order["buyer"].get(
            "buyerPurchaseOrderNumber", ""
        )
        address = order.get("recipient", {}).get("deliveryAddress", {})
        assert row["ship-city"] == address.get("city", "")
        assert row["ship-postal-code"] == address.get("postalCode", "")
        assert row["ship-country"] == address.get("countryCode", "")
        assert row["ship-state"] == address.get("stateOrRegion", "")
        # What the report does not have: the buyer's name, e-mail, street.
        cells = set(row.values())
        assert order["buyer"]["buyerName"] not in cells
        for private in (order["buyer"].get("buyerEmail"), address.get("addressLine1")):
            assert not private or private not in text
    statuses = {row["order-status"] for row in rows}
    assert {"Shipped", "Shipped - Delivered to Buyer", "Cancelled"} <= statuses
    assert {row["item-status"] for row in rows} == {"Shipped", "Unshipped", "Cancelled"}
    assert {row["is-business-order"] for row in rows} == {"true", "false"}
    assert any(row["price-designation"] == "BusinessPrice" for row in rows)
    assert any(row["promotion-ids"] for row in rows)
    assert any(row["merchant-order-id"].startswith("SO-") for row in rows)
    assert {row["ship-service-level"] for row in rows} <= {
        "Standard",
        "Expedited",
        "NextDay",
        "SecondDay",
        "FreeEconomy",
    }
    # The detailed shipped status is the order's own: the same in a second report.
    again = document_rows(api, finished(sandbox, api, create(api, [DE], start, START)))
    first = {r["amazon-order-id"]: r["order-status"] for r in rows}
    assert all(first[r["amazon-order-id"]] == r["order-status"] for r in again)


def test_money_is_search_orders_money_to_the_cent(
    sandbox, api, history, sp_client, search_all
):
    # UTF-8 throughout, so that every SKU reads as searchOrders writes it
    # (windows-31j has no "É"; see the Amazon.co.jp test).
    sandbox.configure_order_reports(encoding="utf-8")
    start = START - timedelta(days=29)
    groups = [[DE, FR, UK], [US], [JP]]
    ids = [create(api, group, start, START) for group in groups]
    sandbox.advance(90)
    orders = searched(
        sp_client,
        search_all,
        [DE, FR, UK, US, JP],
        createdAfter=format_time(start),
        createdBefore=format_time(START),
    )
    assert len(orders) == len(history) == 300
    rows = []
    for report_id in ids:
        rows += document_rows(api, api.get_report(report_id).payload)
    reported = by_order(rows)
    assert set(reported) == {o["orderId"] for o in orders}
    seen = {"discount": 0, "gift_wrap": 0, "shipping": 0}
    for order in orders:
        marketplace = order["salesChannel"]["marketplaceId"]
        currency = {JP: "JPY", US: "USD", UK: "GBP"}.get(marketplace, "EUR")
        order_rows = reported[order["orderId"]]
        by_sku = {row["sku"]: row for row in order_rows}
        assert len(by_sku) == len(order_rows) == len(order["orderItems"])
        prices = taxes = totals = Decimal(0)
        for item in order["orderItems"]:
            row = by_sku[item["product"]["sellerSku"]]
            assert row["currency"] == currency
            assert int(row["quantity"]) == item["quantityOrdered"]
            breakdowns = {b["type"]: b for b in item["proceeds"]["breakdowns"]}
            unit = Decimal(item["product"]["price"]["unitPrice"]["amount"])
            assert amount(row["item-price"]) == unit * item["quantityOrdered"]
            assert amount(row["item-price"]) == Decimal(
                breakdowns["ITEM"]["subtotal"]["amount"]
            )
            details = {
                d["subtype"]: Decimal(d["value"]["amount"])
                for d in breakdowns["TAX"].get("detailedBreakdowns", ())
            }
            assert amount(row["item-tax"]) == details["ITEM"]
            assert amount(row["shipping-tax"]) == details.get("SHIPPING", 0)
            assert amount(row["gift-wrap-tax"]) == details.get("GIFT_WRAP", 0)
            for column, kind in (
                ("shipping-price", "SHIPPING"),
                ("gift-wrap-price", "GIFT_WRAP"),
            ):
                if kind in breakdowns:
                    assert Decimal(row[column]) == Decimal(
                        breakdowns[kind]["subtotal"]["amount"]
                    )
                else:
                    assert row[column] == ""  # no such amount: an empty cell
            seen["shipping"] += "SHIPPING" in breakdowns
            seen["gift_wrap"] += "GIFT_WRAP" in breakdowns
            if "DISCOUNT" in breakdowns:
                seen["discount"] += 1
                parts = {
                    d["subtype"]: d["value"]["amount"]
                    for d in breakdowns["DISCOUNT"]["detailedBreakdowns"]
                }
                assert row["item-promotion-discount"] == parts.get("ITEM", "")
                assert row["ship-promotion-discount"] == parts.get("SHIPPING", "")
                assert all(
                    row[c].startswith("-")
                    for c in ("item-promotion-discount", "ship-promotion-discount")
                    if row[c]
                )
            else:
                assert row["item-promotion-discount"] == ""
                assert row["ship-promotion-discount"] == ""
            for column in PRICES + TAXES:
                if row[column]:
                    pattern = r"^-?\d+$" if currency == "JPY" else r"^-?\d+\.\d{2}$"
                    assert re.match(pattern, row[column]), (column, row[column])
            prices += sum(
                (
                    Decimal(b["subtotal"]["amount"])
                    for kind, b in breakdowns.items()
                    if kind != "TAX"
                ),
                Decimal(0),
            )
            taxes += Decimal(breakdowns["TAX"]["subtotal"]["amount"])
            totals += Decimal(item["proceeds"]["proceedsTotal"]["amount"])
        # Order by order: the report's amounts are the proceeds, to the cent.
        report_prices = sum(amount(r[c]) for r in order_rows for c in PRICES)
        report_taxes = sum(amount(r[c]) for r in order_rows for c in TAXES)
        assert report_prices == prices, order["orderId"]
        assert report_taxes == taxes, order["orderId"]
        expected = report_prices if TAX_INCLUDED[marketplace] else prices + taxes
        assert totals == expected == Decimal(order["proceeds"]["grandTotal"]["amount"])
    assert min(seen.values()) >= 10


def test_breakdowns_without_details_still_add_up(sandbox, api, history):
    order = next(
        o
        for o in history
        if o["salesChannel"]["marketplaceId"] == DE and len(o["orderItems"]) == 1
    )
    [item] = order["orderItems"]
    tax = next(b for b in item["proceeds"]["breakdowns"] if b["type"] == "TAX")

    def strip(stored):
        stored.pop("recipient", None)
        breakdowns = stored["orderItems"][0]["proceeds"]["breakdowns"]
        kept = [b for b in breakdowns if b["type"] not in ("TAX", "DISCOUNT")]
        kept.append(
            {"type": "DISCOUNT", "subtotal": {"amount": "-1.00", "currencyCode": "EUR"}}
        )
        kept.append({"type": "TAX", "subtotal": tax["subtotal"]})
        stored["orderItems"][0]["proceeds"]["breakdowns"] = kept

    sandbox.corrupt_order(order["orderId"], strip)
    report = finished(sandbox, api, create(api, [DE], START - timedelta(days=29)))
    [row] = by_order(document_rows(api, report))[order["orderId"]]
    assert row["item-tax"] == tax["subtotal"]["amount"]
    assert (row["shipping-tax"], row["gift-wrap-tax"]) == ("", "")
    assert row["item-promotion-discount"] == "-1.00"
    assert row["ship-promotion-discount"] == ""
    address = ("ship-city", "ship-state", "ship-postal-code", "ship-country")
    assert [row[c] for c in address] == ["", "", "", ""]


def test_order_date_and_last_update_windows(
    sandbox, api, history, sp_client, search_all
):
    start, end = START - timedelta(days=12), START - timedelta(days=8)
    window = {"after": format_time(start), "before": format_time(end)}
    by_date = create(api, [DE, US, JP], start, end)
    by_update = create(api, [DE, US, JP], start, end, BY_LAST_UPDATE)
    sandbox.advance(90)
    created = searched(
        sp_client,
        search_all,
        [DE, US, JP],
        createdAfter=window["after"],
        createdBefore=window["before"],
    )
    updated = searched(
        sp_client,
        search_all,
        [DE, US, JP],
        lastUpdatedAfter=window["after"],
        lastUpdatedBefore=window["before"],
    )
    date_rows = document_rows(api, api.get_report(by_date).payload)
    update_rows = document_rows(api, api.get_report(by_update).payload)
    assert set(by_order(date_rows)) == {o["orderId"] for o in created}
    assert set(by_order(update_rows)) == {o["orderId"] for o in updated}
    assert set(by_order(date_rows)) != set(by_order(update_rows))
    for row in update_rows:
        assert window["after"][:-1] <= row["last-updated-date"][:19]
        assert row["last-updated-date"][:19] <= window["before"][:-1]
    # An old order changed now is in the last hour's last-update report only.
    fba = next(
        o
        for o in history
        if o["fulfillment"]["fulfilledBy"] == "AMAZON"
        and o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    )
    merchant = next(
        o
        for o in history
        if o["fulfillment"]["fulfilledBy"] == "MERCHANT"
        and o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
        and sum(i["quantityOrdered"] for i in o["orderItems"]) > 1
    )
    pending = next(
        o for o in history if o["fulfillment"]["fulfillmentStatus"] == "PENDING"
    )
    changed = sandbox.now()
    sandbox.update_order(fba["orderId"], status="PARTIALLY_SHIPPED")
    sandbox.update_order(merchant["orderId"], status="PARTIALLY_SHIPPED")
    sandbox.cancel_order(pending["orderId"])
    markets = [DE, FR, UK, US, JP]
    hour = START - timedelta(hours=1)
    recent = create(api, markets, hour, report_type=BY_LAST_UPDATE)
    placed = create(api, markets, hour)
    sandbox.advance(90)
    rows = by_order(document_rows(api, api.get_report(recent).payload))
    assert set(rows) == {fba["orderId"], merchant["orderId"], pending["orderId"]}
    assert {r["order-status"] for r in rows[fba["orderId"]]} == {"Shipping"}
    assert {r["order-status"] for r in rows[merchant["orderId"]]} == {
        "PartiallyShipped"
    }
    assert {r["item-status"] for r in rows[pending["orderId"]]} == {"Cancelled"}
    for order_rows in rows.values():
        assert datetime.fromisoformat(order_rows[0]["purchase-date"]) < hour
        assert datetime.fromisoformat(order_rows[0]["last-updated-date"]) == changed
    # No order was placed in the last hour: Amazon cancels such a report.
    assert api.get_report(placed).payload["processingStatus"] == "CANCELLED"


def test_an_empty_window_is_cancelled_without_document(sandbox, api, history):
    report_id = create(api, [DE], START - timedelta(minutes=90), START)
    sandbox.advance(30)
    assert api.get_report(report_id).payload["processingStatus"] == "IN_PROGRESS"
    report = finished(sandbox, api, report_id)
    assert report["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in report
    assert report["processingEndTime"] == format_time(START + timedelta(seconds=90))
    listed = api.get_reports(
        reportTypes=f"{BY_ORDER_DATE},{BY_LAST_UPDATE}",
        processingStatuses="CANCELLED",
        marketplaceIds=DE,
    ).payload["reports"]
    assert [r["reportId"] for r in listed] == [report_id]


def test_fatal_reports_point_to_an_error_document(sandbox, api, history):
    sandbox.configure_order_reports(fatal=True, gzip=True)
    failed = create(api, [DE], START - timedelta(days=5))
    sandbox.configure_order_reports(fatal=False)
    fine = create(api, [DE], START - timedelta(days=5))
    report = finished(sandbox, api, failed)
    assert report["processingStatus"] == "FATAL"
    assert report["processingEndTime"] == format_time(START + timedelta(seconds=90))
    data, content_type, document = fetch(api, report)
    assert "compressionAlgorithm" not in document
    assert content_type.startswith("application/json")
    error = json.loads(data)
    assert set(error) == {"errorDetails"} and error["errorDetails"]
    assert api.get_report(fine).payload["processingStatus"] == "DONE"


# charsets and compression ---------------------------------------------------------


def test_cp1252_document_with_an_umlaut_city(sandbox, api, history):
    sandbox.configure_order_reports(encoding="cp1252")
    report = finished(sandbox, api, create(api, [DE], START - timedelta(days=29)))
    data, content_type, _document = fetch(api, report)
    assert charset(content_type) == "Cp1252"
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    _header, rows = parse(data.decode("cp1252"))
    cities = {row["ship-city"] for row in rows}
    assert {"München", "Köln"} <= cities
    # Without a charset in the Content-Type, the connector's reader finds it.
    sandbox.configure_order_reports(charset_header=False)
    bare = finished(sandbox, api, create(api, [DE], START - timedelta(days=29)))
    data, content_type, _document = fetch(api, bare)
    assert content_type == "text/plain"
    assert layer_reports.charset_of(content_type) is None
    lines = list(layer_reports.text_lines(io.BytesIO(data)))
    assert lines[0].split("\t") == COLUMNS
    assert {line.split("\t")[COLUMNS.index("ship-city")] for line in lines[1:]} == (
        cities
    )


def test_windows_31j_document_for_amazon_co_jp(sandbox, api, history):
    report = finished(sandbox, api, create(api, [JP], START - timedelta(days=29)))
    data, content_type, _document = fetch(api, report)
    assert charset(content_type) == "windows-31j"
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    _header, rows = parse(data.decode("cp932"))
    cities = {row["ship-city"] for row in rows}
    assert {"渋谷区", "大阪市北区"} <= cities
    assert {row["sales-channel"] for row in rows} == {"Amazon.co.jp"}
    assert all("." not in row["item-price"] for row in rows)
    # A report of several regions is UTF-8; the option can name the charset.
    mixed = finished(sandbox, api, create(api, [DE, JP], START - timedelta(days=29)))
    data, content_type, _document = fetch(api, mixed)
    assert charset(content_type) == "UTF-8"
    assert "渋谷区" in data.decode("utf-8") and "München" in data.decode("utf-8")
    sandbox.configure_order_reports(encoding="utf-8")
    utf8 = finished(sandbox, api, create(api, [JP], START - timedelta(days=29)))
    data, content_type, _document = fetch(api, utf8)
    assert charset(content_type) == "UTF-8"
    _header, utf8_rows = parse(data.decode("utf-8"))
    # What windows-31j cannot write ("É" of a French SKU) is "?" there.
    assert [
        {k: v.encode("cp932", "replace").decode("cp932") for k, v in row.items()}
        for row in utf8_rows
    ] == rows
    assert any("É" in row["sku"] for row in utf8_rows)
    assert any(row["sku"].startswith("?") for row in rows)


def test_gzip_documents(sandbox, api, history):
    plain = finished(sandbox, api, create(api, [UK, FR], START - timedelta(days=9)))
    plain_data, _type, _document = fetch(api, plain)
    sandbox.configure_order_reports(gzip=True)
    packed = finished(sandbox, api, create(api, [UK, FR], START - timedelta(days=9)))
    data, content_type, document = fetch(api, packed)
    assert document["compressionAlgorithm"] == "GZIP"
    assert data[:2] == b"\x1f\x8b"
    assert content_type == "text/plain; charset=UTF-8"
    assert gzip.decompress(data) == plain_data
    assert sandbox.configure_order_reports(gzip=False)["compression"] is None


def test_control_endpoints(sandbox, seller, api, history):
    base = f"{sandbox.url}/_sandbox/order-reports"
    options = httpx.post(
        base, json={"seller_id": seller["seller_id"], "queue_seconds": 0, "gzip": True}
    ).json()["options"]
    assert options["queue_seconds"] == 0 and options["compression"] == "GZIP"
    assert httpx.post(base, json={"colour": "red"}).status_code == 400
    assert httpx.post(base, json={"encoding": "no-such-codec"}).status_code == 400
    report_id = create(api, [US], START - timedelta(days=2))
    found = httpx.get(base, params={"seller_id": seller["seller_id"]}).json()
    [summary] = found["reports"]
    assert summary["reportId"] == report_id
    assert summary["processingStatus"] == "IN_PROGRESS"
    assert summary["compression"] == "GZIP" and summary["encoding"] == "utf-8"
    assert summary["orderIds"]


# quotas ---------------------------------------------------------------------------


def test_create_report_burst_then_time_scaled_refill(sandbox, api, clock):
    start = START - timedelta(days=1)
    for _ in range(15):
        create(api, [DE], start)
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        create(api, [DE], start)
    assert caught.value.error[0]["code"] == "QuotaExceeded"
    # 0.0167 a second, a thousand times faster in this sandbox.
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "16.7"
    sandbox.advance(0.03)
    with pytest.raises(SellingApiRequestThrottledException):
        create(api, [DE], start)
    sandbox.advance(0.03)
    create(api, [DE], start)
    sandbox.time_scale = 1
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        create(api, [DE], start)
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    sandbox.advance(59)
    with pytest.raises(SellingApiRequestThrottledException):
        create(api, [DE], start)
    sandbox.advance(1)
    create(api, [DE], start)
    assert len(sandbox.order_reports()) == 17


def test_get_report_burst_then_refill(sandbox, api, clock):
    sandbox.time_scale = 1
    report_id = create(api, [DE], START - timedelta(days=1))
    for _ in range(15):
        api.get_report(report_id)
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        api.get_report(report_id)
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "2"
    sandbox.advance(0.5)
    assert api.get_report(report_id).payload["reportId"] == report_id


# invalid requests -----------------------------------------------------------------


def _body(**changes):
    body = {
        "reportType": BY_LAST_UPDATE,
        "marketplaceIds": [DE],
        "dataStartTime": format_time(START - timedelta(days=2)),
        "dataEndTime": format_time(START - timedelta(days=1)),
    }
    for name, value in changes.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value
    return body


@pytest.mark.parametrize(
    "body, details",
    [
        (_body(reportType="GET_NO_SUCH_REPORT"), "reportType"),
        (_body(reportType=SETTLEMENT), "reportType"),
        (_body(reportType=None), "reportType"),
        (_body(marketplaceIds=None), "marketplaceIds"),
        (_body(marketplaceIds=[]), "marketplaceIds"),
        (_body(marketplaceIds=[BR]), "marketplaceIds"),
        (_body(marketplaceIds=["NOTAMARKET"]), "marketplaceIds"),
        (
            _body(dataStartTime=format_time(START - timedelta(days=1, seconds=-1))),
            "dataStartTime",
        ),
        (
            _body(
                dataStartTime=format_time(START + timedelta(hours=1)),
                dataEndTime=format_time(START + timedelta(hours=2)),
            ),
            "dataStartTime",
        ),
        (
            _body(
                dataStartTime=format_time(START - timedelta(days=31)),
                dataEndTime=format_time(START - timedelta(seconds=1)),
            ),
            "dataStartTime, dataEndTime",
        ),
        (_body(dataStartTime="last tuesday"), "dataStartTime"),
        (_body(reportOptions=["a"]), "reportOptions"),
    ],
)
def test_invalid_requests_answer_400(sandbox, token, model, body, details):
    answer = httpx.post(
        f"{sandbox.url}{PATH}", json=body, headers={"x-amz-access-token": token}
    )
    assert answer.status_code == 400
    assert_valid(model.response(PATH, 400, "post"), answer.json())
    [error] = answer.json()["errors"]
    assert (error["code"], error["details"]) == ("InvalidInput", details)
    assert sandbox.order_reports() == []


def test_an_end_in_the_future_becomes_now(sandbox, token, history):
    body = _body(
        dataStartTime=format_time(START - timedelta(days=30)),
        dataEndTime=format_time(START + timedelta(days=3)),
        marketplaceIds=[DE, FR, UK, US, JP],
    )
    answer = httpx.post(
        f"{sandbox.url}{PATH}", json=body, headers={"x-amz-access-token": token}
    )
    assert answer.status_code == 202
    [report] = sandbox.order_reports()
    assert report["reportId"] == answer.json()["reportId"]
    assert report["dataEndTime"] == format_time(START)
    assert report["dataStartTime"] == format_time(START - timedelta(days=30))
    assert len(report["orderIds"]) == len(history)
