from . import res_company
from . import res_config_settings
from . import stock_warehouse_orderpoint
from . import mfg_demand_forecast
from . import mfg_message
from . import mfg_planning_export
