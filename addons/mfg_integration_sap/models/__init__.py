from . import mfg_connector
from . import mfg_flow
from . import mfg_message
from . import mfg_sap_material
