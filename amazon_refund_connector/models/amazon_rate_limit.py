import logging
import time

from psycopg2.errors import LockNotAvailable
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED, TransactionRollbackError

from odoo import api, fields, models
from odoo.sql_db import Cursor

from ..sp_api import BucketState, RateLimiter, default_limit, drain, take_token

_logger = logging.getLogger(__name__)

# Times a bucket's short transaction is tried again after PostgreSQL gave it
# up (deadlock, serialization failure, lock timeout).
LOCK_ATTEMPTS = 8


def seller_bucket(region, seller_ref, account_id):
    """Key of the buckets of a seller in a region.

    Amazon's quota is per selling partner (and region) and operation: every
    account record of one seller, e.g. a marketplace split into an account of
    its own, spends the same buckets. An account without a seller id has
    buckets of its own until it gets one.
    """
    seller = (seller_ref or "").strip().upper()
    if seller:
        return f"{(region or '').upper()}:{seller}"
    return f"account:{account_id}"


class AmazonRateLimit(models.Model):
    """Token bucket of one SP-API operation for one seller in one region.

    Amazon's quota is per selling partner and operation, whatever the number
    of Odoo workers calling it, so the buckets live in PostgreSQL: each
    acquisition locks the row in a short transaction of its own, so a cluster
    never spends a burst twice and no job holds the lock while it works.
    The bucket is keyed by seller, not by account record, and without a
    foreign key so that those short transactions never wait on the caller's
    uncommitted work.
    """

    _name = "amazon.rate.limit"
    _description = "Amazon SP-API rate limit state"
    _order = "bucket, operation"
    _log_access = False

    bucket = fields.Char(
        string="Seller",
        required=True,
        index=True,
        help="Region and selling partner id whose quota this is.",
    )
    operation = fields.Char(required=True)
    rate = fields.Float(string="Requests per second", digits=(16, 6), required=True)
    burst = fields.Integer(required=True)
    tokens = fields.Float(digits=(16, 6), required=True)
    stamp = fields.Float(string="Updated at (epoch)", digits=(16, 3), required=True)

    _sql_constraints = [
        (
            "bucket_operation_unique",
            "unique(bucket, operation)",
            "One rate-limit row per seller and operation.",
        ),
    ]

    @api.model
    def _limiter(self, bucket):
        return PgRateLimiter(self.env.registry, bucket)

    @api.model
    def _limiter_of(self, account):
        """The limiter of ``account``'s seller, shared by its account records."""
        account = account.sudo()
        return self._limiter(
            seller_bucket(account.region, account.seller_ref, account.id)
        )


class PgRateLimiter(RateLimiter):
    """:class:`RateLimiter` over ``amazon_rate_limit`` rows.

    ``clock`` gives the epoch seconds the buckets are stamped with; a test
    passes one, or replaces the class attribute for the limiters the models
    build, to decide itself how much time passes.

    Each change runs in a transaction of its own, READ COMMITTED: Odoo's
    cursors are REPEATABLE READ, where locking a row another worker updated
    since the snapshot fails with a serialization error; READ COMMITTED
    waits for the lock and reads the row as that worker left it. Should
    PostgreSQL still give the transaction up (a deadlock, a lock timeout),
    it is tried again from the start: nothing of it was kept.
    """

    clock = staticmethod(time.time)
    sleep = staticmethod(time.sleep)

    def __init__(self, registry, bucket, clock=None):
        self.registry = registry
        self.bucket = str(bucket)
        if clock is not None:
            self.clock = clock
        self._known_rates = {}

    def _update(self, operation, change):
        """Lock the row of ``operation``, apply ``change``, commit.

        ``change(state, now)`` returns ``(new_state, result)``.
        """
        for attempt in range(1, LOCK_ATTEMPTS + 1):
            try:
                return self._update_once(operation, change)
            except (TransactionRollbackError, LockNotAvailable) as error:
                if attempt == LOCK_ATTEMPTS:
                    raise
                _logger.info(
                    "Rate limit of %s/%s: transaction given up (%s); again",
                    self.bucket,
                    operation,
                    error.pgcode,
                )
                self.sleep(0.005 * attempt)
        return None  # not reached

    def _update_once(self, operation, change):
        rate, burst = default_limit(operation)
        with self.registry.cursor() as cr:
            if isinstance(cr, Cursor):
                # Before the first statement: the transaction has not begun.
                # (A test cursor of a browser test shares the test's
                # transaction, whose level cannot change.)
                cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            cr.execute(
                """
                INSERT INTO amazon_rate_limit
                    (bucket, operation, rate, burst, tokens, stamp)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (bucket, operation) DO NOTHING
                """,
                (self.bucket, operation, rate, burst, float(burst), self.clock()),
            )
            cr.execute(
                """
                SELECT rate, burst, tokens, stamp FROM amazon_rate_limit
                 WHERE bucket = %s AND operation = %s
                   FOR UPDATE
                """,
                (self.bucket, operation),
            )
            state = BucketState(*cr.fetchone())
            # The time is read once the row is ours: a worker that waited for
            # the lock never stamps the bucket earlier than the one before.
            new_state, result = change(state, max(self.clock(), state.stamp))
            cr.execute(
                """
                UPDATE amazon_rate_limit
                   SET rate = %s, burst = %s, tokens = %s, stamp = %s
                 WHERE bucket = %s AND operation = %s
                """,
                (
                    new_state.rate,
                    new_state.burst,
                    new_state.tokens,
                    new_state.stamp,
                    self.bucket,
                    operation,
                ),
            )
        return result

    def acquire(self, operation):
        return self._update(operation, take_token)

    def throttled(self, operation, rate=None):
        def _drain(state, now):
            new_state = drain(state, now, rate)
            return new_state, 1.0 / new_state.rate

        return self._update(operation, _drain)

    def observe(self, operation, rate):
        if not rate or self._known_rates.get(operation) == rate:
            return None
        self._known_rates[operation] = rate

        def _set_rate(state, now):
            if abs(state.rate - rate) < 1e-9:
                return state, None
            return BucketState(rate, state.burst, state.tokens, state.stamp), None

        return self._update(operation, _set_rate)
