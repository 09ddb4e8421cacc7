from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import AmazonSandboxCase


class TestJobs(AmazonSandboxCase):
    def test_cron_enqueues_one_job_per_account(self):
        with trap_jobs() as trap:
            self.env["amazon.account"]._cron_refresh_marketplaces()
            self.env["amazon.account"]._cron_refresh_marketplaces()
        jobs = [job for job in trap.enqueued_jobs if job.recordset == self.account]
        # identity_key: enqueuing again while one waits adds no duplicate.
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs[0].channel, "root.amazon")
        jobs[0].perform()
        self.assertEqual(
            set(self.account.available_marketplace_ids.mapped("marketplace_ref")),
            set(self.marketplaces),
        )

    def test_throttled_job_is_rescheduled(self):
        clock = self.use_manual_clock()
        self.sandbox.inject_fault("getMarketplaceParticipations", "throttle")
        with self.assertRaises(RetryableJobError) as caught:
            self.account._job_refresh_marketplaces()
        self.assertGreaterEqual(caught.exception.seconds, 1)
        self.assertTrue(caught.exception.ignore_retry)
        # Too early, the connector's own bucket holds the call back.
        calls = self.sandbox.call_count("getMarketplaceParticipations")
        with self.assertRaises(RetryableJobError):
            self.account._job_refresh_marketplaces()
        self.assertEqual(self.sandbox.call_count("getMarketplaceParticipations"), calls)
        # The next attempt, once the delay the job was re-scheduled by has
        # passed, goes through.
        clock.advance(caught.exception.seconds)
        self.assertEqual(
            sorted(self.account._job_refresh_marketplaces()), sorted(self.marketplaces)
        )

    def test_server_error_job_is_retried(self):
        self.sandbox.inject_fault("getMarketplaceParticipations", "server_error")
        with self.assertRaises(RetryableJobError):
            self.account._job_refresh_marketplaces()

    def test_auth_error_ends_job_with_message(self):
        self.account.lwa_client_secret = "wrong"
        result = self.account._job_refresh_marketplaces()
        self.assertIn("refused the account's credentials", result)
        self.assertIn("Marketplace refresh failed", self.account.last_error)

    def test_order_sync_job_may_commit_its_pages(self):
        # queue_job refuses a commit in a job whose function does not allow
        # it; the order sync commits each stored page.
        function = self.env["queue.job.function"].search(
            [("name", "=", "<amazon.account>._job_sync_orders")]
        )
        self.assertTrue(function.allow_commit)
        self.assertEqual(function.channel_id.complete_name, "root.amazon")

    def test_account_shows_why_its_job_waits_or_failed(self):
        self.assertFalse(self.account.job_message)
        job = self.account._enqueue_order_sync()
        record = job.db_record()
        # As the job runner does with a RetryableJobError.
        record.write(
            {"retry": 1, "result": "Amazon throttled searchOrders; retry in 180.0 s."}
        )
        self.account.invalidate_recordset(["job_message"])
        self.assertIn("retry in 180.0 s", self.account.job_message)
        self.assertIn("attempt 2", self.account.job_message)
        record.write({"state": "failed", "exc_message": "Max. retries (5) reached"})
        self.account.invalidate_recordset(["job_message"])
        self.assertIn("failed: Max. retries (5) reached", self.account.job_message)
