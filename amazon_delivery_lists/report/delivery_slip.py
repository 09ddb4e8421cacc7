from odoo import api, models


class ReportDeliverySlip(models.AbstractModel):
    _name = "report.amazon_delivery_lists.report_delivery_slip"
    _description = "Delivery slip of a delivery list"

    @api.model
    def _get_report_values(self, docids, data=None):
        lines = self.env["delivery.list.line"].browse(docids)
        slips = [
            (partner, partner_lines.sorted(lambda x: (x.issue_id.number, x.id)))
            for partner, partner_lines in lines.grouped("partner_id").items()
        ]
        return {
            "doc_ids": docids,
            "doc_model": "delivery.list.line",
            "docs": lines,
            "slips": slips,
        }
