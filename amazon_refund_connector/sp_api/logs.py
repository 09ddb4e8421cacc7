"""Keep secrets out of the log records of ``sp_api``.

sp_api's ``Client._request`` logs request headers, the access token among
them, at DEBUG. Its loggers are kept at INFO at least, and a filter redacts
tokens and the secrets of every account that built a client in this process,
in case someone configures them to DEBUG anyway.
"""

import logging
import re

_TOKEN_PATTERNS = (
    re.compile(r"(Atz[ar]\|)[^\s'\",}]+"),
    re.compile(r"(['\"]?x-amz-access-token['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+", re.I),
    re.compile(
        r"(['\"]?(?:client_secret|refresh_token|lwa_client_secret)['\"]?"
        r"\s*[:=]\s*['\"]?)[^\s'\",}&]+",
        re.I,
    ),
)
SP_API_LOGGERS = (
    "sp_api",
    "sp_api.base.client",
    "sp_api.auth.access_token_client",
    "sp_api.asyncio.base.client",
    "sp_api.asyncio.auth.access_token_client",
)


def scrub(text, secrets=()):
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(r"\1***", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


class SecretFilter(logging.Filter):
    """Rewrites a record's message with every known secret redacted."""

    def __init__(self):
        super().__init__("")
        self.secrets = set()

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:
            return False
        record.msg = scrub(message, self.secrets)
        record.args = None
        return True


_FILTER = SecretFilter()


def protect_sp_api_loggers(secrets=()):
    """Install the filter on sp_api's loggers; remember ``secrets``."""
    _FILTER.secrets.update(s for s in secrets if s)
    for name in SP_API_LOGGERS:
        log = logging.getLogger(name)
        if log.getEffectiveLevel() < logging.INFO:
            log.setLevel(logging.INFO)
        if _FILTER not in log.filters:
            log.addFilter(_FILTER)
    return _FILTER
