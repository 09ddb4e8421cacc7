import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("amazon_delivery_lists_tour", {
    url: "/odoo/action-amazon_delivery_lists.action_delivery_list",
    steps: () => [
        {
            content: "The generated delivery list is among the downloads",
            trigger: ".o_list_view .o_data_row td[name='publication_id']:contains('Tour Gardening Weekly')",
        },
        {
            content: "Each list can be downloaded from the list view",
            trigger: ".o_list_view .o_data_row button[name='action_download']",
        },
        {
            content: "Open the delivery list",
            trigger: ".o_list_view .o_data_row td[name='kind']:contains('Delivery list')",
            run: "click",
        },
        {
            content: "The list form offers the download",
            trigger: ".o_form_view .o_form_statusbar button[name='action_download']",
        },
        {
            content: "The list is for the first issue",
            trigger: ".o_form_view div[name='issue_id']:contains('T1/2025')",
        },
        {
            content: "The recipient is listed with the delivery address",
            trigger: ".o_form_view div[name='line_ids'] .o_data_row:has(td[name='recipient_name']:contains('Gerda Tourgardener')):has(td[name='city']:contains('Berlin'))",
        },
        {
            content: "The line belongs to the subscription",
            trigger: ".o_form_view div[name='line_ids'] .o_data_row td[name='subscription_id']:not(:empty)",
        },
        {
            content: "Open the Delivery Lists menu",
            trigger: ".o_main_navbar .o_menu_sections button:contains('Delivery Lists')",
            run: "click",
        },
        {
            content: "Go to the subscriptions",
            trigger: ".o-dropdown--menu .dropdown-item:contains('Subscriptions')",
            run: "click",
        },
        {
            content: "Open the subscriber's subscription",
            trigger: ".o_list_view .o_data_row td[name='partner_id']:contains('Gerda Tourgardener')",
            run: "click",
        },
        {
            content: "The subscription counts one delivered issue",
            trigger: ".o_form_view button[name='action_view_lists'] .o_stat_value:contains('1')",
        },
        {
            content: "and shows the delivery on its list",
            trigger: ".o_form_view div[name='line_ids'] .o_data_row td[name='issue_id']:contains('T1/2025')",
        },
    ],
});
