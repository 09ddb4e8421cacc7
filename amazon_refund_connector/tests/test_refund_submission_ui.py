from odoo import fields
from odoo.tests import Form, HttpCase, tagged

from .common import sandbox_class


@tagged("post_install", "-at_install")
class TestRefundSubmissionUi(HttpCase):
    """From a credit note through the wizard to the feed id on the overview."""

    def setUp(self):
        super().setUp()
        self.sandbox = sandbox_class()(time_scale=1000.0, settle_seconds=0)
        self.sandbox.start()
        self.addCleanup(self.sandbox.stop)
        self.seller = {
            "seller_id": "AUIREFUNDSELLER",
            "client_id": "amzn1.application-oa2-client.refundtour",
            "client_secret": "refund-tour-secret",
            "refresh_token": "Atzr|refund-tour-refresh",
            "marketplaces": ["A1PA6795UKMFR9"],
        }
        self.sandbox.add_seller(**self.seller)
        orders = self.sandbox.seed_orders(35, 30, seller_id=self.seller["seller_id"])
        euro = self.env.ref("base.EUR")
        euro.active = True
        if self.env.company.currency_id != euro:
            self.env["res.currency.rate"].create(
                {"currency_id": euro.id, "rate": 0.9, "name": "2000-01-01"}
            )
        skus = {i["product"]["sellerSku"] for o in orders for i in o["orderItems"]}
        warehouse = self.env.user._get_default_warehouse_id()
        for sku in skus:
            product = self.env["product.product"].create(
                {"name": sku, "default_code": sku, "is_storable": True}
            )
            self.env["stock.quant"]._update_available_quantity(
                product, warehouse.lot_stock_id, 100
            )
        self.account = self.env["amazon.account"].create(
            {
                "name": "Amazon refund tour",
                "region": "EU",
                "seller_ref": self.seller["seller_id"],
                "lwa_client_id": self.seller["client_id"],
                "lwa_client_secret": self.seller["client_secret"],
                "refresh_token": self.seller["refresh_token"],
                "endpoint_override": self.sandbox.url,
                "lwa_endpoint_override": f"{self.sandbox.url}/auth/o2/token",
            }
        )
        self.account.action_test_connection()
        self.account.action_sync_orders()
        sale = self.env["sale.order"].search(
            [
                ("amazon_account_id", "=", self.account.id),
                ("amazon_channel", "=", "FBM"),
                ("amazon_status", "=", "UNSHIPPED"),
                ("currency_id", "=", euro.id),
            ],
            limit=1,
        )
        self.assertTrue(sale, "the seeded orders hold an unshipped FBM order")
        picking = sale.picking_ids
        picking.carrier_id = self.env["delivery.carrier"].create(
            {
                "name": "DHL",
                "product_id": self.env.ref(
                    "amazon_refund_connector.product_shipping"
                ).id,
            }
        )
        picking.carrier_tracking_ref = "JD0001"
        picking.action_assign()
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        action = picking.button_validate()
        if isinstance(action, dict) and action.get("res_model"):
            Form(
                self.env[action["res_model"]].with_context(**action["context"])
            ).save().process()
        invoice = sale.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        self.assertEqual(invoice.state, "posted")
        self.note = invoice._reverse_moves(
            [{"invoice_date": fields.Date.today(), "ref": "Return"}]
        )
        self.note.action_post()
        self.sale = sale

    def _check_feed_on_entries(self):
        feed = self.env["amazon.feed"].search([("credit_note_id", "=", self.note.id)])
        self.assertEqual(len(feed), 1)
        self.assertEqual(feed.state, "submitted")
        self.assertTrue(feed.feed_ref)
        entries = self.env["amazon.refund"].search(
            [("credit_note_id", "=", self.note.id)]
        )
        self.assertTrue(entries)
        self.assertEqual(set(entries.mapped("feed_ref")), {feed.feed_ref})
        self.assertEqual(set(entries.mapped("origin")), {"odoo"})
        self.assertEqual(
            self.sandbox.feed_info(feed.feed_ref)["document"], feed.content
        )

    def _url(self):
        return f"/odoo/action-account.action_move_out_refund_type/{self.note.id}"

    def test_refund_from_credit_note_in_english(self):
        self.start_tour(self._url(), "amazon_refund_submit_tour", login="admin")
        self._check_feed_on_entries()

    def test_refund_from_credit_note_in_german(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(
            ["base", "web", "mail", "account", "sale", "amazon_refund_connector"],
            ["de_DE"],
            overwrite=True,
        )
        self.env.ref("base.user_admin").lang = "de_DE"
        self.start_tour(self._url(), "amazon_refund_submit_tour_de", login="admin")
        self._check_feed_on_entries()
