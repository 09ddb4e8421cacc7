from . import amazon_order_import
from . import amazon_order_recover
from . import amazon_refund_import
from . import amazon_refund_submit
