"""Settlement reports: the sandbox's Reports 2021-06-30 and the connector's
layer (sp_api/reports.py) that lists, downloads and parses them."""

import gzip
import io
import itertools
import tracemalloc
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from layer import load
from sandbox import SandboxServer
from sandbox.marketplaces import CODE_TO_ID
from sandbox.ops import reports as sandbox_reports
from sandbox.timeutil import ManualClock
from sp_api.api import Reports
from sp_api.auth import access_token_client
from test_sandbox_schema import Model, assert_valid, raw_body

layer = load()
from amazon_refund_connector.sp_api import reports  # noqa: E402

START = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
DE, UK, FR = CODE_TO_ID["DE"], CODE_TO_ID["UK"], CODE_TO_ID["FR"]
REPORTS_MODEL = "reports_2021-06-30.json"


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def server(clock):
    access_token_client.cache.clear()
    with SandboxServer(time_scale=1000, settle_seconds=0, clock=clock) as srv:
        srv.configure_finances(posting_lag=0)
        yield srv
    access_token_client.cache.clear()


@pytest.fixture
def seller(server):
    data = server.add_new_seller([DE, UK, FR])
    return data


@pytest.fixture
def client(server, seller, clock):
    credentials = layer.Credentials(
        client_id=seller["client_id"],
        client_secret=seller["client_secret"],
        refresh_token=seller["refresh_token"],
        region="EU",
        endpoint=server.url,
        lwa_endpoint=f"{server.url}/auth/o2/token",
    )
    with layer.AmazonClient(
        credentials, layer.MemoryRateLimiter(clock=clock), max_wait=0
    ) as amazon:
        yield amazon


def period_two_back(server):
    return sandbox_reports.period_bounds(sandbox_reports.period_of(server.now()) - 2)


@pytest.fixture
def orders(server, seller):
    """FBA orders of DE and UK in the period two settlements back, and one
    before it, so that the reserve is released too."""
    start, end = period_two_back(server)
    made = []
    for seed, (first, last) in enumerate(
        [(start - timedelta(days=13), start - timedelta(days=2)), (start, end)]
    ):
        made += server.seed_orders(
            seed + 7,
            30,
            seller_id=seller["seller_id"],
            start=first + timedelta(hours=6),
            end=last - timedelta(days=1),
            marketplaces=[DE, UK],
            fba_share=1.0,
        )
    return made


def settlement_of(server, seller, marketplace):
    start, _end = period_two_back(server)
    wanted = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    return next(
        s
        for s in server.settlements(seller["seller_id"])
        if s["marketplaceId"] == marketplace and s["start"] == wanted
    )


def download(client, report):
    document = reports.get_report_document(client, report.document_id)
    spool = io.BytesIO()
    charset = reports.download_document(document, spool)
    spool.seek(0)
    return reports.SettlementReader(reports.text_lines(spool, charset))


def listed(client, since=None, **kwargs):
    return list(
        reports.iter_reports(client, since or START - timedelta(days=89), **kwargs)
    )


# the sandbox -----------------------------------------------------------------


def test_a_report_every_14_days_per_marketplace(server, seller, orders, client):
    found = listed(client, marketplace_ids=[DE, UK, FR])
    assert found, "the seeded orders make settlements"
    by_market = {}
    for report in found:
        assert report.report_type == reports.SETTLEMENT_REPORT_TYPE
        assert report.done
        assert report.data_end - report.data_start == timedelta(days=14)
        assert report.created == report.data_end + timedelta(hours=1)
        assert report.created <= START.replace(tzinfo=None)
        by_market.setdefault(report.marketplace_ids, []).append(report)
    assert set(by_market) == {(DE,), (UK,)}
    for market_reports in by_market.values():
        starts = sorted(r.data_start for r in market_reports)
        for earlier, later in itertools.pairwise(starts):
            assert (later - earlier) % timedelta(days=14) == timedelta(0)
    # Newest first, as Amazon lists them.
    created = [r.created for r in found]
    assert created == sorted(created, reverse=True)
    # Only one marketplace when asked for one.
    assert {r.marketplace_ids for r in listed(client, marketplace_ids=[UK])} == {(UK,)}
    # A settlement is not listed before Amazon makes it.
    summary = settlement_of(server, seller, DE)
    made = datetime.fromisoformat(summary["created"].replace("Z", "+00:00"))
    assert made - datetime.fromisoformat(summary["end"].replace("Z", "+00:00")) == (
        timedelta(hours=1)
    )
    earlier = server.settlements(seller["seller_id"], now=made - timedelta(seconds=1))
    assert summary["settlementId"] not in {s["settlementId"] for s in earlier}


def test_rows_are_the_finances_money_to_the_cent(server, seller, orders, client):
    summary = settlement_of(server, seller, DE)
    report = next(
        r
        for r in listed(client, marketplace_ids=[DE])
        if r.data_start == datetime.fromisoformat(summary["start"][:-1])
    )
    reader = download(client, report)
    header = reader.header
    assert header.settlement_id == summary["settlementId"]
    assert header.currency == "EUR"
    assert header.deposit == header.end + timedelta(days=2)
    rows = list(reader.rows())
    assert len(rows) == summary["rows"]
    assert sum(r.amount for r in rows) == header.total == Decimal(summary["total"])
    # Per order: the rows are the Shipment and Refund transactions' totals.
    transactions = {
        t["transactionId"]: t
        for t in server.transactions_of(seller["seller_id"])
        if t["transactionId"] in summary["transactions"]
    }
    by_order = {}
    for transaction in transactions.values():
        order_id = next(
            i["relatedIdentifierValue"]
            for i in transaction["relatedIdentifiers"]
            if i["relatedIdentifierName"] == "ORDER_ID"
        )
        amount = Decimal(str(transaction["totalAmount"]["currencyAmount"]))
        by_order[order_id] = by_order.get(order_id, Decimal(0)) + amount
    from_rows = {}
    for row in rows:
        if row.order_id:
            from_rows[row.order_id] = (
                from_rows.get(row.order_id, Decimal(0)) + row.amount
            )
    assert from_rows == by_order
    others = [r for r in rows if not r.order_id]
    descriptions = {r.amount_description for r in others}
    assert {
        "Subscription Fee",
        "Current Reserve Amount",
        "Previous Reserve Amount Balance",
    } <= descriptions
    held = next(r for r in others if r.amount_description == "Current Reserve Amount")
    assert held.amount < 0
    # An order's item price rows carry its sku, quantity and item code.
    principal = next(r for r in rows if r.amount_description == "Principal")
    assert principal.sku and principal.quantity >= 1 and principal.order_item_code


def test_listing_pages_with_next_token_alone(server, seller, orders, client):
    server.configure_reports(seller["seller_id"], page_size=1)
    every = listed(client, marketplace_ids=[DE, UK], page_size=1)
    assert len(every) >= 3
    pages = [
        call for call in server.calls if call[0] == "getReports" and call[1] == 200
    ]
    assert len(pages) == len(every)
    assert all(set(query) == {"nextToken"} for _op, _status, query in pages[1:])
    # nextToken with other parameters is refused, as the model says.
    api = client._api(Reports)
    first = api.get_reports(
        reportTypes=reports.SETTLEMENT_REPORT_TYPE, pageSize=1, marketplaceIds=DE
    )
    with pytest.raises(Exception) as refused:
        api.get_reports(nextToken=first.next_token, pageSize=1)
    assert "nextToken" in str(refused.value)


def test_answers_follow_amazons_model(server, seller, orders, client):
    model = Model(REPORTS_MODEL)
    api = client._api(Reports)
    response = api.get_reports(
        reportTypes=reports.SETTLEMENT_REPORT_TYPE, marketplaceIds=f"{DE},{UK}"
    )
    body = raw_body(response)
    assert_valid(model.response("/reports/2021-06-30/reports", 200), body)
    document_id = body["reports"][0]["reportDocumentId"]
    document = api.get_report_document(document_id)
    assert_valid(
        model.response("/reports/2021-06-30/documents/{reportDocumentId}", 200),
        raw_body(document),
    )


def test_gzip_cp1252_german_document(server, seller, orders, client):
    summary = settlement_of(server, seller, DE)
    server.plant_settlement(
        summary["settlementId"],
        rows=[
            {
                "transaction-type": "other-transaction",
                "amount-type": "other-transaction",
                "amount-description": "Lagergebühr für Überlänge",
                "amount": "-1141.18",
            }
        ],
    )
    server.configure_reports(
        seller["seller_id"], compression="GZIP", encoding="cp1252", german=True
    )
    api = client._api(Reports)
    report = next(
        r
        for r in listed(client, marketplace_ids=[DE])
        if r.data_start == datetime.fromisoformat(summary["start"][:-1])
    )
    answer = api.get_report_document(report.document_id).payload
    assert answer["compressionAlgorithm"] == "GZIP"
    raw = gzip.decompress(
        __import__("httpx").get(answer["url"]).content  # the presigned URL
    )
    text = raw.decode("cp1252")
    assert ",".join(["1141", "18"]) in text.replace("-", "")
    assert "Lagergebühr" in text
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    first_row = text.splitlines()[1].split("\t")
    assert first_row[1][2] == "." and first_row[1].endswith("UTC")
    reader = download(client, report)
    rows = list(reader.rows())
    planted = rows[-1]
    assert planted.amount_description == "Lagergebühr für Überlänge"
    assert planted.amount == Decimal("-1141.18")
    assert reader.header.total == Decimal(settlement_of(server, seller, DE)["total"])
    assert sum(r.amount for r in rows) == reader.header.total


def test_planted_status_twice_listed_and_total(server, seller, orders, client):
    summary = settlement_of(server, seller, DE)
    server.plant_settlement(summary["settlementId"], status="IN_PROGRESS")
    waiting = [r for r in listed(client, marketplace_ids=[DE]) if r.waiting]
    assert len(waiting) == 1 and waiting[0].document_id is None
    server.plant_settlement(summary["settlementId"], status="FATAL")
    failed = [r for r in listed(client, marketplace_ids=[DE]) if r.failed]
    assert len(failed) == 1
    server.plant_settlement(summary["settlementId"], status="DONE", listed_twice=True)
    twice = [
        r
        for r in listed(client, marketplace_ids=[DE])
        if r.data_start == datetime.fromisoformat(summary["start"][:-1])
    ]
    assert len(twice) == 2 and twice[0].report_id != twice[1].report_id
    headers = [download(client, r).header for r in twice]
    assert headers[0].settlement_id == headers[1].settlement_id
    server.plant_settlement(summary["settlementId"], total_delta="0.05")
    reader = download(client, twice[0])
    _count, total = reports.read_totals(reader)
    assert reader.header.total - total == Decimal("0.05")


def test_throttled_listing_raises_the_layers_error(server, seller, orders, client):
    server.inject_fault("getReports", "throttle", count=3)
    with pytest.raises(layer.AmazonThrottled):
        listed(client)


# the layer's parser -----------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1141.18", "1141.18"),
        ("1141,18", "1141.18"),
        ("1.141,18", "1141.18"),
        ("1,141.18", "1141.18"),
        ("-0,5", "-0.5"),
        ("-12", "-12"),
    ],
)
def test_amounts(text, expected):
    assert reports.parse_amount(text) == Decimal(expected)


def test_bad_amount_and_date():
    with pytest.raises(reports.MalformedReport):
        reports.parse_amount("12x")
    with pytest.raises(reports.MalformedReport):
        reports.parse_date("31.02.2023")
    with pytest.raises(reports.MalformedReport):
        reports.parse_date("yesterday")


@pytest.mark.parametrize(
    "text",
    [
        "14.03.2023 07:49:55 UTC",
        "2023-03-14 07:49:55 UTC",
        "2023-03-14T07:49:55Z",
        "2023-03-14T08:49:55+01:00",
    ],
)
def test_dates(text):
    assert reports.parse_date(text) == datetime(2023, 3, 14, 7, 49, 55)


def test_charset_detection():
    lines = ["a\tb", "Gebühr\t1", "Straße\t2"]
    utf8 = io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))
    assert list(reports.text_lines(utf8)) == lines
    cp1252 = io.BytesIO(("\n".join(lines) + "\n").encode("cp1252"))
    assert list(reports.text_lines(cp1252)) == lines
    bom = io.BytesIO(b"\xef\xbb\xbf" + "\n".join(lines).encode("utf-8"))
    assert list(reports.text_lines(bom)) == lines
    latin = io.BytesIO("€\n".encode("cp1252"))
    assert list(reports.text_lines(latin, "cp1252")) == ["€"]
    assert reports.charset_of("text/plain; charset=Cp1252") == "cp1252"
    assert reports.charset_of("text/plain") is None


HEADER = "\t".join(reports.COLUMNS)


def flat(*rows):
    lines = [HEADER]
    for row in rows:
        cells = dict.fromkeys(reports.COLUMNS, "")
        cells.update(row)
        lines.append("\t".join(cells[c] for c in reports.COLUMNS))
    return lines


FIRST = {
    "settlement-id": "111",
    "settlement-start-date": "2023-03-01 00:00:00 UTC",
    "settlement-end-date": "2023-03-15 00:00:00 UTC",
    "deposit-date": "2023-03-17 00:00:00 UTC",
    "total-amount": "100.00",
    "currency": "EUR",
}


def order_row(order, amount_type, description, amount, kind="Order", **extra):
    return {
        "settlement-id": "111",
        "transaction-type": kind,
        "order-id": order,
        "amount-type": amount_type,
        "amount-description": description,
        "amount": amount,
        "posted-date": "2023-03-02 10:00:00 UTC",
        "sku": extra.pop("sku", "SKU-1"),
        **extra,
    }


def test_entries_group_an_orders_money_and_fees():
    lines = flat(
        FIRST,
        order_row("A", "ItemPrice", "Principal", "50.00"),
        order_row("A", "ItemPrice", "Tax", "9.50"),
        order_row("A", "Promotion", "Principal", "-5.00"),
        order_row("A", "ItemFees", "Commission", "-8.00"),
        order_row("A", "ItemFees", "FBAPerUnitFulfillmentFee", "-3.00"),
        order_row("A", "ItemPrice", "Principal", "10.00", sku="SKU-2"),
        order_row(
            "A",
            "ItemPrice",
            "Principal",
            "-10.00",
            kind="Refund",
            **{"adjustment-id": "R1"},
        ),
        order_row(
            "A",
            "ItemFees",
            "RefundCommission",
            "-1.00",
            kind="Refund",
            **{"adjustment-id": "R1"},
        ),
        {
            "settlement-id": "111",
            "transaction-type": "other-transaction",
            "amount-type": "other-transaction",
            "amount-description": "Subscription Fee",
            "amount": "-39.00",
        },
        {
            "settlement-id": "111",
            "transaction-type": "other-transaction",
            "amount-type": "other-transaction",
            "amount-description": "Current Reserve Amount",
            "amount": "-5.00",
        },
        {
            "settlement-id": "111",
            "transaction-type": "BrandNewThing",
            "amount-type": "Whatever",
            "amount-description": "Mystery",
            "amount": "1.00",
        },
        order_row("B", "ItemPrice", "Principal", "20.00"),
        order_row("B", "Surprise", "Something", "0.50"),
    )
    reader = reports.SettlementReader(lines)
    assert reader.header.total == Decimal("100.00")
    assert reader.header.deposit == datetime(2023, 3, 17)
    found = list(reports.entries(reader.rows()))
    kinds = [(e.kind, e.order_id, e.amount) for e in found]
    assert kinds == [
        ("sale", "A", Decimal("64.50")),
        ("sale_fees", "A", Decimal("-11.00")),
        ("refund", "A", Decimal("-10.00")),
        ("refund_fees", "A", Decimal("-1.00")),
        ("service_fee", "", Decimal("-39.00")),
        ("reserve", "", Decimal("-5.00")),
        ("unknown", "", Decimal("1.00")),
        ("sale", "B", Decimal("20.00")),
        ("unknown", "B", Decimal("0.50")),
    ]
    assert found[0].skus == ["SKU-1", "SKU-2"]
    assert found[1].fees == {
        "commission": Decimal("-8.00"),
        "fba_fee": Decimal("-3.00"),
    }
    assert found[3].fees == {"refund_commission": Decimal("-1.00")}
    assert found[2].adjustment_id == "R1"
    assert "Whatever" in found[6].unknown[0]
    assert found[0].posted == datetime(2023, 3, 2, 10)


def test_reader_refuses_what_is_not_a_settlement():
    with pytest.raises(reports.MalformedReport):
        reports.SettlementReader([])
    with pytest.raises(reports.MalformedReport):
        reports.SettlementReader(["a\tb", "1\t2"])
    bad = reports.SettlementReader(
        flat(FIRST, order_row("A", "ItemPrice", "Principal", "1,2,3"))
    )
    with pytest.raises(reports.MalformedReport, match="line 3"):
        list(bad.rows())
    other = reports.SettlementReader(
        flat(
            FIRST,
            dict(
                order_row("A", "ItemPrice", "Principal", "1"),
                **{"settlement-id": "222"},
            ),
        )
    )
    with pytest.raises(reports.MalformedReport, match="222"):
        list(other.rows())


def test_the_parser_streams_in_constant_memory():
    def document(count):
        yield HEADER
        cells = dict.fromkeys(reports.COLUMNS, "")
        cells.update(FIRST)
        yield "\t".join(cells[c] for c in reports.COLUMNS)
        for index in range(count):
            row = order_row(f"O{index}", "ItemPrice", "Principal", "1.00")
            cells = dict.fromkeys(reports.COLUMNS, "")
            cells.update(row)
            yield "\t".join(cells[c] for c in reports.COLUMNS)

    def peak(count):
        tracemalloc.start()
        try:
            reader = reports.SettlementReader(document(count))
            total = sum(e.amount for e in reports.entries(reader.rows()))
            return tracemalloc.get_traced_memory()[1], total
        finally:
            tracemalloc.stop()

    small, small_total = peak(2_000)
    large, large_total = peak(20_000)
    assert small_total == 2_000 and large_total == 20_000
    assert large < small * 2 + 64 * 1024


def test_control_endpoints(server, seller, orders, client):
    import httpx

    base = f"{server.url}/_sandbox"
    found = httpx.get(
        f"{base}/settlements", params={"seller_id": seller["seller_id"]}
    ).json()["settlements"]
    summary = next(s for s in found if s["marketplaceId"] == DE)
    answer = httpx.post(
        f"{base}/settlements/{summary['settlementId']}",
        json={"status": "FATAL", "total_delta": "0.10"},
    )
    assert answer.status_code == 201
    assert answer.json()["status"] == "FATAL"
    failed = [
        r
        for r in listed(client, marketplace_ids=[DE])
        if r.data_start == datetime.fromisoformat(summary["start"][:-1])
    ]
    assert [r.status for r in failed] == ["FATAL"]
    options = httpx.post(
        f"{base}/reports",
        json={"seller_id": seller["seller_id"], "compression": "GZIP"},
    ).json()["options"]
    assert options["compression"] == "GZIP"
    refused = httpx.post(f"{base}/reports", json={"compression": "ZIP"})
    assert refused.status_code == 400
