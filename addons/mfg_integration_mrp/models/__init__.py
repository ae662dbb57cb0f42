from . import mrp_production
from . import mrp_workcenter
from . import mrp_workorder
from . import stock_scrap
from . import maintenance_request
from . import mfg_quality_hold
from . import mfg_reconciliation_line
from . import mfg_message
