from . import test_account_connection
from . import test_rate_limit
from . import test_security
from . import test_jobs
from . import test_order_sync
from . import test_fba_stock
from . import test_ui
