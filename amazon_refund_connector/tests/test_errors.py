"""Errors classed right: an outage is retried with back-off, refused
credentials and a malformed endpoint are final, with a clear message."""

from datetime import datetime, timedelta

from odoo.exceptions import ValidationError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

from .common import AmazonSandboxCase


class TestErrorClasses(AmazonSandboxCase):
    def setUp(self):
        super().setUp()
        # Each test asks Login with Amazon for a token of its own.
        client = self.account._get_client()
        client.forget_access_token()
        client.close()

    def _run_job(self):
        """Run the account's marketplace refresh as queue_job's runner does.

        Returns ``(job, error)``: the job after the run, and the
        RetryableJobError that postponed it (None when it ended).
        """
        job = Job.load(
            self.env,
            self.account.with_delay(channel="root.amazon")
            ._job_refresh_marketplaces()
            .uuid,
        )
        before = datetime.now()
        try:
            job.perform()
        except RetryableJobError as error:
            job.postpone(result=str(error), seconds=error.seconds)
            job.store()
            return job, error, before
        job.set_done(result=job.result)
        job.store()
        return job, None, before

    def _assert_outage(self):
        job, error, before = self._run_job()
        self.assertIsNotNone(error, "an outage re-schedules the job")
        self.assertFalse(error.ignore_retry)
        self.assertIn("Amazon could not be reached", job.result)
        self.assertNoSecret(job.result)
        # First retry after a minute (the job's retry pattern), not at once.
        self.assertGreaterEqual(job.eta, before + timedelta(seconds=59))
        self.assertLessEqual(job.eta, datetime.now() + timedelta(seconds=61))
        # Nothing was recorded as a failure of the account.
        self.assertFalse(self.account.last_error)
        return job

    def test_lwa_server_error_is_an_outage_with_back_off(self):
        self.sandbox.inject_fault("getAccessToken", "server_error", count=6)
        job = self._assert_outage()
        # Later attempts wait longer: the back-off grows with the retries.
        job.retry = 5
        job.postpone(result=job.result)
        self.assertGreaterEqual(job.eta, datetime.now() + timedelta(seconds=299))

    def test_lwa_html_error_is_an_outage(self):
        self.sandbox.inject_fault("getAccessToken", "server_error_html")
        self._assert_outage()

    def test_lwa_reset_is_an_outage(self):
        self.sandbox.inject_fault("getAccessToken", "reset")
        self._assert_outage()

    def test_lwa_timeout_is_an_outage(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "amazon_refund_connector.timeout", "0.3"
        )
        self.sandbox.inject_fault("getAccessToken", "slow", delay=1.5)
        self._assert_outage()

    def test_lwa_busy_is_an_outage(self):
        self.sandbox.inject_fault("getAccessToken", "throttle")
        self._assert_outage()

    def test_sp_api_server_error_is_an_outage(self):
        self.sandbox.inject_fault("getMarketplaceParticipations", "server_error")
        self._assert_outage()

    def _assert_refused(self, code):
        job, error, _before = self._run_job()
        self.assertIsNone(error, "refused credentials are not retried")
        self.assertEqual(job.state, "done")
        self.assertIn("refused the account's credentials", job.result)
        self.assertIn(code, job.result)
        self.assertIn("Marketplace refresh failed", self.account.last_error)
        self.assertNoSecret(self.account.last_error)
        self.assertNoSecret(job.result)

    def test_invalid_grant_is_refused_credentials(self):
        self.account.refresh_token = "Atzr|revoked-token"
        self._assert_refused("invalid_grant")

    def test_invalid_client_is_refused_credentials(self):
        self.account.lwa_client_secret = "not-the-secret"
        self._assert_refused("invalid_client")

    def test_malformed_endpoint_refused_on_save(self):
        for field in ("endpoint_override", "lwa_endpoint_override"):
            for url in (
                "sandbox.example.com",
                "https://",
                "http:///auth/o2/token",
                "https://sandbox.example.com:port",
                "https://sand box.example.com",
            ):
                with self.assertRaises(ValidationError) as caught:
                    self.account.write({field: url})
                self.assertIn("is not a valid http(s) URL", str(caught.exception))
                self.assertIn(url, str(caught.exception))
        with self.assertRaises(ValidationError):
            self.env["amazon.account"].create(
                self._account_vals(
                    self.seller, name="Amazon bad", endpoint_override="localhost:8000"
                )
            )
        self.account.endpoint_override = "http://127.0.0.1:8999"

    def test_malformed_endpoint_stored_before_is_final(self):
        # A value stored before the check existed is refused at the call,
        # once, not retried as an outage.
        self.env.cr.execute(
            "UPDATE amazon_account SET endpoint_override = 'sandbox:8000'"
            " WHERE id = %s",
            (self.account.id,),
        )
        self.account.invalidate_recordset(["endpoint_override"])
        job, error, _before = self._run_job()
        self.assertIsNone(error)
        self.assertIn("not a valid http(s) URL", job.result)
        self.assertEqual(self.sandbox.call_count("getMarketplaceParticipations"), 0)
