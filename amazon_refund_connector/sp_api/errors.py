"""The small set of errors the SP-API layer raises.

Every ``str()`` of these errors is safe to show to a user and to log: the
layer builds messages from Amazon's own error texts and never from request
headers or credentials, and :func:`redact` removes any secret that might
still slip in.
"""


class AmazonError(Exception):
    """Base class: something went wrong talking to Amazon."""

    retryable = False

    def __init__(self, message, *, code=None, operation=None, status=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.operation = operation
        self.status = status

    def __str__(self):
        return self.message


class AmazonThrottled(AmazonError):
    """The operation's quota is used up; try again after ``retry_after`` s."""

    retryable = True

    def __init__(self, message, *, retry_after, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = max(float(retry_after), 0.0)


class AmazonAuthError(AmazonError):
    """Amazon refused the credentials (LWA or the SP-API access token)."""


class AmazonInvalidInput(AmazonError):
    """Amazon refused the request itself; sending it again will not help."""


class AmazonNotFound(AmazonInvalidInput):
    """The resource asked for does not exist on Amazon."""


class AmazonServerError(AmazonError):
    """Amazon failed or could not be reached, or its answer was unreadable.

    Sending the same request later may succeed.
    """

    retryable = True


def redact(text, secrets):
    """Return ``text`` with every non-empty secret replaced by ``***``."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
