"""In-memory state: sellers, LWA clients and tokens, stored orders, shipment
confirmations and the financial transactions posted for the orders."""

import copy
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from decimal import InvalidOperation

from .ledger import FinanceOptions, new_shipments, post_times
from .marketplaces import resolve_marketplace
from .timeutil import parse_time

_logger = logging.getLogger(__name__)

ACCESS_TOKEN_LIFETIME = 3600


class LwaError(Exception):
    def __init__(self, status, error, description):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self):
        return {"error": self.error, "error_description": self.description}


@dataclass
class Seller:
    seller_id: str
    client_id: str
    refresh_token: str
    marketplaces: list
    store_name: str


@dataclass
class AccessToken:
    seller_id: str
    issued: float
    expired: bool = False


@dataclass
class StoredOrder:
    """An order as stored, with the times it is searched by.

    The index times are kept apart from the order so that a deliberately
    corrupted order can still be found and sorted.
    """

    order: dict
    created: object
    updated: object

    @classmethod
    def build(cls, order, previous=None):
        created = _time_or(
            order.get("createdTime"), previous.created if previous else None
        )
        updated = _time_or(
            order.get("lastUpdatedTime"), previous.updated if previous else None
        )
        if created is None or updated is None:
            raise ValueError(
                "an order needs createdTime and lastUpdatedTime to be stored"
            )
        return cls(order, created, updated)


def _time_or(text, fallback):
    try:
        return parse_time(text)
    except (TypeError, ValueError):
        return fallback


@dataclass
class SellerData:
    """A seller's orders, the shipment confirmations accepted per order id,
    and its finances: the shipments of each order (ledger.new_shipments
    events, with their posting times), their transactions once built (by
    (order id, shipment key)), the other transactions (refunds, planted ones)
    and the units refunded per (order id, order item id)."""

    seller: Seller
    orders: dict = field(default_factory=dict)
    confirmations: dict = field(default_factory=dict)
    shipments: dict = field(default_factory=dict)
    shipment_transactions: dict = field(default_factory=dict)
    transactions: list = field(default_factory=list)
    refunded: dict = field(default_factory=dict)


class SandboxState:
    def __init__(self, clock=time.time):
        self.lock = threading.RLock()
        self._clock = clock
        self.clients = {}
        self.sellers = {}
        self.refresh_tokens = {}
        self.access_tokens = {}
        self.pages = {}
        self.finances = FinanceOptions()
        self.transaction_pages = {}
        self.used_ids = set()

    # sellers and LWA -----------------------------------------------------

    def add_seller(
        self,
        seller_id,
        client_id,
        client_secret,
        refresh_token,
        marketplaces,
        store_name=None,
    ):
        marketplace_ids = [resolve_marketplace(value) for value in marketplaces]
        if not marketplace_ids:
            raise ValueError("a seller needs at least one marketplace")
        with self.lock:
            known_secret = self.clients.get(client_id)
            if known_secret is not None and known_secret != client_secret:
                raise ValueError(
                    f"client {client_id!r} is registered with another secret"
                )
            owner = self.refresh_tokens.get(refresh_token)
            if owner is not None and owner != seller_id:
                raise ValueError("that refresh token belongs to another seller")
            self.clients[client_id] = client_secret
            seller = Seller(
                seller_id,
                client_id,
                refresh_token,
                marketplace_ids,
                store_name or f"Store {seller_id[-6:]}",
            )
            data = self.sellers.get(seller_id)
            if data is None:
                self.sellers[seller_id] = SellerData(seller)
            else:
                self.refresh_tokens.pop(data.seller.refresh_token, None)
                data.seller = seller
            self.refresh_tokens[refresh_token] = seller_id
            return seller

    def seller(self, seller_id=None):
        with self.lock:
            if seller_id is None:
                if not self.sellers:
                    raise LookupError("no seller is registered")
                return next(iter(self.sellers.values())).seller
            try:
                return self.sellers[seller_id].seller
            except KeyError:
                raise LookupError(f"unknown seller {seller_id!r}") from None

    def issue_token(self, form):
        """Answer an LWA token request (form fields) or raise LwaError."""
        grant_type = form.get("grant_type")
        client_id = form.get("client_id")
        client_secret = form.get("client_secret")
        refresh_token = form.get("refresh_token")
        if grant_type != "refresh_token":
            raise LwaError(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the "
                "authorization server",
            )
        with self.lock:
            if not client_id or self.clients.get(client_id) != client_secret:
                raise LwaError(401, "invalid_client", "Client authentication failed")
            if not refresh_token:
                raise LwaError(
                    400,
                    "invalid_request",
                    "The request is missing a required parameter : refresh_token",
                )
            seller_id = self.refresh_tokens.get(refresh_token)
            if (
                seller_id is None
                or self.sellers[seller_id].seller.client_id != client_id
            ):
                raise LwaError(
                    400,
                    "invalid_grant",
                    "The request has an invalid grant parameter : refresh_token",
                )
            token = "Atza|" + secrets.token_urlsafe(48)
            self.access_tokens[token] = AccessToken(seller_id, self._clock())
        return {
            "access_token": token,
            "refresh_token": refresh_token,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME,
        }

    def token_owner(self, token):
        """Return (seller, None) or (None, "unknown" | "expired")."""
        with self.lock:
            record = self.access_tokens.get(token or "")
            if record is None:
                return None, "unknown"
            if record.expired or self._clock() - record.issued >= ACCESS_TOKEN_LIFETIME:
                return None, "expired"
            return self.sellers[record.seller_id].seller, None

    def expire_tokens(self):
        with self.lock:
            for record in self.access_tokens.values():
                record.expired = True

    # orders ----------------------------------------------------------------

    def put_order(self, seller_id, order, order_id=None):
        """Store an order under its orderId (or the id it was stored under).

        Units it ships beyond what it had shipped become shipments, which
        Amazon's finances post as Shipment transactions.
        """
        with self.lock:
            data = self.sellers[seller_id]
            order_id = order_id or order["orderId"]
            previous = data.orders.get(order_id)
            data.orders[order_id] = StoredOrder.build(order, previous)
            self._note_shipments(
                data, order_id, previous.order if previous else None, order
            )

    def _note_shipments(self, data, order_id, previous, order):
        events = data.shipments.setdefault(order_id, [])
        try:
            found = new_shipments(previous, order, {e["key"] for e in events})
        except (AttributeError, KeyError, TypeError, ValueError, InvalidOperation):
            _logger.debug("order %s: no shipment posted", order_id, exc_info=True)
            return
        for event in found:
            event["posted"], event["visible"] = post_times(
                self.finances,
                data.seller.seller_id,
                order_id,
                event["key"],
                event["time"],
            )
            event["deferral"] = self.finances.deferral
            events.append(event)

    def unique_id(self, make):
        """A value of make() that no earlier call returned."""
        with self.lock:
            while True:
                value = make()
                if value not in self.used_ids:
                    self.used_ids.add(value)
                    return value

    def stored(self, order_id, seller_id=None):
        """The stored order; with no seller given, the only seller that has it."""
        with self.lock:
            if seller_id is not None:
                found = self.sellers[seller_id].orders.get(order_id)
                if found is None:
                    raise KeyError(order_id)
                return seller_id, found
            owners = [
                (sid, data.orders[order_id])
                for sid, data in self.sellers.items()
                if order_id in data.orders
            ]
            if not owners:
                raise KeyError(order_id)
            if len(owners) > 1:
                raise LookupError(
                    f"order {order_id} exists for several sellers; pass seller_id"
                )
            return owners[0]

    def orders_of(self, seller_id):
        with self.lock:
            return list(self.sellers[seller_id].orders.values())

    def snapshot(self, order_id, seller_id=None):
        with self.lock:
            return copy.deepcopy(self.stored(order_id, seller_id)[1].order)

    # shipment confirmations -----------------------------------------------

    def add_confirmation(self, seller_id, order_id, body, received):
        """Keep an accepted confirmShipment body (received: its ISO time)."""
        with self.lock:
            confirmations = self.sellers[seller_id].confirmations
            confirmations.setdefault(order_id, []).append(
                {"receivedTime": received, "body": copy.deepcopy(body)}
            )

    def confirmations_of(self, order_id, seller_id=None):
        with self.lock:
            owner, _ = self.stored(order_id, seller_id)
            found = self.sellers[owner].confirmations.get(order_id, [])
            return copy.deepcopy(found)
