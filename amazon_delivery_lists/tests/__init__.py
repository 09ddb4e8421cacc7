from . import test_sale_subscription
from . import test_delivery_list
from . import test_subsequent_list
from . import test_delivery_notes
from . import test_bad_input
from . import test_constraints
from . import test_security
from . import test_ui
