"""Delivery targets of the return path (Odoo -> plant): one module per type, see ``base.py``."""
from .base import Refused, Target, Unavailable, register, target_types

__all__ = ["Refused", "Target", "Unavailable", "register", "target_types"]
