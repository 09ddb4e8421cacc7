import io
import unicodedata

from odoo.tools.pdf import PdfFileReader

from .common import DeliveryListsCase


class TestDeliverySlipPdf(DeliveryListsCase):
    """Delivery slips rendered by wkhtmltopdf carry their text, Japanese and
    Chinese addresses included."""

    def setUp(self):
        super().setUp()
        self.japanese = self._create_partner(
            "山田 太郎",
            street="丸の内1-1",
            zip="100-0005",
            city="東京都千代田区",
            country_id=self.env.ref("base.jp").id,
        )
        self.chinese = self._create_partner(
            "王小明",
            street="建国路88号",
            zip="100022",
            city="北京市朝阳区",
            country_id=self.env.ref("base.cn").id,
        )
        for partner in self.japanese | self.chinese:
            self._order_on("2025-08-08", partner, product=self.single_product)
        self._run_on("2025-08-09")
        self.notes = self._lists("delivery_note")
        self.report = self.env.ref("amazon_delivery_lists.action_report_delivery_slip")

    def _pdf_slips(self):
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() == "install":
            self.fail(
                "wkhtmltopdf is not installed (Debian package wkhtmltopdf): the "
                "delivery slips cannot be rendered as PDF."
            )
        # Tests render reports as HTML unless told to make real PDFs.
        slips = self.notes.with_context(force_report_rendering=True)
        return dict(slips._get_delivery_slips())

    def _pdf_text(self, pdf):
        pages = PdfFileReader(io.BytesIO(pdf)).pages
        if not hasattr(pages[0], "extract_text"):
            self.fail(
                "The PDF library Odoo uses cannot extract text (PyPDF2 2.x or "
                "pypdf is needed to read the slips)."
            )
        text = " ".join(page.extract_text() for page in pages)
        # CJK fonts share one glyph between an ideograph and its Kangxi
        # radical (山 and ⼭): the PDF may map it to the radical, which NFKC
        # folds back into the ideograph.
        return " ".join(unicodedata.normalize("NFKC", text).split())

    def _assert_shows(self, text, expected, filename):
        # Extraction breaks the text where the font changes (Latin and CJK
        # fonts in one address line): compare without white space.
        self.assertIn(
            "".join(expected.split()),
            "".join(text.split()),
            f"{filename} does not carry the text {expected!r} (text found: "
            f"{text[:300]!r}). wkhtmltopdf draws text as shapes when it loads "
            "web fonts (Odoo's report assets), and Japanese or Chinese text "
            "needs a CJK font on the machine (Debian package fonts-noto-cjk).",
        )

    def test_slips_carry_japanese_and_chinese_text(self):
        slips = self._pdf_slips()
        self.assertEqual(set(slips), {"001_山田_太郎.pdf", "002_王小明.pdf"})
        expected = {
            "001_山田_太郎.pdf": ["山田 太郎", "丸の内1-1", "東京都千代田区", "Japan"],
            "002_王小明.pdf": ["王小明", "建国路88号", "北京市朝阳区", "China"],
        }
        for filename, pdf in slips.items():
            self.assertTrue(pdf.startswith(b"%PDF"), filename)
            text = self._pdf_text(pdf)
            for shown in expected[filename] + [
                "Delivery slip",
                self.notes.name,
                "Garden Weekly, single issue",
                "33/2025",
            ]:
                self._assert_shows(text, shown, filename)

    def test_slip_layout_loads_no_web_assets(self):
        html = self.env["ir.actions.report"]._render_qweb_html(
            self.report, self.notes.line_ids.ids
        )[0]
        bodies, _ids, header, footer, _args = self.report._prepare_html(
            html, report_model=self.report.model
        )
        self.assertEqual(len(bodies), 2, "one page per recipient")
        for page in [*bodies, header, footer]:
            self.assertNotIn("<link", page)
            self.assertNotIn("/web/assets/", page)
        self.assertIn("Noto Sans CJK SC", bodies[0])
        self.assertIn("o_slip_cjk_sc", "".join(bodies))
