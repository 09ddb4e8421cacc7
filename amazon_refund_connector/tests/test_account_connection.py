import socket

from .common import AmazonSandboxCase


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TestAccountConnection(AmazonSandboxCase):
    def _test(self, account=None):
        account = account or self.account
        result = account.action_test_connection()
        self.assertEqual(result["tag"], "display_notification")
        return result["params"]

    def _chatter(self, account=None):
        account = account or self.account
        return "\n".join(account.message_ids.mapped("body"))

    def test_good_credentials(self):
        params = self._test()
        self.assertEqual(params["type"], "success")
        self.assertEqual(self.account.connection_state, "ok")
        self.assertFalse(self.account.last_error)
        refs = set(self.account.available_marketplace_ids.mapped("marketplace_ref"))
        self.assertEqual(refs, set(self.marketplaces))
        # An account without marketplaces gets those of its region.
        self.assertEqual(
            set(self.account.marketplace_ids.mapped("marketplace_ref")),
            set(self.marketplaces),
        )
        self.assertIn("Amazon.de", params["message"])
        self.assertIn("3 marketplaces", self._chatter())

    def test_participation_in_unknown_marketplace_creates_it(self):
        marketplace = self.env["amazon.marketplace"].search(
            [("marketplace_ref", "=", "A1PA6795UKMFR9")]
        )
        marketplace.unlink()
        self._test()
        created = self.env["amazon.marketplace"].search(
            [("marketplace_ref", "=", "A1PA6795UKMFR9")]
        )
        self.assertEqual(created.country_id.code, "DE")
        self.assertEqual(created.currency_id.name, "EUR")
        self.assertEqual(created.region, "EU")

    def test_wrong_client_secret(self):
        self.account.lwa_client_secret = "not-the-secret"
        params = self._test()
        self.assertEqual(params["type"], "danger")
        self.assertEqual(self.account.connection_state, "failed")
        self.assertIn("refused the account's credentials", self.account.last_error)
        self.assertIn("invalid_client", self.account.last_error)
        self.assertNoSecret(self.account.last_error)
        self.assertNotIn("not-the-secret", self.account.last_error)
        self.assertNotIn("not-the-secret", self._chatter())

    def test_wrong_refresh_token(self):
        self.account.refresh_token = "Atzr|revoked-token-value"
        self._test()
        self.assertEqual(self.account.connection_state, "failed")
        self.assertIn("invalid_grant", self.account.last_error)
        self.assertNotIn("revoked-token-value", self.account.last_error)

    def test_missing_credentials(self):
        self.account.refresh_token = False
        params = self._test()
        self.assertEqual(params["type"], "danger")
        self.assertIn("refresh token are required", self.account.last_error)

    def test_unreachable_endpoint(self):
        url = f"http://127.0.0.1:{_closed_port()}"
        self.account.write(
            {"endpoint_override": url, "lwa_endpoint_override": f"{url}/auth/o2/token"}
        )
        self._test()
        self.assertEqual(self.account.connection_state, "failed")
        self.assertIn("could not be reached", self.account.last_error)
        self.assertNoSecret(self.account.last_error)

    def test_server_error(self):
        self.sandbox.inject_fault("getMarketplaceParticipations", "server_error")
        self._test()
        self.assertIn("could not be reached or failed", self.account.last_error)
        self.assertIn("503", self.account.last_error)

    def test_server_error_with_html_body(self):
        self.sandbox.inject_fault("getMarketplaceParticipations", "server_error_html")
        self._test()
        self.assertIn("unreadable", self.account.last_error)

    def test_malformed_body(self):
        self.sandbox.inject_fault("getMarketplaceParticipations", "malformed")
        self._test()
        self.assertEqual(self.account.connection_state, "failed")
        self.assertIn("unreadable", self.account.last_error)

    def test_throttle_storm(self):
        self.sandbox.inject_fault("getMarketplaceParticipations", "throttle", count=10)
        self._test()
        self.assertEqual(self.account.connection_state, "failed")
        self.assertIn("limiting the calls", self.account.last_error)
        self.assertIn("getMarketplaceParticipations", self.account.last_error)
        # Bounded: a few attempts, no busy loop.
        self.assertLessEqual(self.sandbox.call_count("getMarketplaceParticipations"), 3)

    def test_single_throttle_is_waited_out(self):
        self.sandbox.inject_fault("getMarketplaceParticipations", "throttle", count=1)
        params = self._test()
        self.assertEqual(params["type"], "success")
        self.assertEqual(self.sandbox.call_count("getMarketplaceParticipations"), 2)

    def test_expired_access_token_is_renewed(self):
        self._test()
        self.sandbox.expire_tokens()
        params = self._test()
        self.assertEqual(params["type"], "success")

    def test_expired_token_answer_once_is_renewed(self):
        self.sandbox.inject_fault("getMarketplaceParticipations", "expired_token")
        params = self._test()
        self.assertEqual(params["type"], "success")

    def test_slow_answer_times_out(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "amazon_refund_connector.timeout", "0.5"
        )
        self.sandbox.inject_fault("getMarketplaceParticipations", "slow", delay=2.0)
        self._test()
        self.assertIn("did not answer", self.account.last_error)

    def test_no_secret_in_logs(self):
        self.account.lwa_client_secret = "a-wrong-secret-value"
        with (
            self.assertLogs(level="DEBUG") as logs,
            self.assertLogs(
                "odoo.addons.amazon_refund_connector", level="WARNING"
            ) as ours,
        ):
            self._test()
        text = "\n".join(logs.output + ours.output)
        self.assertIn("Connection test failed", text)
        self.assertNotIn("a-wrong-secret-value", text)
        self.assertNoSecret(text)

    def test_error_is_cleared_by_success(self):
        self.sandbox.inject_fault("getMarketplaceParticipations", "server_error")
        self._test()
        self.assertTrue(self.account.last_error)
        self._test()
        self.assertFalse(self.account.last_error)
        self.assertEqual(self.account.connection_state, "ok")
