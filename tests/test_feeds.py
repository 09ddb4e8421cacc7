"""The payment adjustment feed: the layer's XML, its shape check, and the
Feeds 2021-06-30 flow of the sandbox, through the real sp_api client."""

import importlib
from decimal import Decimal

import httpx
import pytest
from layer import load
from lxml import etree
from sandbox import SandboxServer
from sandbox.ops import feeds as sandbox_feeds
from sandbox.timeutil import ManualClock

layer = load()
feeds = importlib.import_module("amazon_refund_connector.sp_api.feeds")

DE = "A1PA6795UKMFR9"
MARKETPLACES = [DE, "A13V1IB3VIYZZH"]


@pytest.fixture
def server():
    with SandboxServer(
        time_scale=1.0, settle_seconds=0, clock=ManualClock("2026-03-02T10:00:00Z")
    ) as srv:
        yield srv


@pytest.fixture
def seller(server):
    data = server.add_new_seller(MARKETPLACES)
    return data


@pytest.fixture
def client(server, seller):
    credentials = layer.Credentials(
        client_id=seller["client_id"],
        client_secret=seller["client_secret"],
        refresh_token=seller["refresh_token"],
        region="EU",
        endpoint=server.url,
        lwa_endpoint=f"{server.url}/auth/o2/token",
    )
    limiter = layer.MemoryRateLimiter(clock=server.clock)
    with layer.AmazonClient(credentials, limiter) as amazon:
        yield amazon


@pytest.fixture
def order(server, seller):
    orders = server.seed_orders(7, 40, seller_id=seller["seller_id"], marketplaces=[DE])
    return next(
        o
        for o in orders
        if (o.get("fulfillment") or {}).get("fulfilledBy") == "MERCHANT"
        and len(o["orderItems"]) >= 2
    )


def _refunds(server, seller, order):
    return [
        t
        for t in server.transactions_of(seller["seller_id"], order["orderId"])
        if t["transactionType"] == "Refund"
    ]


def _item(order_item_id, amounts, reason="CustomerReturn"):
    return feeds.AdjustedItem(
        order_item_id,
        reason,
        [feeds.Component(kind, Decimal(value)) for kind, value in amounts],
    )


def _document(order, items=None):
    items = items or [
        _item(i["orderItemId"], [("Principal", "1.00"), ("Shipping", "0.50")])
        for i in order["orderItems"]
    ]
    return feeds.build_adjustment_feed("MERCHANT1", order["orderId"], "EUR", items)


# -- the layer's XML ----------------------------------------------------------------


def test_adjustment_feed_has_amazons_shape():
    content = feeds.build_adjustment_feed(
        "M1",
        "302-1234567-7654321",
        "EUR",
        [
            _item("12345678901234", [("Principal", "19.99"), ("Shipping", "4.9")]),
            _item("22345678901234", [("Principal", "0")], reason="PriceError"),
        ],
    )
    assert isinstance(content, bytes)
    root = etree.fromstring(content)
    assert root.findtext("MessageType") == "OrderAdjustment"
    messages = root.findall("Message")
    assert [m.findtext("MessageID") for m in messages] == ["1", "2"]
    first = messages[0].find("OrderAdjustment")
    assert first.findtext("AmazonOrderID") == "302-1234567-7654321"
    assert first.findtext("ActionType") == "Refund"
    item = first.find("AdjustedItem")
    assert [c.tag for c in item] == [
        "AmazonOrderItemCode",
        "AdjustmentReason",
        "ItemPriceAdjustments",
    ]
    amounts = item.findall("ItemPriceAdjustments/Component/Amount")
    assert [(a.get("currency"), a.text) for a in amounts] == [
        ("EUR", "19.99"),
        ("EUR", "4.90"),
    ]
    assert feeds.check_adjustment_shape(content) == []


def test_japanese_yen_goes_without_decimals():
    content = feeds.build_adjustment_feed(
        "M1", "503-1234567-7654321", "JPY", [_item("1", [("Principal", "1200")])], 0
    )
    assert b'<Amount currency="JPY">1200</Amount>' in content


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda r: r.find(".//ItemPriceAdjustments").clear(), "Component is missing"),
        (lambda r: _set(r, ".//Type", "Refund"), "is not Amazon's"),
        (lambda r: _set(r, ".//AdjustmentReason", "Because"), "is not one of Amazon's"),
        (lambda r: _set(r, ".//AmazonOrderID", "12-3"), "is not an Amazon order"),
        (lambda r: _set(r, ".//Amount", "-1.00"), "is not a positive amount"),
        (lambda r: _set(r, ".//Amount", "1.005"), "is not a positive amount"),
        (lambda r: r.find(".//Amount").attrib.clear(), "needs a currency"),
        (lambda r: _set(r, ".//MessageID", "0"), "positive number"),
        (lambda r: _set(r, "MessageType", "OrderFulfillment"), "OrderAdjustment"),
    ],
)
def test_shape_check_names_what_amazon_refuses(change, problem):
    content = feeds.build_adjustment_feed(
        "M1", "302-1234567-7654321", "EUR", [_item("1", [("Principal", "2.00")])]
    )
    root = etree.fromstring(content)
    change(root)
    problems = feeds.check_adjustment_shape(etree.tostring(root))
    assert any(problem in p for p in problems), problems


def _set(root, path, text):
    root.find(path).text = text


def test_builder_refuses_a_reason_amazon_does_not_know():
    with pytest.raises(layer.AmazonInvalidInput, match="AdjustmentReason"):
        feeds.build_adjustment_feed(
            "M1", "302-1234567-7654321", "EUR", [_item("1", [("Tax", "1")], "Nice")]
        )


def test_report_parsing():
    report = feeds.parse_processing_report(
        """<?xml version="1.0"?><AmazonEnvelope><Message><MessageID>1</MessageID>
        <ProcessingReport><StatusCode>Complete</StatusCode><ProcessingSummary>
        <MessagesProcessed>3</MessagesProcessed><MessagesSuccessful>1</MessagesSuccessful>
        <MessagesWithError>2</MessagesWithError><MessagesWithWarning>0</MessagesWithWarning>
        </ProcessingSummary><Result><MessageID>2</MessageID><ResultCode>Error</ResultCode>
        <ResultMessageCode>18028</ResultMessageCode><ResultDescription>Order not
        found</ResultDescription></Result><Result><MessageID>3</MessageID>
        <ResultCode>Warning</ResultCode><ResultDescription>w</ResultDescription></Result>
        </ProcessingReport></Message></AmazonEnvelope>"""
    )
    assert (report.processed, report.successful, report.with_error) == (3, 1, 2)
    assert list(report.errors()) == [2]
    assert "18028" in report.errors()[2]
    assert not report.unnamed_failure
    only_count = feeds.parse_processing_report(
        "<AmazonEnvelope><Message><ProcessingReport><ProcessingSummary>"
        "<MessagesWithError>1</MessagesWithError></ProcessingSummary>"
        "</ProcessingReport></Message></AmazonEnvelope>"
    )
    assert only_count.unnamed_failure
    with pytest.raises(layer.AmazonServerError):
        feeds.parse_processing_report("no xml at all")


# -- the flow against the sandbox ------------------------------------------------


def test_submit_then_done_then_refund_in_the_ledger(server, seller, client, order):
    content = _document(order)
    submission = feeds.submit_feed(client, content, [DE])
    info = server.feed_info(submission.feed_id)
    assert info["document"].encode() == content
    assert info["contentType"] == feeds.XML_CONTENT_TYPE
    assert feeds.get_feed(client, submission.feed_id)["processingStatus"] == "IN_QUEUE"
    server.advance(61)
    assert (
        feeds.get_feed(client, submission.feed_id)["processingStatus"] == "IN_PROGRESS"
    )
    before = _refunds(server, seller, order)
    server.advance(121)
    feed = feeds.get_feed(client, submission.feed_id)
    assert feed["processingStatus"] == "DONE"
    report = feeds.parse_processing_report(
        feeds.get_feed_document(client, feed["resultFeedDocumentId"])
    )
    assert report.successful == len(order["orderItems"])
    assert report.with_error == 0
    refunds = _refunds(server, seller, order)
    assert len(refunds) - len(before) == len(order["orderItems"])
    assert refunds[-1]["totalAmount"]["currencyAmount"] == -1.5


def test_chosen_messages_fail(server, client, order):
    server.configure_feeds(fail_messages={1: "Amount exceeds the refundable amount"})
    submission = feeds.submit_feed(client, _document(order), [DE])
    server.advance(400)
    feed = feeds.get_feed(client, submission.feed_id)
    report = feeds.parse_processing_report(
        feeds.get_feed_document(client, feed["resultFeedDocumentId"])
    )
    assert report.errors() == {1: "99001: Amount exceeds the refundable amount"}


def test_fatal_and_count_only(server, client, order):
    server.configure_feeds(fatal="The feed could not be processed")
    fatal = feeds.submit_feed(client, _document(order), [DE])
    server.configure_feeds(count_only=True, fail_messages={1: "bad"})
    counted = feeds.submit_feed(client, _document(order), [DE])
    server.advance(400)
    first = feeds.get_feed(client, fatal.feed_id)
    assert first["processingStatus"] == "FATAL"
    report = feeds.parse_processing_report(
        feeds.get_feed_document(client, first["resultFeedDocumentId"])
    )
    assert report.unnamed_failure
    second = feeds.get_feed(client, counted.feed_id)
    report = feeds.parse_processing_report(
        feeds.get_feed_document(client, second["resultFeedDocumentId"])
    )
    assert report.with_error == 1 and report.errors() == {}
    assert report.unnamed_failure


def test_malformed_message_fails_in_the_report(server, client, order):
    content = _document(order).replace(b"<Type>Principal</Type>", b"<Type>Bad</Type>")
    submission = feeds.submit_feed(client, content, [DE])
    server.advance(400)
    feed = feeds.get_feed(client, submission.feed_id)
    report = feeds.parse_processing_report(
        feeds.get_feed_document(client, feed["resultFeedDocumentId"])
    )
    assert 1 in report.errors() and "Bad" in report.errors()[1]


def test_unknown_order_item_fails(server, client, order):
    items = [_item("99999999999999", [("Principal", "1.00")])]
    submission = feeds.submit_feed(client, _document(order, items), [DE])
    server.advance(400)
    feed = feeds.get_feed(client, submission.feed_id)
    report = feeds.parse_processing_report(
        feeds.get_feed_document(client, feed["resultFeedDocumentId"])
    )
    assert "18030" in report.errors()[1]


def test_create_feed_refused(server, client, order):
    server.configure_feeds(refuse="Invalid feed for this seller")
    with pytest.raises(layer.AmazonInvalidInput, match="Invalid feed for this seller"):
        feeds.submit_feed(client, _document(order), [DE])


def test_create_feed_throttled(server, client, order):
    server.inject_fault("createFeed", "throttle", count=3)
    with pytest.raises(layer.AmazonThrottled) as caught:
        feeds.submit_feed(client, _document(order), [DE])
    assert caught.value.operation == "createFeed"
    assert caught.value.retry_after > 0


def test_quota_is_spent_by_our_limiter(server, seller, client, order):
    limiter = client.limiter
    for _ in range(15):
        assert limiter.acquire("createFeed") == 0.0
    with pytest.raises(layer.AmazonThrottled) as caught:
        feeds.submit_feed(client, _document(order), [DE])
    assert 100 < caught.value.retry_after <= 1 / 0.0083 + 1
    assert server.call_count("createFeed") == 0


def test_expired_upload_url_is_asked_again(server, client, order):
    server.configure_feeds(expire_uploads=1)
    submission = feeds.submit_feed(client, _document(order), [DE])
    assert submission.feed_id
    assert server.call_count("createFeedDocument") == 2
    server.configure_feeds(expire_uploads=2)
    with pytest.raises(layer.AmazonInvalidInput, match="Request has expired"):
        feeds.submit_feed(client, _document(order), [DE])


def test_upload_needs_the_content_type_given(server, client):
    response = client.call(
        "createFeedDocument",
        feeds._FeedsApi,
        "create_feed_document",
        None,
        "text/xml; charset=UTF-8",
    )
    answer = httpx.put(
        response.payload["url"], content=b"<x/>", headers={"Content-Type": "text/tsv"}
    )
    assert answer.status_code == 403
    assert b"SignatureDoesNotMatch" in answer.content


def test_feed_needs_an_uploaded_document(server, client):
    response = client.call(
        "createFeedDocument",
        feeds._FeedsApi,
        "create_feed_document",
        None,
        "text/xml; charset=UTF-8",
    )
    with pytest.raises(layer.AmazonInvalidInput, match="not been uploaded"):
        client.call(
            "createFeed",
            feeds._FeedsApi,
            "create_feed",
            feeds.PAYMENT_ADJUSTMENT,
            response.payload["feedDocumentId"],
            marketplaceIds=[DE],
        )


def test_str_content_is_refused(client):
    with pytest.raises(layer.AmazonInvalidInput, match="bytes"):
        feeds.submit_feed(client, "<x/>", [DE])


def test_sandbox_validator_refuses_a_broken_envelope():
    messages, fatal = sandbox_feeds.validate_adjustment(b"<AmazonEnvelope/>")
    assert not messages and "MerchantIdentifier" in fatal
    messages, fatal = sandbox_feeds.validate_adjustment(b"not xml")
    assert "XML" in fatal
