from odoo import models

DELIVERY_SLIP_REPORT = "amazon_delivery_lists.report_delivery_slip"


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _get_layout(self):
        # Odoo's PDF layout loads the report assets, whose web fonts Debian's
        # wkhtmltopdf (built on unpatched Qt) draws as shapes: a slip without
        # text that postal tools or a search could read. The delivery slip
        # comes with a layout of its own that only uses the system's fonts.
        if len(self) == 1 and self.report_name == DELIVERY_SLIP_REPORT:
            return self.env.ref("amazon_delivery_lists.delivery_slip_layout")
        return super()._get_layout()
