from . import amazon_order_import
from . import amazon_order_recover
