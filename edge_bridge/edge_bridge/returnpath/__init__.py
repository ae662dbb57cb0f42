"""Return path (Odoo -> plant) through the bridge: ``stage.py`` fetches, delivers and reports,
``store.py`` keeps what Odoo handed over; the delivery targets are in ``..targets``."""
from .stage import ReturnPath
from .store import CommandStore

__all__ = ["CommandStore", "ReturnPath"]
