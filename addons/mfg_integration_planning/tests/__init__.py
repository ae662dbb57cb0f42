from . import test_forecast_import
from . import test_forecast_apply
from . import test_export
from . import test_access
from . import test_export_credentials
