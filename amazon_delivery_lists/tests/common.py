"""Shared set-up: a weekly publication whose issue 33/2025 comes out on
14 August 2025, so that its delivery list is made on 7 August, its payment
cutoff is 9 August and its redelivery list is made on 12 August (the example
of the delivery list documentation)."""

from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.tests.common import TransactionCase

FIRST_NUMBER = 31
FIRST_DATE = date(2025, 7, 31)
ISSUE_COUNT = 16


class DeliveryListsCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.germany = cls.env.ref("base.de")
        cls.publication = cls._create_publication("Garden Weekly (test)")
        cls.issues = {issue.number: issue for issue in cls.publication.issue_ids}
        cls.subscription_product = cls._create_product(
            "Garden Weekly, 12 issues",
            publication_kind="subscription",
            publication_id=cls.publication.id,
            subscription_issue_count=12,
            subscription_max_issues_back=2,
            list_price=48.0,
        )
        cls.single_product = cls._create_product(
            "Garden Weekly, single issue",
            publication_kind="single_issue",
            publication_id=cls.publication.id,
            list_price=4.5,
        )
        cls.plain_product = cls._create_product("Garden gloves", list_price=9.0)

    @classmethod
    def _create_publication(cls, name, first_date=FIRST_DATE, count=ISSUE_COUNT):
        return cls.env["delivery.publication"].create(
            {
                "name": name,
                "delivery_list_days": 7,
                "payment_cutoff_days": 2,
                "redelivery_list_days": 5,
                "issue_ids": [
                    Command.create(
                        {
                            "number": FIRST_NUMBER + index,
                            "name": f"{FIRST_NUMBER + index}/2025",
                            "publication_date": first_date + timedelta(weeks=index),
                        }
                    )
                    for index in range(count)
                ],
            }
        )

    @classmethod
    def _create_product(cls, name, **vals):
        return cls.env["product.product"].create(
            {
                "name": name,
                "type": "service",
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
                **vals,
            }
        )

    @classmethod
    def _create_partner(cls, name, **vals):
        address = {
            "street": "Gartenstraße 1",
            "zip": "10115",
            "city": "Berlin",
            "country_id": cls.germany.id,
        }
        address.update(vals)
        return cls.env["res.partner"].create({"name": name, **address})

    @staticmethod
    def freeze(day, hour="10:00:00"):
        return freeze_time(f"{day} {hour}")

    def _order(
        self, partner, product=None, start_issue=None, quantity=1.0, confirm=True
    ):
        """A sale order of ``product``, confirmed on the (frozen) current day."""
        line = {
            "product_id": (product or self.subscription_product).id,
            "product_uom_qty": quantity,
        }
        if start_issue is not None:
            line["delivery_start_issue_id"] = start_issue.id
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [Command.create(line)],
            }
        )
        if confirm:
            order.action_confirm()
        return order

    def _order_on(self, day, partner, **kwargs):
        with freeze_time(f"{day} 10:00:00"):
            return self._order(partner, **kwargs)

    def _invoice(self, order):
        invoice = order._create_invoices()
        invoice.action_post()
        return invoice

    def _pay_on(self, day, invoice):
        with freeze_time(f"{day} 10:00:00"):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"payment_date": day})._create_payments()

    def _run_on(self, day, publications=None):
        """The nightly generation, as run on ``day``."""
        with freeze_time(f"{day} 01:00:00"):
            (publications or self.publication)._generate_due_lists()

    def _lists(self, kind=None, publication=None):
        domain = [("publication_id", "=", (publication or self.publication).id)]
        if kind:
            domain.append(("kind", "=", kind))
        return self.env["delivery.list"].search(domain, order="id")

    def _issue_list(self, number, kind):
        return self.env["delivery.list"].search(
            [("issue_id", "=", self.issues[number].id), ("kind", "=", kind)]
        )

    @staticmethod
    def _messages(record):
        """Every message body posted on ``record``, newest first."""
        return "\n".join(record.message_ids.mapped("body"))
