from . import stock_events  # noqa: F401
