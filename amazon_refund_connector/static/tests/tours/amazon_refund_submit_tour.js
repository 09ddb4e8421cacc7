import { registry } from "@web/core/registry";

function refundSteps(labels) {
    return [
        {
            content: "The credit note offers the refund on Amazon",
            trigger: `.o_form_view .o_statusbar_buttons button[name='action_amazon_refund']:contains('${labels.button}')`,
            run: "click",
        },
        {
            content: "The wizard names the currencies of the credit note and of Amazon",
            trigger: ".modal .o_field_widget[name='currency_label']:contains('EUR => EUR')",
        },
        {
            content: "One row per Amazon item, prefilled from the credit note",
            trigger: ".modal .o_field_widget[name='line_ids'] .o_data_row",
        },
        {
            content: "Send the refund",
            trigger: `.modal .modal-footer button[name='action_refund']:contains('${labels.refund}')`,
            run: "click",
        },
        {
            content: "Amazon accepted it",
            trigger: `.o_notification:contains('${labels.sent}')`,
        },
        {
            content: "Open the refunds overview of the credit note",
            trigger: ".o_form_view button[name='action_view_amazon_refunds']",
            run: "click",
        },
        {
            content: "Open an entry sent from Odoo",
            trigger: `.o_list_view .o_data_row td:contains('${labels.origin}')`,
            run: "click",
        },
        {
            content: "The feed id is under Numbers",
            trigger: `.o_form_view .o_inner_group:has(.o_horizontal_separator:contains('${labels.numbers}')) .o_field_widget[name='feed_ref'] span:not(:empty)`,
        },
    ];
}

registry.category("web_tour.tours").add("amazon_refund_submit_tour", {
    steps: () =>
        refundSteps({
            button: "Refund on Amazon",
            refund: "Refund",
            sent: "Refund sent to Amazon",
            origin: "Sent from Odoo",
            numbers: "Numbers",
        }),
});

registry.category("web_tour.tours").add("amazon_refund_submit_tour_de", {
    steps: () =>
        refundSteps({
            button: "Auf Amazon erstatten",
            refund: "Erstatten",
            sent: "Erstattung an Amazon übermittelt",
            origin: "Aus Odoo übermittelt",
            numbers: "Nummern",
        }),
});
