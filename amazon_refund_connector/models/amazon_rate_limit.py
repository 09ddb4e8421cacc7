import time

from odoo import api, fields, models

from ..sp_api import BucketState, RateLimiter, default_limit, drain, take_token


class AmazonRateLimit(models.Model):
    """Token bucket of one SP-API operation for one account.

    Amazon's quota is per selling partner and operation, whatever the number
    of Odoo workers calling it, so the buckets live in PostgreSQL: each
    acquisition locks the row in a short transaction of its own, so a cluster
    never spends a burst twice and no job holds the lock while it works.
    The account is referenced by id without a foreign key so that those short
    transactions never wait on the caller's uncommitted work.
    """

    _name = "amazon.rate.limit"
    _description = "Amazon SP-API rate limit state"
    _order = "account_ref, operation"
    _log_access = False

    account_ref = fields.Integer(string="Account ID", required=True, index=True)
    operation = fields.Char(required=True)
    rate = fields.Float(string="Requests per second", digits=(16, 6), required=True)
    burst = fields.Integer(required=True)
    tokens = fields.Float(digits=(16, 6), required=True)
    stamp = fields.Float(string="Updated at (epoch)", digits=(16, 3), required=True)

    _sql_constraints = [
        (
            "account_operation_unique",
            "unique(account_ref, operation)",
            "One rate-limit row per account and operation.",
        ),
    ]

    @api.model
    def _limiter(self, account_id):
        return PgRateLimiter(self.env.registry, account_id)


class PgRateLimiter(RateLimiter):
    """:class:`RateLimiter` over ``amazon_rate_limit`` rows.

    ``clock`` gives the epoch seconds the buckets are stamped with; a test
    passes one, or replaces the class attribute for the limiters the models
    build, to decide itself how much time passes.
    """

    clock = staticmethod(time.time)

    def __init__(self, registry, account_id, clock=None):
        self.registry = registry
        self.account_id = account_id
        if clock is not None:
            self.clock = clock
        self._known_rates = {}

    def _update(self, operation, change):
        """Lock the row of ``operation``, apply ``change``, commit.

        ``change(state, now)`` returns ``(new_state, result)``.
        """
        rate, burst = default_limit(operation)
        now = self.clock()
        with self.registry.cursor() as cr:
            cr.execute(
                """
                INSERT INTO amazon_rate_limit
                    (account_ref, operation, rate, burst, tokens, stamp)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (account_ref, operation) DO NOTHING
                """,
                (self.account_id, operation, rate, burst, float(burst), now),
            )
            cr.execute(
                """
                SELECT rate, burst, tokens, stamp FROM amazon_rate_limit
                 WHERE account_ref = %s AND operation = %s
                   FOR UPDATE
                """,
                (self.account_id, operation),
            )
            state = BucketState(*cr.fetchone())
            new_state, result = change(state, now)
            cr.execute(
                """
                UPDATE amazon_rate_limit
                   SET rate = %s, burst = %s, tokens = %s, stamp = %s
                 WHERE account_ref = %s AND operation = %s
                """,
                (
                    new_state.rate,
                    new_state.burst,
                    new_state.tokens,
                    new_state.stamp,
                    self.account_id,
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
