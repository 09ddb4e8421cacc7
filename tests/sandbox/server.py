"""The loopback SP-API sandbox: HTTP server, dispatch and Python control API."""

import copy
import json
import logging
import random
import socket
import struct
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .faults import ANY_OPERATION, FaultQueue
from .generator import generate_orders, set_status, supported_marketplaces
from .ops import default_routes, feeds, finances, reports
from .ops import order_reports as order_report_ops
from .ratelimit import RateLimiter
from .routing import ApiError, Reply, Request, Router
from .state import SandboxState
from .timeutil import SystemClock, as_datetime, floor_seconds, format_time

_logger = logging.getLogger(__name__)

RESET = object()

UNAUTHORIZED = "Access to requested resource is denied."
LWA_FAILURE = "The server encountered an unexpected error; try again later."
LWA_SLOW_DOWN = "Too many requests; slow down."
EXPIRED = "The access token you provided has expired."
QUOTA_EXCEEDED = "You exceeded your quota for the requested resource."
INTERNAL_FAILURE = "We encountered an internal error. Please try again."
HTML_ERROR = (
    b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
    b"<body><h1>Service Unavailable</h1><p>The server is temporarily unable to "
    b"service your request. Please try again later.</p></body></html>\n"
)


def _error(status, code, message, details=None):
    return Reply(status, ApiError(status, code, message, details).body())


class SandboxServer:
    """An SP-API look-alike on one loopback port.

    time_scale multiplies every quota's refill rate; settle_seconds is how long
    before "now" the newest searchable moment lies (Amazon: two minutes).
    clock (default: the real time) drives the quotas, token lifetimes and
    "now"; a test passes a timeutil.ManualClock, or sets `clock` later, and
    moves it with advance(seconds).
    """

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        time_scale=1.0,
        settle_seconds=120,
        clock=None,
    ):
        self.host = host
        self.port = port
        self.settle_seconds = settle_seconds
        self._clock = clock or SystemClock()
        self.state = SandboxState(clock=self._seconds)
        self.limiter = RateLimiter(time_scale, clock=self._clock.monotonic)
        self.faults = FaultQueue()
        self.router = Router()
        self._calls = []
        self._changes = 0
        self._calls_lock = threading.Lock()
        self._httpd = None
        self._thread = None
        for route in default_routes():
            self.add_route(route)

    # lifecycle ---------------------------------------------------------------

    @property
    def url(self):
        if self._httpd is None:
            raise RuntimeError("the sandbox is not started")
        return f"http://{self.host}:{self.port}"

    def start(self):
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.sandbox = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            name="sp-api-sandbox",
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        self._thread.join(timeout=5)
        self._thread = None

    def serve_forever(self):
        """Start and block until interrupted (used by the command line)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # routes --------------------------------------------------------------------

    def add_route(self, route):
        """Register an operation; its rate and burst become its usage plan."""
        self.router.add(route)
        if route.rate is not None:
            self.limiter.set_plan(route.operation, route.rate, route.burst)

    def operations(self):
        return [route.operation for route in self.router if route.kind != "control"]

    def now(self):
        return self._clock.now()

    # control API: time -----------------------------------------------------------

    @property
    def clock(self):
        return self._clock

    @clock.setter
    def clock(self, clock):
        """Switch clocks (None: the real time); quotas keep what they earned."""
        self._clock = clock or SystemClock()
        self.limiter.clock = self._clock.monotonic

    def advance(self, seconds):
        """Move a ManualClock forward: quotas refill, tokens age, "now" moves."""
        if not hasattr(self._clock, "advance"):
            raise TypeError("the sandbox follows the real time; give it a ManualClock")
        return self._clock.advance(seconds)

    def _seconds(self):
        return self._clock.time()

    # control API: sellers, tokens, quotas, faults ------------------------------

    def add_seller(
        self,
        seller_id,
        client_id,
        client_secret,
        refresh_token,
        marketplaces,
        store_name=None,
    ):
        return self.state.add_seller(
            seller_id, client_id, client_secret, refresh_token, marketplaces, store_name
        )

    def add_new_seller(self, marketplaces):
        """Add a seller with fresh credentials on ``marketplaces``; returns its
        data as :meth:`add_seller` takes it."""
        token = uuid.uuid4().hex
        data = {
            "seller_id": f"A{token[:12].upper()}",
            "client_id": f"amzn1.application-oa2-client.{token[:8]}",
            "client_secret": f"secret-{token}",
            "refresh_token": f"Atzr|refresh-{token}",
            "marketplaces": list(marketplaces),
        }
        self.add_seller(**data)
        return data

    def expire_tokens(self):
        """Every access token issued so far answers 403 "expired" from now on."""
        self.state.expire_tokens()

    @property
    def time_scale(self):
        return self.limiter.time_scale

    @time_scale.setter
    def time_scale(self, value):
        self.limiter.time_scale = value

    def set_rate(self, operation, rate, burst):
        self._check_operation(operation)
        self.limiter.set_plan(operation, rate, burst)

    def reset_rate_limits(self):
        self.limiter.reset()

    def inject_fault(self, operation, kind, count=1, delay=0.0, status=None):
        """Queue `count` faults of `kind` for the next calls of `operation`.

        operation "*" matches any operation.
        """
        if operation != ANY_OPERATION:
            self._check_operation(operation)
        self.faults.add(operation, kind, count=count, delay=delay, status=status)

    def clear_faults(self):
        self.faults.clear()

    def _check_operation(self, operation):
        if operation not in self.operations():
            raise ValueError(
                f"unknown operation {operation!r}; known: {self.operations()}"
            )

    # control API: request log ---------------------------------------------------

    @property
    def calls(self):
        """(operation, status, query dict) of every API call, oldest first.

        status is 0 for a connection closed without an answer.
        """
        with self._calls_lock:
            return list(self._calls)

    def call_count(self, operation=None):
        with self._calls_lock:
            return sum(1 for op, _, _ in self._calls if operation in (None, op))

    def clear_calls(self):
        with self._calls_lock:
            self._calls.clear()

    def _log_call(self, operation, status, query):
        with self._calls_lock:
            self._calls.append((operation, status, query))

    # control API: orders -------------------------------------------------------

    def seed_orders(self, seed, count, seller_id=None, **kw):
        """Generate orders for a seller (default: the first one) and store them.

        Their times end settle_seconds + 60 s before now and start 30 days
        earlier unless `start`/`end` are given; other keywords go to
        generate_orders().
        """
        seller = self.state.seller(seller_id)
        end = floor_seconds(self.now() - timedelta(seconds=self.settle_seconds + 60))
        kw.setdefault("end", end)
        kw.setdefault("start", as_datetime(kw["end"]) - timedelta(days=30))
        if kw.get("marketplaces") is None:
            supported = set(supported_marketplaces())
            kw["marketplaces"] = [
                mid for mid in seller.marketplaces if mid in supported
            ]
        orders = generate_orders(seed, count, **kw)
        with self.state.lock:
            for order in orders:
                self.state.put_order(seller.seller_id, order)
        return _clone(orders)

    def add_orders(self, orders, seller_id=None):
        """Store orders (full shape) as they are for a seller (default: the first)."""
        seller = self.state.seller(seller_id)
        with self.state.lock:
            for order in orders:
                self.state.put_order(seller.seller_id, _clone(order))

    def get_order_data(self, order_id, seller_id=None):
        """The stored order, all data sets included."""
        return self.state.snapshot(order_id, seller_id)

    def update_order(self, order_id, seller_id=None, **changes):
        """Change an order and set its lastUpdatedTime to now.

        status=... moves it to that fulfillment status (items and packages
        follow); lastUpdatedTime=... sets another time; any other keyword
        replaces that top-level property (None removes it).
        """
        status = changes.pop("status", None)
        updated = changes.pop("lastUpdatedTime", None)

        def change(order, now, rng):
            for key, value in changes.items():
                if value is None:
                    order.pop(key, None)
                else:
                    order[key] = copy.deepcopy(value)
            if status is not None:
                set_status(order, status, now, rng)
            return order

        return self._change(order_id, seller_id, change, updated)

    def cancel_order(self, order_id, cancelled_by="BUYER", reason=None, seller_id=None):
        """Cancel an order not shipped yet (items get cancellation data)."""

        def change(order, now, rng):
            current = order.get("fulfillment", {}).get("fulfillmentStatus")
            if current in ("SHIPPED", "PARTIALLY_SHIPPED", "CANCELLED"):
                raise ValueError(
                    f"order {order_id} is {current} and cannot be cancelled"
                )
            return set_status(
                order,
                "CANCELLED",
                now,
                rng,
                cancelled_by=cancelled_by,
                cancel_reason=reason,
            )

        return self._change(order_id, seller_id, change)

    def ship_order(self, order_id, carrier=None, tracking_number=None, seller_id=None):
        """Ship every remaining unit; a merchant-fulfilled order gets a package."""

        def change(order, now, rng):
            current = order.get("fulfillment", {}).get("fulfillmentStatus")
            if current in ("SHIPPED", "CANCELLED"):
                raise ValueError(f"order {order_id} is {current} and cannot be shipped")
            return set_status(
                order,
                "SHIPPED",
                now,
                rng,
                carrier=carrier,
                tracking_number=tracking_number,
            )

        return self._change(order_id, seller_id, change)

    def packages_of(self, order_id, seller_id=None):
        """The order's packages (Orders 2026-01-01 shape), oldest first."""
        return self.state.snapshot(order_id, seller_id).get("packages", [])

    def confirmations_of(self, order_id, seller_id=None):
        """The confirmShipment bodies the sandbox accepted for the order, in
        the order they came, each as {"receivedTime", "body"}."""
        return self.state.confirmations_of(order_id, seller_id)

    def corrupt_order(self, order_id, mutate, seller_id=None):
        """Let mutate(order) damage the stored order in place (or return a new
        object); it is then served as it is, under the same orderId and times.
        """
        with self.state.lock:
            _, stored = self.state.stored(order_id, seller_id)
            order = copy.deepcopy(stored.order)
            result = mutate(order)
            if result is not None:
                order = result
            stored.order = order
            return copy.deepcopy(order)

    def _change(self, order_id, seller_id, change, updated=None):
        with self.state.lock:
            owner, stored = self.state.stored(order_id, seller_id)
            now = floor_seconds(self.now())
            order = copy.deepcopy(stored.order)
            self._changes += 1
            rng = random.Random(f"{order_id}:{self._changes}")
            order = change(order, now, rng)
            order["lastUpdatedTime"] = format_time(
                as_datetime(updated) if updated else now
            )
            self.state.put_order(owner, order, order_id)
            return copy.deepcopy(order)

    # control API: finances -------------------------------------------------------

    def configure_finances(self, **options):
        """Set how transactions are posted and listed (see
        ledger.FinanceOptions: posting_lag, listing_lag, deferral, page_size,
        empty_pages, settle_seconds); returns the options now in force."""
        return finances.configure(self, **options)

    def refund_order(
        self,
        order_id,
        items=None,
        kind="RETURN",
        amounts=None,
        seller_id=None,
        posted=None,
        reason=None,
    ):
        """Post a refund of an order's shipped units; returns the transaction.

        items: None (every item with shipped units not refunded yet), a list
        of order item ids (their units left), or {order item id: units}.
        kind: RETURN, NO_RETURN, GOODWILL (a GoodwillPrincipal of what the
        buyer paid; units are not used up) or A_TO_Z (a GuaranteeClaim).
        amounts: {order item id: {charge type: amount}} replaces the item's
        breakdown (any amounts, beyond the price too). posted: the postedDate
        (default now); reason: the description.
        """
        return finances.refund_order(
            self, order_id, items, kind, amounts, seller_id, posted, reason
        )

    def post_refund(
        self,
        order_id,
        marketplace,
        items,
        kind="RETURN",
        seller_id=None,
        posted=None,
        reason=None,
        network="MFN",
    ):
        """Post a refund for any order id (one the seller's orders lack too),
        items given as {"sellerSku", "quantity", "amounts", "asin", "title"}."""
        return finances.post_refund(
            self, order_id, marketplace, items, kind, seller_id, posted, reason, network
        )

    def add_transaction(self, transaction, seller_id=None, posted=None):
        """Plant a transaction (any JSON) that listTransactions serves as it is;
        posted: when it counts as posted (default: its postedDate, else now)."""
        return finances.add_transaction(self, transaction, seller_id, posted)

    def clear_refunds(self, seller_id=None):
        """Forget the seller's refunds and planted transactions; shipments stay."""
        finances.clear_refunds(self, seller_id)

    def transactions_of(self, seller_id=None, order_id=None):
        """The seller's transactions (of one order), listed yet or not."""
        return finances.transactions_of(self, seller_id, order_id)

    # control API: feeds ---------------------------------------------------------

    def configure_feeds(self, **options):
        """Set how feeds are processed (see ops.feeds.configure)."""
        return feeds.configure(self, **options)

    def feed_info(self, feed_id):
        """A feed's document as uploaded and the refunds it booked."""
        return feeds.feed_info(self, feed_id)

    # control API: settlement reports --------------------------------------------

    def configure_reports(self, seller_id=None, **options):
        """How settlement documents are served (ops.reports.ReportOptions:
        compression None/"GZIP", encoding, german, charset_header,
        page_size); returns the options now in force."""
        return reports.configure(self, seller_id, **options)

    def settlements(self, seller_id=None, now=None):
        """The seller's settlements made by now, oldest first, as summaries
        (settlementId, marketplaceId, currency, start, end, deposit, created,
        total, rows, transactions, orderIds)."""
        return reports.summaries(self, seller_id, now)

    def plant_settlement(
        self,
        settlement_id,
        rows=None,
        total_delta=None,
        status=None,
        listed_twice=None,
    ):
        """Change what a settlement's report says: extra rows (dicts by
        column name), a total-amount that differs from the rows by
        total_delta, a processing status (IN_PROGRESS, FATAL, ...), or a
        second report of the same settlement."""
        return reports.plant(
            self, settlement_id, rows, total_delta, status, listed_twice
        )

    def clear_settlement_plants(self):
        reports.clear(self)

    # control API: order reports ---------------------------------------------------

    def configure_order_reports(self, seller_id=None, **options):
        """How the seller's order reports requested from now on are made and
        served (ops.order_reports.OrderReportOptions): queue_seconds and
        processing_seconds (sandbox time IN_QUEUE, then IN_PROGRESS), fatal,
        encoding (None: windows-31j for Amazon.co.jp, else UTF-8; or a codec
        name such as "cp1252"), charset_header (the download's Content-Type
        names the charset), compression (None or "GZIP"; gzip=True is the
        same); returns the options now in force."""
        return order_report_ops.configure(self, seller_id, **options)

    def order_reports(self, seller_id=None):
        """The order reports the seller requested, oldest first: the Report
        object as getReport shows it now, with orderIds, rows, encoding,
        charset, compression, documentId and errorDocumentId."""
        return order_report_ops.summaries(self, seller_id)

    # dispatch ------------------------------------------------------------------

    def handle(self, request):
        """Answer one request: a Reply, or RESET to drop the connection."""
        route, params = self.router.match(request.method, request.path)
        if route is None:
            if params:
                reply = _error(
                    405,
                    "MethodNotAllowed",
                    f"Method {request.method} is not allowed for this resource.",
                )
            else:
                reply = _error(
                    404,
                    "NotFound",
                    "The requested resource was not found.",
                    request.path,
                )
            self._log_call(None, reply.status, request.query_dict())
            return self._finish(reply)
        request.path_params = params
        if route.kind == "control":
            return self._finish(route.handler(self, request))
        fault = self.faults.next(route.operation)
        outcome = self._answer(route, request, fault)
        self._log_call(
            route.operation,
            0 if outcome is RESET else outcome.status,
            request.query_dict(),
        )
        if outcome is RESET:
            return RESET
        if route.rate is not None:
            outcome.headers["x-amzn-RateLimit-Limit"] = self.limiter.header(
                route.operation
            )
        return self._finish(outcome)

    def _answer(self, route, request, fault):
        if fault is not None:
            if fault.kind == "reset":
                return RESET
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "server_error" and route.kind == "lwa":
                # Login with Amazon answers as an OAuth 2.0 server does.
                return Reply(
                    fault.status or 503,
                    {"error": "server_error", "error_description": LWA_FAILURE},
                    {"Cache-Control": "no-store"},
                )
            elif fault.kind == "server_error":
                return _error(
                    fault.status or 503, "InternalFailure", INTERNAL_FAILURE, ""
                )
            elif fault.kind == "server_error_html":
                return Reply(
                    fault.status or 503,
                    raw=HTML_ERROR,
                    content_type="text/html; charset=utf-8",
                )
            elif fault.kind == "throttle" and route.kind == "lwa":
                return Reply(
                    429,
                    {"error": "slow_down", "error_description": LWA_SLOW_DOWN},
                    {"Cache-Control": "no-store"},
                )
            elif fault.kind == "throttle":
                return _error(429, "QuotaExceeded", QUOTA_EXCEEDED)
            elif fault.kind == "expired_token":
                return _error(403, "Unauthorized", UNAUTHORIZED, EXPIRED)
        reply = self._process(route, request)
        if fault is not None and fault.kind == "malformed":
            reply = Reply(200, raw=_truncated(reply.payload()), headers=reply.headers)
        if fault is not None and fault.kind == "reset_after_apply":
            return RESET
        if fault is not None and fault.kind == "slow_after_apply":
            time.sleep(fault.delay)
        return reply

    def _process(self, route, request):
        if route.kind == "sp-api":
            seller, problem = self.state.token_owner(
                request.headers.get("x-amz-access-token")
            )
            if seller is None:
                return _error(
                    403,
                    "Unauthorized",
                    UNAUTHORIZED,
                    EXPIRED if problem == "expired" else "",
                )
            request.seller = seller
            if not self.limiter.allow(seller.seller_id, route.operation):
                return _error(429, "QuotaExceeded", QUOTA_EXCEEDED)
        try:
            return route.handler(self, request)
        except ApiError as error:
            return Reply(error.status, error.body())
        except Exception as error:
            _logger.exception("sandbox operation %s failed", route.operation)
            return _error(500, "InternalFailure", INTERNAL_FAILURE, repr(error))

    @staticmethod
    def _finish(reply):
        reply.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        return reply


def _clone(data):
    """A deep copy of JSON data (faster than copy.deepcopy for it)."""
    return json.loads(json.dumps(data))


def _truncated(data):
    """Cut a JSON document in two, on an ASCII byte, so it no longer parses."""
    if len(data) < 4:
        return b'{"'
    cut = len(data) // 2
    while cut > 1 and data[cut - 1] >= 0x80:
        cut -= 1
    return data[:cut]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def close_connections(self):
        with self.connections_lock:
            connections = list(self.connections)
            self.connections.clear()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        _logger.debug(
            "connection from %s ended with an error", client_address, exc_info=True
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SellingPartnerAPISandbox/1.0"
    sys_version = ""
    timeout = 120

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self):
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def _dispatch(self):
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(
            self.command,
            split.path,
            parse_qsl(split.query, keep_blank_values=True),
            self.headers,
            body,
        )
        outcome = self.server.sandbox.handle(request)
        if outcome is RESET:
            self._reset()
            return
        payload = outcome.payload()
        try:
            self.send_response(outcome.status)
            if payload or outcome.status not in (204, 304):
                self.send_header("Content-Type", outcome.content_type)
            for name, value in outcome.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _reset(self):
        self.close_connection = True
        try:
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, fmt, *args):
        _logger.debug("%s - %s", self.address_string(), fmt % args)
