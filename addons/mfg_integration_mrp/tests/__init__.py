from . import test_order_release
from . import test_shopfloor_sequence
from . import test_downtime_quality
from . import test_batching
from . import test_access
from . import test_execution_loop
from . import test_field_ownership
from . import test_master_data
