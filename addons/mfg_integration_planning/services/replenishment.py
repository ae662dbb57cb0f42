"""How forecasts become a reordering rule's min/max (pure functions, dates in, numbers out).

A forecast of Q for the period [start, end] (both days included) is spread evenly over its
days. With L the replenishment lead time (days) and R the review period (days), from today:

    min = forecast demand over [today, today + L)           -- what is consumed while
                                                               a replenishment is under way
    max = min + forecast demand over [today + L, today + L + R)   -- plus one review period

Odoo's reordering rule then proposes max - forecasted quantity whenever the forecasted
quantity drops below min: the planner's classic (s, S) policy, fed by the forecast.
"""
from datetime import timedelta


def period_days(start, end):
    return (end - start).days + 1


def qty_in_window(qty, start, end, window_start, window_end):
    """Part of ``qty`` (spread over [start, end]) that falls in [window_start, window_end)."""
    first = max(start, window_start)
    last = min(end + timedelta(days=1), window_end)
    overlap = (last - first).days
    if overlap <= 0:
        return 0.0
    return qty * overlap / period_days(start, end)


def min_max(forecasts, today, lead_days, review_days):
    """``forecasts``: [(qty, start, end)]; returns (min, max) before rounding."""
    lead_end = today + timedelta(days=lead_days)
    review_end = lead_end + timedelta(days=review_days)
    during_lead = sum(qty_in_window(q, s, e, today, lead_end) for q, s, e in forecasts)
    during_review = sum(qty_in_window(q, s, e, lead_end, review_end) for q, s, e in forecasts)
    return during_lead, during_lead + during_review


def shift_pct(previous, new):
    """Relative change of a forecast in %, None when there is no previous forecast."""
    if previous is None:
        return None
    if not previous:
        return 0.0 if not new else 100.0
    return (new - previous) / previous * 100.0
