"""The sandbox's operations; each module contributes its ROUTES."""

from . import (
    control,
    feeds,
    finances,
    lwa,
    order_reports,
    orders,
    reports,
    sellers,
    shipments,
)


def default_routes():
    return [
        *lwa.ROUTES,
        *sellers.ROUTES,
        *orders.ROUTES,
        *shipments.ROUTES,
        *finances.ROUTES,
        *feeds.ROUTES,
        *reports.ROUTES,
        *order_reports.ROUTES,
        *control.ROUTES,
    ]
