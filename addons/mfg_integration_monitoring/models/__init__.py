# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import mfg_message_stats
from . import mfg_flow
from . import res_config_settings
