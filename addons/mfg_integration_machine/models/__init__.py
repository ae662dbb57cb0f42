# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import mfg_oee_bucket
from . import mfg_oee
from . import mfg_workcenter_ideal_cycle
from . import mrp_workcenter
from . import mfg_equipment_meter
from . import mfg_equipment_meter_rule
from . import mfg_alarm_rule
from . import maintenance_request
from . import mfg_message
