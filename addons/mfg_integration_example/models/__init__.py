# One file per extension: see docs/extending.md.
from . import batch_json_transport
from . import material_lot_handler
