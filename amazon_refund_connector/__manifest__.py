{
    "name": "Amazon Connector (orders, shipments, FBA stock, refunds)",
    "summary": "Sync Amazon Seller Central orders, shipments, FBA stock, refunds "
    "and payments through the Selling Partner API",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/amazon-connector-odoo/amazon-connector",
    "author": "Amazon Connector for Odoo contributors",
    "license": "LGPL-3",
    "depends": [
        "mail",
        "sale_management",
        "sale_stock",
        "stock_delivery",
        "account",
        "queue_job",
    ],
    "external_dependencies": {"python": ["python-amazon-sp-api"]},
    "data": [
        "security/amazon_security.xml",
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
        "data/amazon_marketplace_data.xml",
        "data/ir_cron_data.xml",
        "data/amazon_product_data.xml",
        "views/sale_order_views.xml",
        "views/amazon_order_wizard_views.xml",
        "views/amazon_account_views.xml",
        "views/amazon_offer_views.xml",
        "views/amazon_marketplace_views.xml",
        "views/amazon_rate_limit_views.xml",
        "views/amazon_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "amazon_refund_connector/static/tests/tours/*.js",
        ],
    },
    "demo": [
        "demo/amazon_account_demo.xml",
        "demo/product_demo.xml",
    ],
}
