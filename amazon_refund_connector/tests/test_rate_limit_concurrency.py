"""One quota per seller, shared by real concurrent workers on PostgreSQL."""

import threading
import uuid

from psycopg2 import OperationalError

from odoo.tests.common import TransactionCase

from odoo.addons.amazon_refund_connector.models.amazon_rate_limit import (
    PgRateLimiter,
    seller_bucket,
)
from odoo.addons.amazon_refund_connector.sp_api import (
    AmazonClient,
    AmazonThrottled,
)

from .common import AmazonSandboxCase

WORKERS = 4


def run_workers(work, count=WORKERS):
    """Run ``work(index)`` in ``count`` threads started together.

    Returns ``(results, errors)``: what each call returned, and what any of
    them raised.
    """
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def target(index):
        try:
            barrier.wait()
            result = work(index)
        except Exception as error:  # every error is a failure of the test
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(result)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results, errors


class FixedClock:
    """A clock that does not move: no token is refilled during a test."""

    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


class TestLimiterUnderConcurrency(TransactionCase):
    """Four workers take tokens from one bucket at the same time."""

    def setUp(self):
        super().setUp()
        self.bucket = f"test:{uuid.uuid4().hex}"
        self.clock = FixedClock()

    def _limiter(self):
        return PgRateLimiter(self.env.registry, self.bucket, clock=self.clock)

    def _tokens(self, operation):
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT tokens FROM amazon_rate_limit"
                " WHERE bucket = %s AND operation = %s",
                (self.bucket, operation),
            )
            return cr.fetchone()[0]

    def test_four_workers_never_overspend_nor_fail(self):
        # getOrder: burst 30. 4 x 20 attempts with no time passing: exactly
        # 30 are granted, whichever worker gets them, and nothing raises.
        def work(_index):
            limiter = self._limiter()
            # Each worker also holds an Odoo (REPEATABLE READ) cursor of its
            # own, as a job does, which has read the bucket before.
            with self.env.registry.cursor() as job_cr:
                job_cr.execute("SELECT count(*) FROM amazon_rate_limit")
                return sum(1 for _ in range(20) if limiter.acquire("getOrder") == 0.0)

        granted, errors = run_workers(work)
        self.assertEqual(errors, [])
        self.assertEqual(len(granted), WORKERS)
        self.assertEqual(sum(granted), 30)
        self.assertAlmostEqual(self._tokens("getOrder"), 0.0, places=6)

    def test_four_workers_share_the_refill(self):
        # Between rounds the clock moves by 10 s: getOrder refills 5 tokens,
        # never more, however the workers race for them.
        limiter = self._limiter()
        for _ in range(30):
            limiter.acquire("getOrder")
        total = 0
        for _round in range(3):
            self.clock.now += 10.0
            granted, errors = run_workers(
                lambda _i: sum(
                    1 for _ in range(4) if self._limiter().acquire("getOrder") == 0.0
                )
            )
            self.assertEqual(errors, [])
            total += sum(granted)
        self.assertEqual(total, 15)

    def test_throttled_and_observed_under_concurrency(self):
        # 429s and announced rates from four workers at once: no error, and
        # the bucket ends drained at the rate Amazon announced.
        def work(_index):
            limiter = self._limiter()
            for _ in range(5):
                limiter.acquire("getOrderItems")
                limiter.observe("getOrderItems", 0.5)
                limiter.throttled("getOrderItems", rate=0.25)
            return True

        done, errors = run_workers(work)
        self.assertEqual(errors, [])
        self.assertEqual(len(done), WORKERS)
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT rate, tokens FROM amazon_rate_limit"
                " WHERE bucket = %s AND operation = 'getOrderItems'",
                (self.bucket,),
            )
            rate, tokens = cr.fetchone()
        self.assertAlmostEqual(rate, 0.25)
        self.assertAlmostEqual(tokens, 0.0)


class FailingBookkeeping(PgRateLimiter):
    """A limiter whose database gives up right after Amazon answered."""

    def observe(self, operation, rate):
        raise OperationalError("could not serialize access due to concurrent update")


class TestOneQuotaPerSeller(AmazonSandboxCase):
    def _seller_accounts(self, count):
        """``count`` account records of this test's seller, one marketplace each."""
        accounts = self.account
        for index in range(1, count):
            accounts |= self.env["amazon.account"].create(
                self._account_vals(self.seller, name=f"Amazon split {index}")
            )
        return accounts

    def test_accounts_of_one_seller_share_a_bucket(self):
        accounts = self._seller_accounts(2)
        other_seller = self._add_seller()
        other = self.env["amazon.account"].create(
            self._account_vals(other_seller, name="Amazon other seller")
        )
        first, second = (a._get_client().limiter for a in accounts)
        self.assertEqual(first.bucket, second.bucket)
        self.assertEqual(
            first.bucket, seller_bucket("EU", self.seller["seller_id"], None)
        )
        self.assertNotEqual(other._get_client().limiter.bucket, first.bucket)
        # A seller's bucket is not an account's: the same seller in another
        # region has a quota of its own.
        self.assertNotEqual(
            seller_bucket("NA", self.seller["seller_id"], 1), first.bucket
        )
        self.use_manual_clock()
        self._reset_rate_limits()
        for _ in range(15):
            self.assertEqual(first.acquire("getMarketplaceParticipations"), 0.0)
        self.assertGreater(second.acquire("getMarketplaceParticipations"), 0.0)
        self.assertEqual(
            other._get_client().limiter.acquire("getMarketplaceParticipations"), 0.0
        )

    def test_four_workers_of_one_seller_never_exceed_the_burst(self):
        # Four account records of one seller (split marketplaces), each
        # synchronised by its own worker, with no time passing: Amazon's
        # burst of getMarketplaceParticipations (15) is spent exactly once and
        # Amazon never has to throttle.
        self.use_manual_clock()
        self._reset_rate_limits()
        self.sandbox.reset_rate_limits()
        accounts = self._seller_accounts(WORKERS)
        clients = [account._get_client() for account in accounts]
        self.addCleanup(lambda: [client.close() for client in clients])

        def work(index):
            answered = throttled = 0
            for _ in range(8):
                try:
                    clients[index].get_marketplace_participations()
                    answered += 1
                except AmazonThrottled:
                    throttled += 1
            return answered, throttled

        results, errors = run_workers(work)
        self.assertEqual(errors, [])
        self.assertEqual(sum(a for a, _t in results), 15)
        self.assertEqual(sum(t for _a, t in results), WORKERS * 8 - 15)
        statuses = [
            status
            for operation, status, _query in self.sandbox.calls
            if operation == "getMarketplaceParticipations"
        ]
        self.assertEqual(statuses, [200] * 15)

    def test_answer_kept_when_bookkeeping_fails(self):
        credentials = self.account._get_credentials()
        limiter = FailingBookkeeping(self.env.registry, f"test:{uuid.uuid4().hex}")
        with AmazonClient(credentials, limiter) as client:
            with self.assertLogs(
                "odoo.addons.amazon_refund_connector.sp_api.client", "WARNING"
            ) as logs:
                participations = client.get_marketplace_participations()
        self.assertEqual(
            {p["marketplace"]["id"] for p in participations}, set(self.marketplaces)
        )
        self.assertIn("Could not record the rate", logs.output[0])
        self.assertEqual(self.sandbox.call_count("getMarketplaceParticipations"), 1)
