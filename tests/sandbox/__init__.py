"""A loopback SP-API sandbox for tests and demos.

Start a SandboxServer, register sellers, seed generated orders, and point the
real python-amazon-sp-api client at `server.url` (and its LWA token client at
the same host). Standard library only.
"""

from .faults import FAULT_KINDS
from .generator import generate_orders, supported_marketplaces
from .marketplaces import MARKETPLACES, resolve_marketplace
from .routing import ApiError, Reply, Request, Route
from .server import SandboxServer

__all__ = [
    "FAULT_KINDS",
    "MARKETPLACES",
    "ApiError",
    "Reply",
    "Request",
    "Route",
    "SandboxServer",
    "generate_orders",
    "resolve_marketplace",
    "supported_marketplaces",
]
