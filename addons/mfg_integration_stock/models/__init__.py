from . import stock_move
from . import stock_picking
from . import mfg_message
