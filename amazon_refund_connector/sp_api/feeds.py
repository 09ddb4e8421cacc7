"""Feeds 2021-06-30: the payment adjustment feed and its processing report.

A refund of a merchant-fulfilled order goes to Amazon as a
``POST_PAYMENT_ADJUSTMENT_DATA`` feed (XML only): an ``AmazonEnvelope`` of
``OrderAdjustment`` messages. Each message here adjusts one order item, so
that the processing report, which names the messages it failed, tells which
items Amazon refused.

Sending a feed is three steps: ``createFeedDocument`` (a presigned upload
URL, valid five minutes), the upload of the document's bytes with the same
content type, ``createFeed``. Amazon then processes it asynchronously:
``getFeed`` moves IN_QUEUE -> IN_PROGRESS -> DONE (or FATAL, CANCELLED), and
a DONE or FATAL feed names its processing report (``resultFeedDocumentId``),
read with ``getFeedDocument``.
"""

import io
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from json import JSONDecodeError

from lxml import etree
from sp_api.api import FeedsV20210630
from sp_api.base import exceptions as sp_exceptions

from .errors import AmazonInvalidInput, AmazonServerError

PAYMENT_ADJUSTMENT = "POST_PAYMENT_ADJUSTMENT_DATA"
XML_CONTENT_TYPE = "text/xml; charset=UTF-8"
DOCUMENT_VERSION = "1.01"

# BuyerPrice/Component/Type of Amazon's OrderAdjustment message (amzn-base).
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
# OrderAdjustment/AdjustedItem/AdjustmentReason.
ADJUSTMENT_REASONS = (
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
ACTION_TYPES = ("Refund", "Cancel")
FEED_STATUSES = ("IN_QUEUE", "IN_PROGRESS", "DONE", "FATAL", "CANCELLED")
FINAL_STATUSES = ("DONE", "FATAL", "CANCELLED")

ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
# CurrencyAmount: a decimal of at most 20 digits, 2 of them after the point.
AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,2})?$")
# Amazon's order item codes are numbers.
ITEM_CODE = re.compile(r"^\d{1,30}$")


@dataclass
class Component:
    """An amount of an adjusted item: Amazon's component type and amount."""

    type: str
    amount: Decimal


@dataclass
class AdjustedItem:
    """One order item refunded: its components and the reason."""

    order_item_id: str
    reason: str
    components: list = field(default_factory=list)
    quantity: int = None
    merchant_adjustment_id: str = None


def _amount_text(amount, digits):
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise AmazonInvalidInput(f"{amount!r} is not an amount.") from None
    if not value.is_finite():
        raise AmazonInvalidInput(f"{amount!r} is not an amount.")
    quantum = Decimal(1).scaleb(-min(int(digits), 2))
    return str(value.quantize(quantum, rounding=ROUND_HALF_UP))


def build_adjustment_feed(merchant_id, order_id, currency, items, digits=2):
    """The feed document (bytes, UTF-8) refunding ``items`` of ``order_id``.

    One ``Message`` per :class:`AdjustedItem`, numbered from 1 in the order
    given. Raises :class:`AmazonInvalidInput` for what Amazon's message shape
    refuses (the document is checked with :func:`check_adjustment_shape`).
    """
    root = etree.Element("AmazonEnvelope")
    root.set(
        "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation",
        "amzn-envelope.xsd",
    )
    header = etree.SubElement(root, "Header")
    etree.SubElement(header, "DocumentVersion").text = DOCUMENT_VERSION
    etree.SubElement(header, "MerchantIdentifier").text = merchant_id or ""
    etree.SubElement(root, "MessageType").text = "OrderAdjustment"
    for number, item in enumerate(items, start=1):
        message = etree.SubElement(root, "Message")
        etree.SubElement(message, "MessageID").text = str(number)
        adjustment = etree.SubElement(message, "OrderAdjustment")
        etree.SubElement(adjustment, "AmazonOrderID").text = order_id or ""
        etree.SubElement(adjustment, "ActionType").text = "Refund"
        adjusted = etree.SubElement(adjustment, "AdjustedItem")
        etree.SubElement(adjusted, "AmazonOrderItemCode").text = str(
            item.order_item_id or ""
        )
        if item.merchant_adjustment_id:
            etree.SubElement(adjusted, "MerchantAdjustmentItemID").text = str(
                item.merchant_adjustment_id
            )
        etree.SubElement(adjusted, "AdjustmentReason").text = item.reason or ""
        prices = etree.SubElement(adjusted, "ItemPriceAdjustments")
        for component in item.components:
            node = etree.SubElement(prices, "Component")
            etree.SubElement(node, "Type").text = component.type
            amount = etree.SubElement(node, "Amount")
            amount.set("currency", currency or "")
            amount.text = _amount_text(component.amount, digits)
        if item.quantity:
            etree.SubElement(adjusted, "Quantity").text = str(int(item.quantity))
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    problems = check_adjustment_shape(content)
    if problems:
        raise AmazonInvalidInput(
            "The refund does not fit Amazon's adjustment feed: " + " ".join(problems)
        )
    return content


def _children(node):
    return [child for child in node if isinstance(child.tag, str)]


def _expect_sequence(node, names, where, problems):
    """Check the children of ``node`` follow ``names`` = [(name, min, max)]."""
    children = _children(node)
    index = 0
    found = {}
    for name, low, high in names:
        count = 0
        while index < len(children) and children[index].tag == name:
            found.setdefault(name, []).append(children[index])
            count += 1
            index += 1
        if count < low:
            problems.append(f"{where}: {name} is missing.")
        if high is not None and count > high:
            problems.append(f"{where}: {name} may appear at most {high} time(s).")
    for child in children[index:]:
        problems.append(f"{where}: {child.tag} is not expected here.")
    return found


def check_adjustment_shape(content):
    """Problems of an OrderAdjustment feed document against Amazon's message
    shape (amzn-envelope.xsd with OrderAdjustment.xsd): a list of sentences,
    empty when the document fits."""
    problems = []
    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False))
    except (etree.XMLSyntaxError, ValueError) as error:
        return [f"The document is not XML: {error}."]
    if root.tag != "AmazonEnvelope":
        return ["The document is not an AmazonEnvelope."]
    top = _expect_sequence(
        root,
        [("Header", 1, 1), ("MessageType", 1, 1), ("Message", 1, None)],
        "AmazonEnvelope",
        problems,
    )
    for header in top.get("Header", []):
        parts = _expect_sequence(
            header,
            [("DocumentVersion", 1, 1), ("MerchantIdentifier", 1, 1)],
            "Header",
            problems,
        )
        for merchant in parts.get("MerchantIdentifier", []):
            if not (merchant.text or "").strip():
                problems.append("Header: MerchantIdentifier is empty.")
    for kind in top.get("MessageType", []):
        if (kind.text or "").strip() != "OrderAdjustment":
            problems.append("MessageType must be OrderAdjustment.")
    seen = set()
    for message in top.get("Message", []):
        parts = _expect_sequence(
            message,
            [("MessageID", 1, 1), ("OrderAdjustment", 1, 1)],
            "Message",
            problems,
        )
        where = "Message"
        for number in parts.get("MessageID", []):
            text = (number.text or "").strip()
            where = f"Message {text}"
            if not text.isdigit() or int(text) < 1:
                problems.append(f"{where}: MessageID must be a positive number.")
            elif text in seen:
                problems.append(f"{where}: MessageID is used twice.")
            seen.add(text)
        for adjustment in parts.get("OrderAdjustment", []):
            _check_adjustment(adjustment, where, problems)
    return problems


def _check_adjustment(adjustment, where, problems):
    parts = _expect_sequence(
        adjustment,
        [("AmazonOrderID", 1, 1), ("ActionType", 0, 1), ("AdjustedItem", 1, None)],
        where,
        problems,
    )
    for order in parts.get("AmazonOrderID", []):
        if not ORDER_ID.match((order.text or "").strip()):
            problems.append(
                f"{where}: AmazonOrderID {order.text!r} is not an Amazon order "
                "number (3-7-7 digits)."
            )
    for action in parts.get("ActionType", []):
        if (action.text or "").strip() not in ACTION_TYPES:
            problems.append(f"{where}: ActionType must be Refund or Cancel.")
    for item in parts.get("AdjustedItem", []):
        _check_item(item, where, problems)


def _check_item(item, where, problems):
    parts = _expect_sequence(
        item,
        [
            ("AmazonOrderItemCode", 1, 1),
            ("MerchantAdjustmentItemID", 0, 1),
            ("AdjustmentReason", 1, 1),
            ("ItemPriceAdjustments", 1, 1),
            ("Quantity", 0, 1),
        ],
        where,
        problems,
    )
    for code in parts.get("AmazonOrderItemCode", []):
        if not ITEM_CODE.match((code.text or "").strip()):
            problems.append(
                f"{where}: AmazonOrderItemCode {code.text!r} is not an order item code."
            )
    for reason in parts.get("AdjustmentReason", []):
        if (reason.text or "").strip() not in ADJUSTMENT_REASONS:
            problems.append(
                f"{where}: AdjustmentReason {reason.text!r} is not one of Amazon's."
            )
    for quantity in parts.get("Quantity", []):
        text = (quantity.text or "").strip()
        if not text.isdigit() or int(text) < 1:
            problems.append(f"{where}: Quantity must be a positive number.")
    for prices in parts.get("ItemPriceAdjustments", []):
        components = _expect_sequence(
            prices, [("Component", 1, None)], where, problems
        ).get("Component", [])
        for component in components:
            _check_component(component, where, problems)


def _check_component(component, where, problems):
    parts = _expect_sequence(
        component, [("Type", 1, 1), ("Amount", 1, 1)], where, problems
    )
    for kind in parts.get("Type", []):
        if (kind.text or "").strip() not in COMPONENT_TYPES:
            problems.append(f"{where}: component type {kind.text!r} is not Amazon's.")
    for amount in parts.get("Amount", []):
        if not CURRENCY.match(amount.get("currency") or ""):
            problems.append(f"{where}: Amount needs a currency code.")
        if not AMOUNT.match((amount.text or "").strip()):
            problems.append(
                f"{where}: Amount {amount.text!r} is not a positive amount with at "
                "most two decimals."
            )


# -- sending and reading feeds ---------------------------------------------------


class _FeedsApi(FeedsV20210630):
    """``sp_api.api.Feeds`` (which dispatches to ``FeedsV20210630``) whose
    document upload tells its own failures apart.

    ``create_feed_document`` creates the document and uploads it in one
    method; a presigned URL that refuses the upload answers like S3 (an XML
    body), which ``sp_api`` cannot read as JSON. The upload's failure is
    reported as an :class:`AmazonInvalidInput` with S3's message.
    """

    def create_and_upload(self, content, content_type, **kwargs):
        reader = _TrackedReader(content)
        try:
            return self.create_feed_document(reader, content_type, **kwargs)
        except (JSONDecodeError, sp_exceptions.SellingApiException) as exc:
            if not reader.read_once:
                raise
            raise AmazonInvalidInput(
                f"The feed document upload was refused: {_upload_error(exc)}",
                code="UploadRefused",
                operation="createFeedDocument",
                status=getattr(exc, "code", None) or 403,
            ) from None

    def read_document(self, document_id):
        """getFeedDocument and the download, as a response with a payload."""
        return _Downloaded(self.get_feed_document(document_id))


class _Downloaded:
    """The text of a downloaded document where the layer expects a response
    (``sp_api`` returns the text alone, without the answer's headers)."""

    headers = None

    def __init__(self, text):
        self.payload = text


class _TrackedReader(io.BytesIO):
    read_once = False

    def read(self, *args):
        self.read_once = True
        return super().read(*args)


def _upload_error(exc):
    text = getattr(exc, "doc", None)
    if text:
        return _s3_message(text)[:300]
    errors = getattr(exc, "error", None) or []
    if isinstance(errors, list):
        return (
            "; ".join(
                str(e.get("message") or e.get("code"))
                for e in errors
                if isinstance(e, dict)
            )
            or "no details given"
        )
    return str(errors)


def _s3_message(text):
    """ "Code: Message" of an S3 error document, else the text as it is."""
    try:
        root = etree.fromstring(text.encode("utf-8"))
    except etree.XMLSyntaxError:
        return text
    parts = [root.findtext("Code"), root.findtext("Message")]
    return ": ".join(p for p in parts if p) or text


@dataclass
class FeedSubmission:
    feed_id: str
    document_id: str


def submit_feed(
    client,
    content,
    marketplace_ids,
    feed_type=PAYMENT_ADJUSTMENT,
    content_type=XML_CONTENT_TYPE,
):
    """createFeedDocument, upload ``content`` (bytes), createFeed.

    Returns a :class:`FeedSubmission`; raises an AmazonError (an
    :class:`~.errors.AmazonThrottled` when a quota is spent). An upload URL
    that expired before the upload is asked for once more.
    """
    if not isinstance(content, bytes):
        # sp_api encodes a str as ISO-8859-1: Japanese text would not survive.
        raise AmazonInvalidInput("A feed document is uploaded as bytes.")
    if not marketplace_ids:
        raise AmazonInvalidInput("A feed needs at least one marketplace.")
    for attempt in (1, 2):
        try:
            response = client.call(
                "createFeedDocument",
                _FeedsApi,
                "create_and_upload",
                content,
                content_type,
            )
            break
        except AmazonInvalidInput as error:
            if error.code != "UploadRefused" or attempt == 2:
                raise
    document = response.payload if isinstance(response.payload, dict) else {}
    document_id = document.get("feedDocumentId")
    if not document_id:
        raise AmazonServerError(
            "Amazon's answer to createFeedDocument holds no feedDocumentId.",
            operation="createFeedDocument",
            code="MalformedResponse",
        )
    response = client.call(
        "createFeed",
        _FeedsApi,
        "create_feed",
        feed_type,
        document_id,
        marketplaceIds=list(marketplace_ids),
    )
    payload = response.payload if isinstance(response.payload, dict) else {}
    if not payload.get("feedId"):
        raise AmazonServerError(
            "Amazon's answer to createFeed holds no feedId.",
            operation="createFeed",
            code="MalformedResponse",
        )
    return FeedSubmission(str(payload["feedId"]), document_id)


def get_feed(client, feed_id):
    """getFeed: the Feed dict (feedId, processingStatus, resultFeedDocumentId)."""
    response = client.call("getFeed", _FeedsApi, "get_feed", feed_id)
    payload = response.payload if isinstance(response.payload, dict) else {}
    if payload.get("processingStatus") not in FEED_STATUSES:
        raise AmazonServerError(
            "Amazon's answer to getFeed holds no known processingStatus.",
            operation="getFeed",
            code="MalformedResponse",
        )
    return payload


def get_feed_document(client, document_id):
    """getFeedDocument and the document's text (a processing report)."""
    text = client.call(
        "getFeedDocument", _FeedsApi, "read_document", document_id
    ).payload
    if not isinstance(text, str):
        raise AmazonServerError(
            "Amazon's feed document could not be read.",
            operation="getFeedDocument",
            code="MalformedResponse",
        )
    return text


# -- processing reports -------------------------------------------------------------


@dataclass
class ReportResult:
    message_id: int
    code: str
    message_code: str
    description: str


@dataclass
class ProcessingReport:
    status: str
    processed: int
    successful: int
    with_error: int
    with_warning: int
    results: list = field(default_factory=list)

    def errors(self):
        """``{message id: description}`` of the messages Amazon failed."""
        found = {}
        for result in self.results:
            if result.code == "Error" and result.message_id:
                text = result.description or result.message_code or ""
                if result.message_code and result.message_code not in text:
                    text = f"{result.message_code}: {text}"
                found.setdefault(result.message_id, []).append(text)
        return {key: "\n".join(texts) for key, texts in found.items()}

    def general_errors(self):
        """Descriptions of errors that name no message (MessageID 0 or none)."""
        return [
            result.description or result.message_code or ""
            for result in self.results
            if result.code == "Error" and not result.message_id
        ]

    @property
    def unnamed_failure(self):
        """Errors Amazon counted but named no message for: every message of
        the feed is to be taken as failed."""
        return bool(self.general_errors()) or (
            self.with_error > 0 and not self.errors()
        )


def _int(text):
    try:
        return int((text or "").strip())
    except ValueError:
        return 0


def parse_processing_report(text):
    """A :class:`ProcessingReport` from Amazon's XML processing report.

    Raises :class:`AmazonServerError` for a document that is not one.
    """
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False))
    except (etree.XMLSyntaxError, ValueError, AttributeError):
        raise AmazonServerError(
            "Amazon's processing report is not XML.",
            operation="getFeedDocument",
            code="MalformedResponse",
        ) from None
    report = root.find(".//ProcessingReport")
    if report is None:
        raise AmazonServerError(
            "Amazon's document holds no ProcessingReport.",
            operation="getFeedDocument",
            code="MalformedResponse",
        )
    summary = report.find("ProcessingSummary")

    def count(name):
        return _int(summary.findtext(name)) if summary is not None else 0

    results = [
        ReportResult(
            message_id=_int(node.findtext("MessageID")),
            code=(node.findtext("ResultCode") or "").strip(),
            message_code=(node.findtext("ResultMessageCode") or "").strip(),
            description=(node.findtext("ResultDescription") or "").strip(),
        )
        for node in report.findall("Result")
    ]
    return ProcessingReport(
        status=(report.findtext("StatusCode") or "").strip(),
        processed=count("MessagesProcessed"),
        successful=count("MessagesSuccessful"),
        with_error=count("MessagesWithError"),
        with_warning=count("MessagesWithWarning"),
        results=results,
    )
