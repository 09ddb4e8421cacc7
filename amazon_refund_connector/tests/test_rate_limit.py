import uuid

from odoo.tests.common import TransactionCase

from odoo.addons.amazon_refund_connector.models.amazon_rate_limit import (
    PgRateLimiter,
)


class FakeClock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


class TestPgRateLimiter(TransactionCase):
    """Buckets shared through PostgreSQL, as between Odoo workers."""

    def setUp(self):
        super().setUp()
        # An account reference no other test uses: the rows are committed.
        self.ref = uuid.uuid4().int % 2_000_000_000
        self.clock = FakeClock()

    def _limiter(self):
        return PgRateLimiter(self.env.registry, self.ref, clock=self.clock)

    def _row(self, operation):
        # The limiter commits in its own transactions, which the test's
        # repeatable-read snapshot does not see.
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT rate, burst FROM amazon_rate_limit"
                " WHERE bucket = %s AND operation = %s",
                (str(self.ref), operation),
            )
            return cr.dictfetchone()

    def test_burst_then_wait(self):
        limiter = self._limiter()
        waits = [limiter.acquire("getMarketplaceParticipations") for _ in range(15)]
        self.assertEqual(waits, [0.0] * 15)
        wait = limiter.acquire("getMarketplaceParticipations")
        self.assertAlmostEqual(wait, 1 / 0.016, places=3)

    def test_workers_share_one_bucket(self):
        first, second = self._limiter(), self._limiter()
        for _ in range(10):
            self.assertEqual(first.acquire("createFeed"), 0.0)
        for _ in range(5):
            self.assertEqual(second.acquire("createFeed"), 0.0)
        self.assertGreater(first.acquire("createFeed"), 0.0)
        self.assertGreater(second.acquire("createFeed"), 0.0)

    def test_refill_over_time(self):
        limiter = self._limiter()
        for _ in range(20):
            limiter.acquire("searchOrders")
        self.assertGreater(limiter.acquire("searchOrders"), 0.0)
        self.clock.now += 1 / 0.0056 + 0.01
        self.assertEqual(limiter.acquire("searchOrders"), 0.0)

    def test_throttled_drains_and_adopts_announced_rate(self):
        limiter = self._limiter()
        self.assertEqual(limiter.acquire("getOrder"), 0.0)
        wait = limiter.throttled("getOrder", rate=0.25)
        self.assertAlmostEqual(wait, 4.0)
        self.assertAlmostEqual(limiter.acquire("getOrder"), 4.0)
        self.assertAlmostEqual(self._row("getOrder")["rate"], 0.25)

    def test_observe_updates_rate(self):
        limiter = self._limiter()
        limiter.acquire("getOrder")
        limiter.observe("getOrder", 2.0)
        row = self._row("getOrder")
        self.assertAlmostEqual(row["rate"], 2.0)
        self.assertEqual(row["burst"], 30)
