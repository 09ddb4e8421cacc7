from odoo import api, models

# Han characters are drawn differently in each of these countries: the slip
# uses the matching Noto CJK font (Japanese by default).
CJK_FONT_CLASSES = {
    "CN": "o_slip_cjk_sc",
    "SG": "o_slip_cjk_sc",
    "TW": "o_slip_cjk_tc",
    "HK": "o_slip_cjk_hk",
    "MO": "o_slip_cjk_hk",
    "KR": "o_slip_cjk_kr",
}


class ReportDeliverySlip(models.AbstractModel):
    _name = "report.amazon_delivery_lists.report_delivery_slip"
    _description = "Delivery slip of a delivery list"

    @api.model
    def _get_sender_line(self, company):
        """The company's address on one line, as a return address."""
        address = company.partner_id._display_address(without_company=True)
        parts = [company.name] + [part.strip() for part in address.splitlines()]
        return ", ".join(part for part in parts if part)

    @api.model
    def _get_report_values(self, docids, data=None):
        lines = self.env["delivery.list.line"].browse(docids)
        senders = {
            company: self._get_sender_line(company) for company in lines.company_id
        }
        slips = []
        for partner_lines in lines.grouped("partner_id").values():
            partner_lines = partner_lines.sorted(lambda x: (x.issue_number, x.id))
            first = partner_lines[0]
            slips.append(
                {
                    "lines": partner_lines,
                    "first": first,
                    "sender": senders.get(first.company_id, ""),
                    "font_class": CJK_FONT_CLASSES.get(first.country_code or "", ""),
                }
            )
        return {
            "doc_ids": docids,
            "doc_model": "delivery.list.line",
            "docs": lines,
            "slips": slips,
        }
