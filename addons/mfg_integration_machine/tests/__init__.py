from . import test_oee
from . import test_meters
from . import test_alarms
from . import test_access
from . import test_setpoints
