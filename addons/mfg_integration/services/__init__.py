"""Plain-Python services used by the models: no ORM state of their own, easy to test."""
from . import backoff, mapping_spec, partitioning, secret_box, transport  # noqa: F401
