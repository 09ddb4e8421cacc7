import { registry } from "@web/core/registry";

// Rows of the overview before the order's refunds are opened.
let overviewRows = 0;

function orderCells() {
    return [...document.querySelectorAll(".o_list_view .o_data_row td[name='sale_order_id']")];
}

registry.category("web_tour.tours").add("amazon_refund_overview_tour", {
    steps: () => [
        {
            content: "The refunds overview lists the imported refunds",
            trigger: ".o_list_view .o_data_row td[name='refund_ref']",
            run() {
                overviewRows = document.querySelectorAll(".o_list_view .o_data_row").length;
                const orders = new Set(orderCells().map((cell) => cell.textContent.trim()));
                if (orders.size < 2) {
                    throw new Error(`the overview shows refunds of ${orders.size} order(s), not of two`);
                }
            },
        },
        {
            content: "Open a refund entry",
            trigger: ".o_list_view .o_data_row:first-child td[name='refund_ref']",
            run: "click",
        },
        {
            content: "Open the Amazon order of the refund",
            trigger: ".o_form_view .o_field_widget[name='sale_order_id'] a",
            run: "click",
        },
        {
            content: "Open the order's Amazon refunds",
            trigger: ".o_form_view button[name='action_view_amazon_refunds']",
            run: "click",
        },
        {
            content: "Only the refunds of that order are listed",
            trigger: ".o_list_view .o_data_row td[name='sale_order_id']",
            run() {
                const orders = new Set(orderCells().map((cell) => cell.textContent.trim()));
                const rows = document.querySelectorAll(".o_list_view .o_data_row").length;
                if (orders.size !== 1 || rows >= overviewRows) {
                    throw new Error(
                        `expected the rows of one order, got ${rows} rows of ${orders.size} orders`
                    );
                }
            },
        },
    ],
});
