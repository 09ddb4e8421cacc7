import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("amazon_shipment_validate_tour", {
    steps: () => [
        {
            content: "Open the shipping information of the delivery",
            trigger: ".o_form_view .o_notebook a[name='extra']",
            run: "click",
        },
        {
            content: "Enter the carrier's tracking reference",
            trigger: ".o_form_view .o_field_widget[name='carrier_tracking_ref'] input",
            run: "edit 00340434161094000042",
        },
        {
            content: "Validate the delivery",
            trigger: ".o_form_view .o_statusbar_buttons button[name='button_validate'].btn-primary",
            run: "click",
        },
        {
            content: "The delivery is done",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Done')",
        },
        {
            content: "Amazon has not answered yet: the tag says pending",
            trigger: ".o_form_view .o_field_widget[name='amazon_sync_state']:contains('Amazon sync pending')",
        },
    ],
});

registry.category("web_tour.tours").add("amazon_shipment_synced_tour", {
    steps: () => [
        {
            content: "Amazon confirmed the shipment: the tag says so",
            trigger: ".o_form_view .o_field_widget[name='amazon_sync_state']:contains('Synced with Amazon')",
        },
        {
            content: "Open the Amazon tab",
            trigger: ".o_form_view .o_notebook a:contains('Amazon')",
            run: "click",
        },
        {
            content: "The package went with its tracking reference",
            trigger: ".o_form_view .o_field_widget[name='amazon_shipment_ids'] td:contains('00340434161094000042')",
        },
    ],
});
