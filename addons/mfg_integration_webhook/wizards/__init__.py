from . import mfg_inbound_key_rotate
