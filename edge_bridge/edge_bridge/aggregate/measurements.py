"""Per-window statistics of numeric tags, reported by exception (deadband).

A window's min/max/avg/last is emitted when it differs from what Odoo last saw by at least the
deadband, or after ``max_silent_windows`` quiet windows so a flat-lining sensor still shows signs
of life. Statistics use every sample, so the average is not biased by the deadband.
"""


def add_sample(stats, value):
    if stats is None:
        return {"min": value, "max": value, "sum": value, "count": 1, "last": value}
    stats["min"] = min(stats["min"], value)
    stats["max"] = max(stats["max"], value)
    stats["sum"] += value
    stats["count"] += 1
    stats["last"] = value
    return stats


def should_report(stats, previous, rule):
    """previous = {"last": value reported last time, "silent": windows skipped since}."""
    if previous is None or rule.deadband <= 0:
        return True
    if abs(stats["last"] - previous["last"]) >= rule.deadband:
        return True
    if stats["max"] - stats["min"] >= rule.deadband:
        return True
    return previous["silent"] + 1 >= rule.max_silent_windows


def payload(asset, tag, stats, window_start, window_end, unit):
    return {
        "asset": asset, "tag": tag, "window_start": window_start, "window_end": window_end,
        "min": stats["min"], "max": stats["max"], "avg": stats["sum"] / stats["count"],
        "last": stats["last"], "count": stats["count"], "unit": unit,
    }
