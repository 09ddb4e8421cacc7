from . import delivery_goodwill_wizard
