# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import test_dashboard_data
from . import test_stats_view
from . import test_alerts
from . import test_dashboard_http
from . import test_metrics_http
