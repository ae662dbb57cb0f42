from . import execution_events, order_payload, shopfloor  # noqa: F401
