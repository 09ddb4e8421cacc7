"""Login with Amazon: POST /auth/o2/token (refresh_token grant)."""

import json
from urllib.parse import parse_qsl

from ..routing import Reply, Route
from ..state import LwaError

OPERATION = "getAccessToken"


def _form(request):
    content_type = (request.headers.get("Content-Type") or "").lower()
    text = request.body.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        return (
            {key: str(value) for key, value in data.items()}
            if isinstance(data, dict)
            else {}
        )
    return dict(parse_qsl(text, keep_blank_values=True))


def get_access_token(server, request):
    try:
        token = server.state.issue_token(_form(request))
    except LwaError as error:
        return Reply(error.status, error.body(), {"Cache-Control": "no-store"})
    return Reply(200, token, {"Cache-Control": "no-store"})


ROUTES = [Route("POST", "/auth/o2/token", OPERATION, get_access_token, kind="lwa")]
