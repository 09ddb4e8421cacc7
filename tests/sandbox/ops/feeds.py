"""Feeds 2021-06-30: documents, feeds, processing reports.

- POST /feeds/2021-06-30/documents (createFeedDocument): a feedDocumentId
  and a presigned upload URL on this server, valid five minutes of sandbox
  time. PUT to it with the contentType given uploads the document's bytes;
  an expired URL answers 403 as S3 does (an XML body), another content type
  403 SignatureDoesNotMatch.
- POST /feeds/2021-06-30/feeds (createFeed): feedType, marketplaceIds (the
  seller's), inputFeedDocumentId (uploaded); answers 202 with the feedId.
- GET /feeds/2021-06-30/feeds/{feedId} (getFeed): IN_QUEUE for
  ``queue_seconds`` after creation, then IN_PROGRESS for
  ``processing_seconds``, then DONE (or FATAL) with resultFeedDocumentId;
  the time is the sandbox clock's.
- GET /feeds/2021-06-30/documents/{feedDocumentId} (getFeedDocument): the
  download URL of a document; the processing report is XML.

A POST_PAYMENT_ADJUSTMENT_DATA document is checked against the
OrderAdjustment message shape when its feed is processed: a document that is
no AmazonEnvelope of OrderAdjustment messages makes the feed FATAL, a
message that breaks the shape or names an order or item the seller does not
have fails with Amazon's kind of error. Each adjustment Amazon accepts
becomes a Refund transaction of listTransactions, posted when the feed is
done (listed after the finances listing lag).

Controls (Python: server.feeds_control(); HTTP: /_sandbox/feeds): fail
chosen message ids of the next feed, make the next feed FATAL, report
errors by count only, expire upload URLs, refuse the next createFeed with
400, set queue and processing times.
"""

import re
import secrets
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from ..marketplaces import MARKETPLACES
from ..routing import ApiError, Reply, Route, invalid_input
from ..timeutil import format_time
from . import finances

CREATE_DOCUMENT = "createFeedDocument"
CREATE_FEED = "createFeed"
GET_FEED = "getFeed"
GET_DOCUMENT = "getFeedDocument"
UPLOAD = "uploadFeedDocument"
DOWNLOAD = "downloadFeedDocument"
BASE = "/feeds/2021-06-30"
UPLOAD_PATH = "/feed-documents/upload/{token}"
DOWNLOAD_PATH = "/feed-documents/download/{token}"
URL_LIFETIME = 300.0
PAYMENT_ADJUSTMENT = "POST_PAYMENT_ADJUSTMENT_DATA"
FEED_TYPES = (
    PAYMENT_ADJUSTMENT,
    "POST_ORDER_FULFILLMENT_DATA",
    "POST_ORDER_ACKNOWLEDGEMENT_DATA",
    "POST_FLAT_FILE_FULFILLMENT_DATA",
    "JSON_LISTINGS_FEED",
)
COMPONENT_TYPES = (
    "Principal",
    "Shipping",
    "CODFee",
    "Tax",
    "ShippingTax",
    "RestockingFee",
    "RestockingFeeTax",
    "GiftWrap",
    "GiftWrapTax",
    "Surcharge",
    "ReturnShipping",
    "Goodwill",
    "ExportCharge",
    "COD",
    "CODTax",
    "Other",
    "FreeReplacementReturnShipping",
)
REASONS = (
    "NoInventory",
    "CustomerReturn",
    "GeneralAdjustment",
    "CouldNotShip",
    "DifferentItem",
    "Abandoned",
    "CustomerCancel",
    "PriceError",
    "ProductOutofStock",
    "CustomerAddressIncorrect",
    "Exchange",
    "Other",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "TransactionRecord",
    "Undeliverable",
    "RefusedDelivery",
)
# Component type -> the charge type of the Refund transaction, and its sign
# from the seller's side (a restocking fee is kept from the buyer).
LEDGER_TYPES = {
    "Principal": ("OurPricePrincipal", -1),
    "Tax": ("OurPriceTax", -1),
    "Shipping": ("ShippingPrincipal", -1),
    "ShippingTax": ("ShippingTax", -1),
    "GiftWrap": ("GiftwrapPrincipal", -1),
    "GiftWrapTax": ("GiftwrapTax", -1),
    "Goodwill": ("GoodwillPrincipal", -1),
    "RestockingFee": ("RestockingFee", 1),
    "RestockingFeeTax": ("RestockingDeductionTax", 1),
}
AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,2})?$")
SCHEMA_ERROR = "5000"
ORDER_NOT_FOUND = "18028"
ITEM_NOT_FOUND = "18030"


@dataclass
class Document:
    document_id: str
    seller_id: str
    content_type: str
    token: str
    expires: float
    content: bytes = None


@dataclass
class Feed:
    feed_id: str
    seller_id: str
    feed_type: str
    marketplace_ids: list
    document_id: str
    created: float
    queue_seconds: float
    processing_seconds: float
    fail_messages: dict = field(default_factory=dict)
    fatal: str = None
    count_only: bool = False
    result_document_id: str = None
    processed: bool = False
    refunds: list = field(default_factory=list)


@dataclass
class FeedOptions:
    queue_seconds: float = 60.0
    processing_seconds: float = 120.0
    next_fail_messages: dict = field(default_factory=dict)
    next_fatal: str = None
    next_count_only: bool = False
    next_refusal: str = None
    expire_next_uploads: int = 0
    posting_offset: float = 0.0


class FeedBook:
    def __init__(self):
        self.lock = threading.RLock()
        self.documents = {}
        self.tokens = {}
        self.downloads = {}
        self.feeds = {}
        self.options = FeedOptions()
        self.counter = 0


def book(server):
    """The server's feeds state (created on first use)."""
    state = server.state
    with state.lock:
        found = getattr(state, "feed_book", None)
        if found is None:
            found = state.feed_book = FeedBook()
        return found


def _seconds(server):
    return server.clock.time()


def _moment(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc)


def _number(feeds, digits=11):
    feeds.counter += 1
    return f"{5000000000 + feeds.counter * 7919:0{digits}d}"


# -- operations ------------------------------------------------------------------


def create_feed_document(server, request):
    try:
        body = request.json()
    except ValueError:
        raise invalid_input("The request body is not JSON.") from None
    content_type = body.get("contentType") if isinstance(body, dict) else None
    if not isinstance(content_type, str) or not content_type.strip():
        raise invalid_input("contentType is required.", "contentType")
    feeds = book(server)
    with feeds.lock:
        document_id = f"amzn1.tortuga.4.eu.{secrets.token_hex(8)}.T{feeds.counter}"
        feeds.counter += 1
        token = secrets.token_urlsafe(18)
        expires = _seconds(server) + URL_LIFETIME
        if feeds.options.expire_next_uploads > 0:
            feeds.options.expire_next_uploads -= 1
            expires = _seconds(server) - 1.0
        document = Document(
            document_id, request.seller.seller_id, content_type, token, expires
        )
        feeds.documents[document_id] = document
        feeds.tokens[token] = document
    url = (
        server.url
        + UPLOAD_PATH.format(token=token)
        + f"?X-Amz-Expires={int(URL_LIFETIME)}"
    )
    return Reply(201, {"feedDocumentId": document_id, "url": url})


def _s3_error(status, code, message):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    ).encode()
    return Reply(status, raw=body, content_type="application/xml")


def upload(server, request):
    feeds = book(server)
    with feeds.lock:
        document = feeds.tokens.get(request.path_params["token"])
        if document is None:
            return _s3_error(404, "NoSuchUpload", "The upload URL is not known.")
        if _seconds(server) > document.expires:
            return _s3_error(403, "AccessDenied", "Request has expired")
        given = request.headers.get("Content-Type") or ""
        if given.strip().lower() != document.content_type.strip().lower():
            return _s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature "
                "you provided (Content-Type).",
            )
        document.content = bytes(request.body)
    return Reply(200, raw=b"", content_type="text/plain")


def create_feed(server, request):
    try:
        body = request.json()
    except ValueError:
        raise invalid_input("The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise invalid_input("The request body must be a JSON object.")
    feeds = book(server)
    seller = request.seller
    with feeds.lock:
        if feeds.options.next_refusal:
            message, feeds.options.next_refusal = feeds.options.next_refusal, None
            raise invalid_input(message)
        feed_type = body.get("feedType")
        if feed_type not in FEED_TYPES:
            raise invalid_input(f"Invalid feedType {feed_type!r}.", "feedType")
        marketplaces = body.get("marketplaceIds")
        if not isinstance(marketplaces, list) or not marketplaces:
            raise invalid_input("marketplaceIds is required.", "marketplaceIds")
        for marketplace in marketplaces:
            if marketplace not in seller.marketplaces:
                raise invalid_input(
                    f"The seller does not participate in marketplace {marketplace}.",
                    "marketplaceIds",
                )
        document = feeds.documents.get(body.get("inputFeedDocumentId"))
        if document is None or document.seller_id != seller.seller_id:
            raise invalid_input(
                "inputFeedDocumentId names no feed document of the seller.",
                "inputFeedDocumentId",
            )
        if document.content is None:
            raise invalid_input(
                "The feed document has not been uploaded.", "inputFeedDocumentId"
            )
        options = feeds.options
        feed = Feed(
            feed_id=_number(feeds),
            seller_id=seller.seller_id,
            feed_type=feed_type,
            marketplace_ids=list(marketplaces),
            document_id=document.document_id,
            created=_seconds(server),
            queue_seconds=options.queue_seconds,
            processing_seconds=options.processing_seconds,
            fail_messages=dict(options.next_fail_messages),
            fatal=options.next_fatal,
            count_only=options.next_count_only,
        )
        options.next_fail_messages, options.next_fatal = {}, None
        options.next_count_only = False
        feeds.feeds[feed.feed_id] = feed
    return Reply(202, {"feedId": feed.feed_id})


def _status(feed, now):
    if now < feed.created + feed.queue_seconds:
        return "IN_QUEUE"
    if now < feed.created + feed.queue_seconds + feed.processing_seconds:
        return "IN_PROGRESS"
    return "FATAL" if feed.fatal else "DONE"


def _feed_of(server, request):
    feeds = book(server)
    feed = feeds.feeds.get(request.path_params["feedId"])
    if feed is None or feed.seller_id != request.seller.seller_id:
        raise ApiError(404, "NotFound", "The feed was not found.")
    return feeds, feed


def get_feed(server, request):
    feeds, feed = _feed_of(server, request)
    now = _seconds(server)
    with feeds.lock:
        status = _status(feed, now)
        if status in ("DONE", "FATAL") and not feed.processed:
            process(server, feeds, feed)
    body = {
        "feedId": feed.feed_id,
        "feedType": feed.feed_type,
        "marketplaceIds": feed.marketplace_ids,
        "createdTime": format_time(_moment(feed.created)),
        "processingStatus": status,
    }
    if status != "IN_QUEUE":
        body["processingStartTime"] = format_time(
            _moment(feed.created + feed.queue_seconds)
        )
    if status in ("DONE", "FATAL"):
        body["processingEndTime"] = format_time(_moment(_end(feed)))
        body["resultFeedDocumentId"] = feed.result_document_id
    return Reply(200, body)


def _end(feed):
    return feed.created + feed.queue_seconds + feed.processing_seconds


def get_feed_document(server, request):
    feeds = book(server)
    with feeds.lock:
        document = feeds.documents.get(request.path_params["feedDocumentId"])
        if document is None or document.seller_id != request.seller.seller_id:
            raise ApiError(404, "NotFound", "The feed document was not found.")
        token = secrets.token_urlsafe(18)
        feeds.downloads[token] = (document, _seconds(server) + URL_LIFETIME)
    url = server.url + DOWNLOAD_PATH.format(token=token)
    return Reply(200, {"feedDocumentId": document.document_id, "url": url})


def download(server, request):
    feeds = book(server)
    with feeds.lock:
        found = feeds.downloads.get(request.path_params["token"])
    if found is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    document, expires = found
    if _seconds(server) > expires:
        return _s3_error(403, "AccessDenied", "Request has expired")
    return Reply(200, raw=document.content or b"", content_type=document.content_type)


# -- processing --------------------------------------------------------------------


@dataclass
class _Message:
    message_id: int
    order_id: str = None
    item_id: str = None
    reason: str = None
    currency: str = None
    components: list = field(default_factory=list)
    quantity: int = None
    problem: tuple = None  # (result message code, description)


def _kids(node, name):
    return [child for child in node if child.tag == name]


def _text(node, name):
    found = node.find(name)
    return (found.text or "").strip() if found is not None and found.text else ""


def validate_adjustment(content):
    """``(messages, fatal)``: the parsed messages, each with the problem of
    its shape if any; ``fatal`` is the reason the whole document is refused."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as error:
        return [], f"XML parsing error: {error}"
    if root.tag != "AmazonEnvelope":
        return [], "The root element must be AmazonEnvelope."
    header = root.find("Header")
    if header is None or not _text(header, "MerchantIdentifier"):
        return [], "The Header with a MerchantIdentifier is missing."
    if _text(root, "MessageType") != "OrderAdjustment":
        return [], "MessageType must be OrderAdjustment for this feed type."
    messages = []
    nodes = _kids(root, "Message")
    if not nodes:
        return [], "The envelope holds no Message."
    expected_order = ["Header", "MessageType"] + ["Message"] * len(nodes)
    if [child.tag for child in root] != expected_order:
        return [], "The envelope's elements are not in the order of its schema."
    seen = set()
    for node in nodes:
        number = _text(node, "MessageID")
        if not number.isdigit() or int(number) < 1 or number in seen:
            return [], "Each Message needs a unique positive MessageID."
        seen.add(number)
        message = _Message(int(number))
        messages.append(message)
        message.problem = _message_problem(node, message)
    return messages, None


def _schema(message):
    return (SCHEMA_ERROR, f"XML Parsing Error: {message}")


def _message_problem(node, message):
    tags = [child.tag for child in node]
    if tags != ["MessageID", "OrderAdjustment"]:
        return _schema("a Message holds MessageID and OrderAdjustment.")
    adjustment = node.find("OrderAdjustment")
    tags = [child.tag for child in adjustment]
    if not tags or tags[0] != "AmazonOrderID":
        return _schema("AmazonOrderID is missing.")
    message.order_id = _text(adjustment, "AmazonOrderID")
    rest = tags[1:]
    if rest[:1] == ["ActionType"]:
        if _text(adjustment, "ActionType") not in ("Refund", "Cancel"):
            return _schema("ActionType must be Refund or Cancel.")
        rest = rest[1:]
    if not rest or set(rest) != {"AdjustedItem"}:
        return _schema("AdjustedItem is missing or out of place.")
    items = _kids(adjustment, "AdjustedItem")
    if len(items) != 1:
        # The sandbox keeps one item per message, which is what the
        # connector sends; several are valid for Amazon.
        return _schema("the sandbox expects one AdjustedItem per message.")
    return _item_problem(items[0], message)


def _item_problem(item, message):
    order = [child.tag for child in item]
    allowed = [
        "AmazonOrderItemCode",
        "MerchantAdjustmentItemID",
        "AdjustmentReason",
        "ItemPriceAdjustments",
        "Quantity",
    ]
    positions = [allowed.index(tag) if tag in allowed else -1 for tag in order]
    if (
        -1 in positions
        or positions != sorted(positions)
        or len(set(order)) != len(order)
    ):
        return _schema("the elements of AdjustedItem are not those of its schema.")
    for required in ("AmazonOrderItemCode", "AdjustmentReason", "ItemPriceAdjustments"):
        if required not in order:
            return _schema(f"{required} is missing.")
    message.item_id = _text(item, "AmazonOrderItemCode")
    message.reason = _text(item, "AdjustmentReason")
    if message.reason not in REASONS:
        return _schema(f"AdjustmentReason {message.reason!r} is not allowed.")
    if "Quantity" in order:
        quantity = _text(item, "Quantity")
        if not quantity.isdigit() or int(quantity) < 1:
            return _schema("Quantity must be a positive integer.")
        message.quantity = int(quantity)
    return _components_problem(item.find("ItemPriceAdjustments"), message)


def _components_problem(prices, message):
    components = _kids(prices, "Component")
    if not components or len(components) != len(prices):
        return _schema("ItemPriceAdjustments needs at least one Component.")
    for component in components:
        if [child.tag for child in component] != ["Type", "Amount"]:
            return _schema("a Component holds Type and Amount.")
        kind = _text(component, "Type")
        if kind not in COMPONENT_TYPES:
            return _schema(f"component type {kind!r} is not allowed.")
        amount = component.find("Amount")
        currency = amount.get("currency") or ""
        text = (amount.text or "").strip()
        if not re.match(r"^[A-Z]{3}$", currency) or not AMOUNT.match(text):
            return _schema(f"the Amount of {kind} is not a currency amount.")
        if message.currency and currency != message.currency:
            return _schema("the components of an item are in one currency.")
        message.currency = currency
        try:
            message.components.append((kind, Decimal(text)))
        except InvalidOperation:
            return _schema(f"the Amount of {kind} is not a number.")
    return None


def _order_problem(server, feed, message):
    """Amazon's error for an adjustment the seller's orders do not allow."""
    try:
        _owner, stored = server.state.stored(message.order_id, feed.seller_id)
    except (KeyError, LookupError, ValueError):
        return (ORDER_NOT_FOUND, f"The order id {message.order_id} was not found.")
    order = stored.order
    items = {item["orderItemId"]: item for item in order.get("orderItems") or ()}
    if message.item_id not in items:
        return (
            ITEM_NOT_FOUND,
            f"The order item code {message.item_id} was not found in order "
            f"{message.order_id}.",
        )
    marketplace = (order.get("salesChannel") or {}).get("marketplaceId")
    currency = MARKETPLACES.get(marketplace, {}).get("currency")
    if currency and message.currency != currency:
        return (
            "18036",
            f"The currency {message.currency} is not the order's currency {currency}.",
        )
    return None


def process(server, feeds, feed):
    """Write the feed's processing report; book the adjustments it accepts."""
    feed.processed = True
    document = feeds.documents[feed.document_id]
    messages, fatal = [], feed.fatal
    if not fatal and feed.feed_type == PAYMENT_ADJUSTMENT:
        messages, fatal = validate_adjustment(document.content or b"")
    results = []
    accepted = []
    for message in messages:
        problem = (
            message.problem
            or (
                ("99001", feed.fail_messages[message.message_id])
                if message.message_id in feed.fail_messages
                else None
            )
            or _order_problem(server, feed, message)
        )
        if problem:
            results.append((message.message_id, problem))
        else:
            accepted.append(message)
    if fatal:
        feed.fatal = fatal
        report = _report(
            feed, len(messages), 0, max(len(messages), 1), [(0, ("5001", fatal))]
        )
    else:
        errors = [] if feed.count_only else results
        report = _report(feed, len(messages), len(accepted), len(results), errors)
        for message in accepted:
            feed.refunds.append(_book_refund(server, feeds, feed, message))
    result = Document(
        f"amzn1.tortuga.4.eu.{secrets.token_hex(8)}.R{feed.feed_id}",
        feed.seller_id,
        "text/xml; charset=UTF-8",
        secrets.token_urlsafe(18),
        0.0,
        report.encode("utf-8"),
    )
    feeds.documents[result.document_id] = result
    feed.result_document_id = result.document_id


def _report(feed, processed, successful, with_error, errors):
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">',
        "<Header><DocumentVersion>1.02</DocumentVersion>"
        f"<MerchantIdentifier>{escape(feed.seller_id)}</MerchantIdentifier></Header>",
        "<MessageType>ProcessingReport</MessageType>",
        "<Message><MessageID>1</MessageID><ProcessingReport>",
        f"<DocumentTransactionID>{feed.feed_id}</DocumentTransactionID>",
        "<StatusCode>Complete</StatusCode>",
        "<ProcessingSummary>",
        f"<MessagesProcessed>{processed}</MessagesProcessed>",
        f"<MessagesSuccessful>{successful}</MessagesSuccessful>",
        f"<MessagesWithError>{with_error}</MessagesWithError>",
        "<MessagesWithWarning>0</MessagesWithWarning>",
        "</ProcessingSummary>",
    ]
    for message_id, (code, description) in errors:
        lines.append(
            f"<Result><MessageID>{message_id}</MessageID><ResultCode>Error</ResultCode>"
            f"<ResultMessageCode>{escape(code)}</ResultMessageCode>"
            f"<ResultDescription>{escape(description)}</ResultDescription></Result>"
        )
    lines.append("</ProcessingReport></Message></AmazonEnvelope>")
    return "\n".join(lines)


def _book_refund(server, feeds, feed, message):
    """The Refund transaction of an accepted adjustment, posted when the
    sandbox processes the feed."""
    _owner, stored = server.state.stored(message.order_id, feed.seller_id)
    order = stored.order
    item = next(i for i in order["orderItems"] if i["orderItemId"] == message.item_id)
    product = item.get("product") or {}
    amounts = {}
    for kind, amount in message.components:
        name, sign = LEDGER_TYPES.get(kind, (kind, -1))
        amounts[name] = amounts.get(name, Decimal(0)) + sign * amount
    amounts = {k: str(v) for k, v in amounts.items() if v}
    marketplace = (order.get("salesChannel") or {}).get("marketplaceId")
    return finances.post_refund(
        server,
        message.order_id,
        marketplace,
        [
            {
                "orderItemId": message.item_id,
                "sellerSku": product.get("sellerSku"),
                "asin": product.get("asin"),
                "title": product.get("title"),
                "quantity": message.quantity or 0,
                "amounts": amounts,
            }
        ],
        kind="RETURN",
        seller_id=feed.seller_id,
        posted=server.now() + timedelta(seconds=feeds.options.posting_offset),
        reason=message.reason,
        network="MFN",
    )


# -- controls ------------------------------------------------------------------------


def configure(server, **changes):
    """Change the feeds' options: queue_seconds, processing_seconds (later
    feeds), fail_messages ({message id: description}, next feed), fatal
    (description, next feed), count_only (next feed reports errors by count
    only), refuse (message of a 400 to the next createFeed),
    expire_uploads (the next n documents get an expired upload URL);
    posting_offset (seconds added to the processing time for the postedDate
    of the refunds feeds book: negative dates them back, for a reader that
    only sees postings older than Amazon's two minutes); reset (first back
    to the defaults)."""
    feeds = book(server)
    known = {
        "queue_seconds",
        "processing_seconds",
        "fail_messages",
        "fatal",
        "count_only",
        "refuse",
        "expire_uploads",
        "reset",
        "posting_offset",
    }
    unknown = set(changes) - known
    if unknown:
        raise ValueError(f"unknown feed option(s): {', '.join(sorted(unknown))}")
    with feeds.lock:
        if changes.get("reset"):
            feeds.options = FeedOptions()
        options = feeds.options
        if "queue_seconds" in changes:
            options.queue_seconds = float(changes["queue_seconds"])
        if "processing_seconds" in changes:
            options.processing_seconds = float(changes["processing_seconds"])
        if changes.get("fail_messages"):
            options.next_fail_messages = {
                int(k): str(v) for k, v in changes["fail_messages"].items()
            }
        if changes.get("fatal"):
            options.next_fatal = str(changes["fatal"])
        if "count_only" in changes:
            options.next_count_only = bool(changes["count_only"])
        if changes.get("refuse"):
            options.next_refusal = str(changes["refuse"])
        if "posting_offset" in changes:
            options.posting_offset = float(changes["posting_offset"])
        if "expire_uploads" in changes:
            options.expire_next_uploads = int(changes["expire_uploads"])
        return {
            "queue_seconds": options.queue_seconds,
            "processing_seconds": options.processing_seconds,
        }


def feed_info(server, feed_id):
    """What the sandbox holds of a feed: its document and the refunds it booked."""
    feeds = book(server)
    with feeds.lock:
        feed = feeds.feeds[feed_id]
        document = feeds.documents[feed.document_id]
        return {
            "feedId": feed.feed_id,
            "feedType": feed.feed_type,
            "document": (document.content or b"").decode("utf-8", "replace"),
            "contentType": document.content_type,
            "refunds": list(feed.refunds),
        }


def finish_feeds(server):
    """Process every feed whose time has come (as getFeed would)."""
    feeds = book(server)
    now = _seconds(server)
    with feeds.lock:
        for feed in feeds.feeds.values():
            if not feed.processed and _status(feed, now) in ("DONE", "FATAL"):
                process(server, feeds, feed)


def _control_configure(server, request):
    data = request.json() if request.body else {}
    if not isinstance(data, dict):
        return Reply(400, {"error": "the body must be a JSON object"})
    try:
        return Reply(200, {"options": configure(server, **data)})
    except (TypeError, ValueError) as error:
        return Reply(400, {"error": str(error)})


def _control_feed(server, request):
    try:
        return Reply(200, feed_info(server, request.path_params["feedId"]))
    except KeyError:
        return Reply(404, {"error": "not found: feed"})


ROUTES = [
    Route(
        "POST",
        f"{BASE}/documents",
        CREATE_DOCUMENT,
        create_feed_document,
        rate=0.5,
        burst=15,
    ),
    Route("POST", f"{BASE}/feeds", CREATE_FEED, create_feed, rate=0.0083, burst=15),
    Route("GET", f"{BASE}/feeds/{{feedId}}", GET_FEED, get_feed, rate=2.0, burst=15),
    Route(
        "GET",
        f"{BASE}/documents/{{feedDocumentId}}",
        GET_DOCUMENT,
        get_feed_document,
        rate=0.0222,
        burst=10,
    ),
    Route("PUT", UPLOAD_PATH, UPLOAD, upload, kind="upload"),
    Route("GET", DOWNLOAD_PATH, DOWNLOAD, download, kind="upload"),
    Route(
        "POST",
        "/_sandbox/feeds",
        "control.configureFeeds",
        _control_configure,
        kind="control",
    ),
    Route(
        "GET",
        "/_sandbox/feeds/{feedId}",
        "control.getFeed",
        _control_feed,
        kind="control",
    ),
]
