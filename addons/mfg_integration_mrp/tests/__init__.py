from . import test_order_release
from . import test_shopfloor_sequence
from . import test_downtime_quality
