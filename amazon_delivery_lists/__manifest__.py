{
    "name": "Amazon Delivery Lists (subscriptions and single issues)",
    "summary": "Delivery, redelivery and subsequent delivery lists and delivery "
    "notes for issue-based subscriptions sold on Amazon and elsewhere",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/amazon-connector-odoo/amazon-connector",
    "author": "Amazon Connector for Odoo contributors",
    "license": "LGPL-3",
    "depends": ["amazon_refund_connector"],
    "data": [
        "security/ir.model.access.csv",
        "security/delivery_security.xml",
        "data/ir_sequence_data.xml",
        "data/ir_cron_data.xml",
        "report/delivery_slip_report.xml",
        "views/delivery_publication_views.xml",
        "views/delivery_subscription_views.xml",
        "views/delivery_list_views.xml",
        "views/delivery_skipped_issue_views.xml",
        "views/product_template_views.xml",
        "views/sale_order_views.xml",
        "wizards/delivery_goodwill_wizard_views.xml",
        "views/delivery_menus.xml",
    ],
    "demo": [
        "demo/delivery_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "amazon_delivery_lists/static/tests/tours/*.js",
        ],
    },
}
