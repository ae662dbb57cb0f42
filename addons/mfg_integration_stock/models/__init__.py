from . import stock_move
from . import stock_picking
from . import mfg_message
from . import mfg_connector
from . import mfg_interplant_transfer
from . import mfg_stock_difference
