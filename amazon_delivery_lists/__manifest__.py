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
    "data": [],
    "installable": True,
    "application": False,
}
