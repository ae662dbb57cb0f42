"""Plain-Python helpers (no ORM state): outbound HTTP delivery and inbound request checks."""
from . import inbound_auth, inbound_payload, webhook_http  # noqa: F401
