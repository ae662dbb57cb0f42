# One file per extension: see docs/extending.md.
from . import batch_json_transport
from . import shipment_confirmation_handler
