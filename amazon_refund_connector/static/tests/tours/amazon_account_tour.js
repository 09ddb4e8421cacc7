import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("amazon_account_sync_tour", {
    url: "/odoo/action-amazon_refund_connector.action_amazon_account",
    steps: () => [
        {
            content: "Open the Amazon account",
            trigger: ".o_data_row td:contains('Amazon tour account')",
            run: "click",
        },
        {
            content: "Test the connection",
            trigger: ".o_form_view button[name='action_test_connection'].btn-primary",
            run: "click",
        },
        {
            content: "Amazon accepted the credentials",
            trigger: ".o_notification:contains('Amazon accepted the credentials')",
        },
        {
            content: "Synchronise the orders",
            trigger: ".o_form_view button[name='action_sync_orders']",
            run: "click",
        },
        {
            content: "The orders were synchronised",
            trigger: ".o_notification:contains('orders created')",
        },
        {
            content: "Open the account's orders",
            trigger: ".o_form_view button[name='action_view_orders']:contains('Orders')",
            run: "click",
        },
        {
            content: "The imported orders are listed with their Amazon reference",
            trigger: ".o_list_view .o_data_row td[name='amazon_order_ref']:contains('-')",
            run: "click",
        },
        {
            content: "The order shows its Amazon tab",
            trigger: ".o_form_view .o_notebook a:contains('Amazon')",
            run: "click",
        },
        {
            content: "with the Amazon marketplace",
            trigger: ".o_form_view div[name='amazon_marketplace_id']:contains('Amazon.')",
        },
    ],
});
