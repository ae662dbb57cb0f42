from . import mfg_message_edit
from . import mfg_flow_replay
