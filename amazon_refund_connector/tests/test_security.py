from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from .common import AmazonSandboxCase


class TestSecurity(AmazonSandboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="amazon_user",
            groups="amazon_refund_connector.group_amazon_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="amazon_manager",
            groups="amazon_refund_connector.group_amazon_manager",
        )

    def test_user_cannot_read_credentials(self):
        account = self.account.with_user(self.user)
        self.assertEqual(account.name, self.account.name)
        for field in ("lwa_client_secret", "refresh_token", "lwa_client_id"):
            with self.assertRaises(AccessError):
                account.read([field])
        self.assertNotIn("refresh_token", account.fields_get())

    def test_user_cannot_change_account(self):
        with self.assertRaises(AccessError):
            self.account.with_user(self.user).write({"name": "Renamed"})

    def test_manager_reads_and_writes_credentials(self):
        account = self.account.with_user(self.manager)
        self.assertEqual(account.refresh_token, self.seller["refresh_token"])
        account.write({"lwa_client_secret": "changed-secret"})
        self.assertEqual(self.account.sudo().lwa_client_secret, "changed-secret")

    def test_user_can_test_connection(self):
        params = self.account.with_user(self.user).action_test_connection()["params"]
        self.assertEqual(params["type"], "success")
        self.assertEqual(self.account.connection_state, "ok")

    def test_multi_company_rule(self):
        other = self.env["res.company"].create({"name": "Other Amazon Company"})
        other_account = self.env["amazon.account"].create(
            self._account_vals(self.seller, name="Other", company_id=other.id)
        )
        self.manager.write({"company_ids": [(4, other.id)]})
        visible = (
            self.env["amazon.account"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=[self.env.company.id])
            .search([])
        )
        self.assertIn(self.account, visible)
        self.assertNotIn(other_account, visible)
        both = (
            self.env["amazon.account"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=[self.env.company.id, other.id])
            .search([])
        )
        self.assertIn(other_account, both)
        self.assertNotEqual(other_account.team_id, self.account.team_id)
        self.assertEqual(other_account.team_id.company_id, other)

    def test_accounts_of_a_company_share_its_amazon_team(self):
        second = self.env["amazon.account"].create(
            self._account_vals(self.seller, name="Second")
        )
        self.assertEqual(second.team_id, self.account.team_id)
        self.assertEqual(second.team_id.name, "Amazon")
