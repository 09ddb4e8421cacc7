import csv
import io
from datetime import date

from .common import DeliveryListsCase

ISSUE_LOGGER = "odoo.addons.amazon_delivery_lists.models.delivery_publication_issue"


class TestListIsADocument(DeliveryListsCase):
    """A list shows the issue, the product and the recipient as they were
    when it was made, whatever changes afterwards."""

    def setUp(self):
        super().setUp()
        self.subscriber = self._create_partner("Paula Past")
        self._order_on("2025-08-06", self.subscriber)
        self._run_on("2025-08-07")
        self.buyer = self._create_partner("Olga Original", street="Lindenallee 3")
        self._order_on("2025-08-08", self.buyer, product=self.single_product)
        self._run_on("2025-08-09")
        self.delivery_list = self._issue_list(33, "delivery")
        self.notes = self._lists("delivery_note")
        self.assertEqual(len(self.delivery_list.line_ids), 1)
        self.assertEqual(len(self.notes.line_ids), 1)

    def _change_everything(self):
        self.subscription_product.name = "Garden Weekly Plus, 12 issues"
        self.single_product.name = "Garden Weekly Plus, single issue"
        self.publication.name = "Garden Weekly Plus"
        with self.assertLogs(ISSUE_LOGGER, level="WARNING"):
            self.issues[33].write(
                {"name": "33b/2025", "publication_date": "2025-08-21"}
            )
        austria = self.env.ref("base.at")
        for partner in self.subscriber | self.buyer:
            partner.write(
                {
                    "name": f"{partner.name} (moved)",
                    "street": "Ringstraße 9",
                    "zip": "1010",
                    "city": "Wien",
                    "country_id": austria.id,
                }
            )

    def _csv_rows(self, delivery_list):
        content = delivery_list._get_csv_content().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(content)))
        header = rows[0]
        return [dict(zip(header, row, strict=True)) for row in rows[1:]]

    def test_line_keeps_the_values_of_generation(self):
        line = self.delivery_list.line_ids
        self._change_everything()
        self.assertEqual(self.delivery_list.publication_name, "Garden Weekly (test)")
        self.assertEqual(line.issue_number, 33)
        self.assertEqual(line.issue_name, "33/2025")
        self.assertEqual(line.issue_date, date(2025, 8, 14))
        self.assertEqual(line.product_name, "Garden Weekly, 12 issues")
        self.assertEqual(line.recipient_name, "Paula Past")
        self.assertEqual(line.city, "Berlin")
        self.assertEqual(line.country_name, "Germany")
        self.assertEqual(line.country_code, "DE")

    def test_csv_shows_the_values_of_generation(self):
        self._change_everything()
        (row,) = self._csv_rows(self.delivery_list)
        self.assertEqual(row["Publication"], "Garden Weekly (test)")
        self.assertEqual(row["Issue number"], "33")
        self.assertEqual(row["Issue"], "33/2025")
        self.assertEqual(row["Publication date"], "2025-08-14")
        self.assertEqual(row["Product"], "Garden Weekly, 12 issues")
        self.assertEqual(row["Recipient"], "Paula Past")
        self.assertEqual(row["Street"], "Gartenstraße 1")
        self.assertEqual(row["ZIP"], "10115")
        self.assertEqual(row["City"], "Berlin")
        self.assertEqual(row["Country"], "Germany")
        self.assertEqual(row["Country code"], "DE")

    def test_slip_shows_the_values_of_generation(self):
        self._change_everything()
        # Tests render reports as HTML: the slip's content, page by page.
        ((filename, slip),) = self.notes._get_delivery_slips()
        self.assertEqual(filename, "001_Olga_Original.pdf")
        html = slip.decode()
        for shown in (
            "Olga Original",
            "Lindenallee 3",
            "10115",
            "Berlin",
            "Germany",
            "Garden Weekly (test)",
            "33/2025",
            "08/14/2025",
            "Garden Weekly, single issue",
        ):
            self.assertIn(shown, html)
        for today in ("(moved)", "Ringstraße", "Wien", "Austria", "Plus", "33b"):
            self.assertNotIn(today, html)
        (row,) = self._csv_rows(self.notes)
        self.assertEqual(row["Recipient"], "Olga Original")
        self.assertEqual(row["Product"], "Garden Weekly, single issue")
        self.assertEqual(row["Publication date"], "2025-08-14")


class TestCsvCountry(DeliveryListsCase):
    def test_country_name_and_iso_code(self):
        self._order_on("2025-08-06", self._create_partner("Dieter Deutsch"))
        self._order_on(
            "2025-08-06",
            self._create_partner(
                "Yamada Taro",
                street="Chiyoda 1-1",
                zip="100-0001",
                city="Tokyo",
                country_id=self.env.ref("base.jp").id,
            ),
        )
        self._run_on("2025-08-07")
        content = self._issue_list(33, "delivery")._get_csv_content()
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        header, body = rows[0], rows[1:]
        self.assertIn("Country", header)
        self.assertIn("Country code", header)
        self.assertEqual(header.index("Country code"), header.index("Country") + 1)
        by_recipient = {row[header.index("Recipient")]: row for row in body}
        country = header.index("Country")
        self.assertEqual(
            by_recipient["Dieter Deutsch"][country : country + 2], ["Germany", "DE"]
        )
        self.assertEqual(
            by_recipient["Yamada Taro"][country : country + 2], ["Japan", "JP"]
        )
