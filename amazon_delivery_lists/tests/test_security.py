from odoo import Command
from odoo.exceptions import AccessError

from .common import DeliveryListsCase


class TestSecurity(DeliveryListsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Other Press"})
        cls.salesman = cls._user(
            "dl_salesman", cls.company, "sales_team.group_sale_salesman"
        )
        cls.outsider = cls._user(
            "dl_outsider", cls.other_company, "sales_team.group_sale_salesman"
        )
        cls.warehouse = cls._user("dl_warehouse", cls.company, "stock.group_stock_user")

    @classmethod
    def _user(cls, login, company, group):
        return cls.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "groups_id": [
                    Command.set(
                        [cls.env.ref("base.group_user").id, cls.env.ref(group).id]
                    )
                ],
            }
        )

    def setUp(self):
        super().setUp()
        self._order_on("2025-08-06", self._create_partner("Sabine Secure"))
        self._run_on("2025-08-07")
        self.delivery_list = self._issue_list(33, "delivery")

    def test_lists_stay_in_their_company(self):
        lists = self.env["delivery.list"].with_user(self.salesman)
        self.assertIn(self.delivery_list, lists.search([]))
        outsider_lists = self.env["delivery.list"].with_user(self.outsider)
        self.assertFalse(outsider_lists.search([("id", "=", self.delivery_list.id)]))
        self.assertFalse(
            self.env["delivery.subscription"].with_user(self.outsider).search([])
        )

    def test_warehouse_downloads_but_does_not_configure(self):
        delivery_list = self.delivery_list.with_user(self.warehouse)
        action = delivery_list.action_download()
        self.assertTrue(action["url"].startswith("/web/content/"))
        with self.assertRaises(AccessError):
            self.publication.with_user(self.warehouse).write({"delivery_list_days": 3})

    def test_salesman_cannot_configure_publications(self):
        with self.assertRaises(AccessError):
            self.publication.with_user(self.salesman).write({"name": "Renamed"})
