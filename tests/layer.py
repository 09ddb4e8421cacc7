"""Import the connector's SP-API layer without Odoo.

The addon folder is registered as a bare package so that importing its
``sp_api`` sub-package does not run the addon's ``__init__`` (which needs
Odoo).
"""

import importlib
import sys
import types
from pathlib import Path

ADDON = Path(__file__).resolve().parents[1] / "amazon_refund_connector"


def load():
    if "amazon_refund_connector" not in sys.modules:
        package = types.ModuleType("amazon_refund_connector")
        package.__path__ = [str(ADDON)]
        sys.modules["amazon_refund_connector"] = package
    return importlib.import_module("amazon_refund_connector.sp_api")
