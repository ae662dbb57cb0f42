"""Source stage: protocol clients that turn readings into ``Delivery`` objects.

Each source type is one module here holding a registered ``Source`` subclass (``base.py``); the
registry imports them all, so nothing else names them.
"""
from .base import ParseContext, Source, build_source, register, source_types

__all__ = ["ParseContext", "Source", "build_source", "register", "source_types"]
