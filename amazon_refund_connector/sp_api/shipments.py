"""Shipment confirmations of merchant-fulfilled orders (Orders v0 confirmShipment).

Amazon recommends ``confirmShipment`` over the fulfillment feed: one call per
package, answered at once (204 without a body). Resending the same
``packageReferenceId`` edits that package, so a confirmation whose outcome is
unknown can be sent again without shipping twice; before that, the order's
packages (Orders 2026-01-01 ``getOrder`` with PACKAGES) tell whether Amazon
already has it.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from sp_api.api import OrdersV0

from .client import _iso
from .errors import AmazonInvalidInput

OTHER_CARRIER = "Other"
# Amazon caps the free-text fields of a package detail.
MAX_CARRIER_NAME = 100
MAX_TRACKING_NUMBER = 100
MAX_SHIPPING_METHOD = 100


@dataclass
class Package:
    """One package of a shipment, as Amazon is told about it."""

    reference: int
    carrier_code: str
    tracking_number: str
    ship_date: datetime
    items: dict = field(default_factory=dict)  # orderItemId -> quantity
    carrier_name: str = None
    shipping_method: str = None


def _key(text):
    return " ".join(re.split(r"[\s_\-./]+", (text or "").casefold())).strip()


def match_carrier(name, carriers):
    """``(carrier_code, carrier_name)`` for an Odoo carrier called ``name``.

    ``carriers`` maps Amazon's carrier codes to the names they are known by.
    The name is compared case-insensitively (spaces, dashes and dots alike)
    to the codes and their names; failing an exact match, the longest code
    or name the carrier's name starts with wins ("DHL Paket" is DHL). A
    carrier Amazon has no code for goes as "Other" with its own name, which
    Amazon then requires.
    """
    wanted = _key(name)
    if not wanted:
        return OTHER_CARRIER, None
    labels = []
    for code, names in carriers.items():
        for label in (code, *names):
            if _key(label):
                labels.append((_key(label), code))
    for label, code in labels:
        if label == wanted:
            return code, None
    prefixes = [
        (len(label), code) for label, code in labels if wanted.startswith(label + " ")
    ]
    if prefixes:
        return max(prefixes)[1], None
    return OTHER_CARRIER, name.strip()[:MAX_CARRIER_NAME]


def package_body(package, marketplace_id):
    """The ConfirmShipmentRequest body of ``package``; raises AmazonInvalidInput.

    Amazon's rules: a positive package reference, a tracking number, at
    least one item with a positive quantity, a carrier name with "Other".
    """
    if not isinstance(package.reference, int) or package.reference < 1:
        raise AmazonInvalidInput(
            f"The package reference {package.reference!r} is not a positive number."
        )
    tracking = (package.tracking_number or "").strip()
    if not tracking:
        raise AmazonInvalidInput("Amazon needs a tracking number for each package.")
    items = []
    for ref, qty in sorted(package.items.items()):
        if not qty or qty <= 0:
            continue
        if qty != int(qty):
            raise AmazonInvalidInput(
                f"Item {ref}: Amazon counts shipped items in whole units, not {qty}."
            )
        items.append({"orderItemId": str(ref), "quantity": int(qty)})
    if not items:
        raise AmazonInvalidInput("The package holds no item of the Amazon order.")
    detail = {
        "packageReferenceId": str(package.reference),
        "carrierCode": package.carrier_code or OTHER_CARRIER,
        "trackingNumber": tracking[:MAX_TRACKING_NUMBER],
        "shipDate": _iso(package.ship_date),
        "orderItems": items,
    }
    if detail["carrierCode"] == OTHER_CARRIER:
        if not package.carrier_name:
            raise AmazonInvalidInput(
                'A carrier Amazon has no code for goes as "Other" with its name.'
            )
        detail["carrierName"] = package.carrier_name[:MAX_CARRIER_NAME]
    if package.shipping_method:
        detail["shippingMethod"] = package.shipping_method[:MAX_SHIPPING_METHOD]
    return {"marketplaceId": marketplace_id, "packageDetail": detail}


def confirm_shipment(client, order_id, marketplace_id, package):
    """Tell Amazon that ``package`` of order ``order_id`` shipped.

    Returns nothing (Amazon answers 204); raises an AmazonError.
    """
    body = package_body(package, marketplace_id)
    client.call("confirmShipment", OrdersV0, "confirm_shipment", order_id, **body)


def order_packages(order):
    """``{packageReferenceId: package dict}`` of an Orders 2026-01-01 order."""
    packages = {}
    for package in (order or {}).get("packages") or []:
        if isinstance(package, dict) and package.get("packageReferenceId"):
            packages[str(package["packageReferenceId"])] = package
    return packages


def package_applied(order, package):
    """Whether Amazon's ``order`` holds ``package`` as it was sent.

    Same reference and tracking number, and every item with its quantity.
    """
    found = order_packages(order).get(str(package.reference))
    if not found:
        return False
    if (found.get("trackingNumber") or "").strip() != package.tracking_number.strip():
        return False
    items = {
        str(item.get("orderItemId")): item.get("quantity")
        for item in found.get("packageItems") or []
        if isinstance(item, dict)
    }
    return all(items.get(str(ref)) == qty for ref, qty in package.items.items() if qty)
