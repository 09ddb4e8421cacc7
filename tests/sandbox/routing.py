"""Routes, requests, replies and API errors shared by all operations."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

JSON_TYPE = "application/json"


class ApiError(Exception):
    """An SP-API error answer: {"errors": [{"code", "message", "details"}]}."""

    def __init__(self, status, code, message, details=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self):
        error = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"errors": [error]}


def invalid_input(message, details=None):
    return ApiError(400, "InvalidInput", message, details)


@dataclass
class Reply:
    status: int
    body: object = None
    headers: dict = field(default_factory=dict)
    content_type: str = JSON_TYPE
    raw: bytes | None = None

    def payload(self):
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


@dataclass
class Request:
    method: str
    path: str
    query: list
    headers: object
    body: bytes
    path_params: dict = field(default_factory=dict)
    seller: object = None

    def query_dict(self):
        """Query parameters: a string per name, a list for a repeated name."""
        result = {}
        for name, value in self.query:
            if name in result:
                if not isinstance(result[name], list):
                    result[name] = [result[name]]
                result[name].append(value)
            else:
                result[name] = value
        return result

    def values(self, name):
        return [value for key, value in self.query if key == name]

    def json(self):
        if not self.body:
            return {}
        return json.loads(self.body.decode("utf-8"))


@dataclass(frozen=True)
class Route:
    """method, path pattern with {name} segments, operationId, handler(server, request).

    rate/burst: Amazon's usage plan (requests per second, bucket size); None
    for routes without a quota. kind: "sp-api" (access token, quota, faults,
    logged), "lwa" (token endpoint: faults, logged) or "control".
    """

    method: str
    pattern: str
    operation: str
    handler: Callable
    rate: float | None = None
    burst: int | None = None
    kind: str = "sp-api"

    def compiled(self):
        parts = re.split(r"\{(\w+)\}", self.pattern)
        regex = []
        for index, part in enumerate(parts):
            regex.append(f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part))
        return re.compile("^" + "".join(regex) + "$")


class Router:
    def __init__(self, routes=()):
        self._routes = []
        for route in routes:
            self.add(route)

    def add(self, route):
        self._routes.append((route, route.compiled()))

    def __iter__(self):
        return (route for route, _ in self._routes)

    def match(self, method, path):
        """Return (route, path params), (None, allowed methods) or (None, None)."""
        methods = []
        for route, regex in self._routes:
            found = regex.match(path)
            if not found:
                continue
            if route.method == method:
                return route, {
                    key: unquote(value) for key, value in found.groupdict().items()
                }
            methods.append(route.method)
        return None, methods or None
