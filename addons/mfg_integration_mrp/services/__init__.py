from . import order_payload, shopfloor  # noqa: F401
