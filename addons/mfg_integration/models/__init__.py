from . import mfg_secret_mixin
from . import mfg_connector
from . import mfg_connector_edge_return  # the return path to edge devices: a second file
from . import mfg_flow
from . import mfg_message
from . import mfg_message_processing  # the pipeline: a second file of mfg.message
from . import mfg_message_mapping  # the mapping rules registry: a third file of mfg.message
from . import mfg_message_partition
from . import mfg_mapping
from . import res_config_settings
from . import mfg_demo
from . import ir_model
