"""The sandbox's operations; each module contributes its ROUTES."""

from . import control, lwa, orders, sellers


def default_routes():
    return [*lwa.ROUTES, *sellers.ROUTES, *orders.ROUTES, *control.ROUTES]
