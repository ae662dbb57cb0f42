from . import mfg_rest_endpoint
from . import mfg_rest_field_map
from . import mfg_connector
from . import mfg_flow
from . import mfg_message
