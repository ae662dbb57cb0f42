"""Prometheus metrics of the integration hub (``GET /mfg/metrics``), built to be scraped every
15 s on a table of 100M+ messages.

Nothing here counts the whole message table. Every query reads either
- the few rows that are not finished (``state`` index: received/validated/mapped/failed/dead/
  exception), or
- the last ``WINDOW_S`` seconds of the ``received_at`` index (throughput and latency), or
- small tables (connectors, queue jobs not done, webhook deliveries not done).
So lifetime totals of done messages are not exposed as counters (they would need a table
scan or a write on every message); the window gauges give the rates instead:
``mfg_messages_done_window`` / ``WINDOW_S`` is messages per second. The text format is
prometheus_client's (a CollectorRegistry of metric families built per scrape).
"""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from odoo.addons.mfg_integration.states import BACKLOG_STATES

from .dashboard_sql import UNKNOWN_ORDER_PATTERNS

WINDOW_S = 300
LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)
FLOW_LABELS = ["plant", "connector", "flow", "type", "direction"]
# One pass over the window: per flow and direction, received, done, the latency sum and one
# cumulative count per histogram bucket (the bounds are parameters).
WINDOW_QUERY = (
    "SELECT flow_id, direction, count(*), count(*) FILTER (WHERE state = 'done'), "
    "COALESCE(sum(latency_ms) FILTER (WHERE state = 'done'), 0), "
    + ", ".join(["count(*) FILTER (WHERE state = 'done' AND latency_ms <= %s)"]
                * len(LATENCY_BUCKETS_S))
    + " FROM mfg_message WHERE received_at >= now() at time zone 'UTC' - %s * interval '1 second'"
    " GROUP BY flow_id, direction"
)


def _names(cr):
    """{(plant id, connector id, flow id): label values} of every flow (small tables)."""
    cr.execute("""
        SELECT f.id, COALESCE(p.name, ''), c.code, f.name, f.canonical_type, f.direction
          FROM mfg_flow f JOIN mfg_connector c ON c.id = f.connector_id
          LEFT JOIN res_company p ON p.id = c.company_id""")
    return {row[0]: [str(value) for value in row[1:]] for row in cr.fetchall()}


def _flow_labels(names, flow_id, fallback_connector=""):
    return names.get(flow_id) or ["", fallback_connector, "(no flow)", "", ""]


def backlog(cr, names):
    """Messages not finished, per flow and state (the state index: the few unfinished rows)."""
    family = GaugeMetricFamily(
        "mfg_messages_backlog", "Messages not finished, by state", labels=FLOW_LABELS + ["state"]
    )
    oldest = GaugeMetricFamily(
        "mfg_messages_oldest_pending_seconds",
        "Age of the oldest message still to be processed",
        labels=FLOW_LABELS,
    )
    cr.execute(
        """
        SELECT flow_id, state, count(*),
               EXTRACT(EPOCH FROM (now() at time zone 'UTC' - min(received_at)))
          FROM mfg_message WHERE state = ANY(%s) GROUP BY flow_id, state""",
        (list(BACKLOG_STATES),),
    )
    ages = {}
    for flow_id, state, count, age in cr.fetchall():
        family.add_metric(_flow_labels(names, flow_id) + [state], count)
        if state in ("received", "validated", "mapped", "failed"):
            ages[flow_id] = max(ages.get(flow_id, 0.0), float(age or 0.0))
    for flow_id, age in ages.items():
        oldest.add_metric(_flow_labels(names, flow_id), age)
    return [family, oldest]


def exceptions_by_cause(cr):
    """Exceptions by cause, the dashboard's rules (services/dashboard_sql.py)."""
    family = GaugeMetricFamily(
        "mfg_exceptions", "Messages in exception, by cause", labels=["cause"]
    )
    cr.execute(
        """
        SELECT CASE WHEN missing_mappings IS NOT NULL THEN 'unmapped'
                    WHEN canonical_type LIKE 'production.%%' AND last_error ILIKE ANY(%s)
                         THEN 'unknown_order'
                    WHEN canonical_type LIKE 'production.%%' THEN 'rejected'
                    ELSE 'other' END, count(*)
          FROM mfg_message WHERE state = 'exception' GROUP BY 1""",
        (list(UNKNOWN_ORDER_PATTERNS),),
    )
    counts = dict(cr.fetchall())
    for cause in ("unmapped", "unknown_order", "rejected", "other"):
        family.add_metric([cause], counts.get(cause, 0))
    return [family]


def window(cr, names):
    """Messages received in the last WINDOW_S seconds: received and done per flow, and the
    latency (received -> done) histogram of those done (a range of the received_at index)."""
    received = GaugeMetricFamily(
        "mfg_messages_received_window",
        f"Messages received in the last {WINDOW_S} s",
        labels=FLOW_LABELS,
    )
    done = GaugeMetricFamily(
        "mfg_messages_done_window",
        f"Messages received in the last {WINDOW_S} s and done",
        labels=FLOW_LABELS,
    )
    latency = HistogramMetricFamily(
        "mfg_message_latency_seconds",
        f"Received -> done of the messages received in the last {WINDOW_S} s",
        labels=["direction"],
    )
    cr.execute(WINDOW_QUERY, [bound * 1000 for bound in LATENCY_BUCKETS_S] + [WINDOW_S])
    per_direction = {}
    for row in cr.fetchall():
        flow_id, direction, total, finished, latency_ms = row[:5]
        received.add_metric(_flow_labels(names, flow_id), total)
        done.add_metric(_flow_labels(names, flow_id), finished)
        sums = per_direction.setdefault(direction, [0, 0.0, [0] * len(LATENCY_BUCKETS_S)])
        sums[0] += finished
        sums[1] += float(latency_ms) / 1000.0
        sums[2] = [a + b for a, b in zip(sums[2], row[5:], strict=True)]
    for direction, (finished, seconds, counts) in per_direction.items():
        series = [
            (str(bound), count) for bound, count in zip(LATENCY_BUCKETS_S, counts, strict=True)
        ]
        latency.add_metric([direction or ""], series + [("+Inf", finished)], seconds)
    return [received, done, latency]


def queue(cr):
    """queue_job: jobs waiting or running and the age of the oldest waiting one, per channel."""
    depth = GaugeMetricFamily(
        "mfg_queue_jobs", "Queue jobs not done, by channel and state", labels=["channel", "state"]
    )
    oldest = GaugeMetricFamily(
        "mfg_queue_oldest_pending_seconds",
        "Age of the oldest job waiting to run, by channel",
        labels=["channel"],
    )
    cr.execute("""
        SELECT channel, state, count(*),
               EXTRACT(EPOCH FROM (now() at time zone 'UTC' - min(COALESCE(eta, date_created))))
          FROM queue_job WHERE state IN ('wait_dependencies', 'pending', 'enqueued', 'started')
         GROUP BY channel, state""")
    ages = {}
    for channel, state, count, age in cr.fetchall():
        depth.add_metric([channel or "root", state], count)
        if state in ("pending", "enqueued"):
            ages[channel] = max(ages.get(channel, 0.0), max(float(age or 0.0), 0.0))
    for channel, age in ages.items():
        oldest.add_metric([channel or "root"], age)
    return [depth, oldest]


def edge_devices(cr):
    """Heartbeats of the edge bridges: seconds since last seen, their buffer depth."""
    seen = GaugeMetricFamily(
        "mfg_edge_last_seen_seconds",
        "Seconds since the edge device's last heartbeat",
        labels=["plant", "connector"],
    )
    depth = GaugeMetricFamily(
        "mfg_edge_buffer_depth",
        "Events waiting in the edge device's buffer (its last heartbeat)",
        labels=["plant", "connector"],
    )
    cr.execute("""
        SELECT COALESCE(p.name, ''), c.code,
               EXTRACT(EPOCH FROM (now() at time zone 'UTC' - c.last_seen_at)),
               COALESCE(c.remote_buffer_depth, 0)
          FROM mfg_connector c LEFT JOIN res_company p ON p.id = c.company_id
         WHERE c.connector_type = 'edge' AND c.active""")
    for plant, code, age, buffered in cr.fetchall():
        if age is not None:
            seen.add_metric([plant, code], float(age))
        depth.add_metric([plant, code], buffered)
    return [seen, depth]


def webhook_deliveries(cr):
    """Webhook deliveries not delivered, by state (mfg_integration_webhook installed; its state
    index keeps this to the unfinished rows)."""
    cr.execute("SELECT to_regclass('mfg_webhook_delivery')")
    if not cr.fetchone()[0]:
        return []
    family = GaugeMetricFamily(
        "mfg_webhook_deliveries", "Webhook deliveries not delivered yet, by state", labels=["state"]
    )
    cr.execute(
        "SELECT state, count(*) FROM mfg_webhook_delivery "
        "WHERE state IN ('pending', 'failed', 'dead') GROUP BY state"
    )
    for state, count in cr.fetchall():
        family.add_metric([state], count)
    return [family]


class _Families:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def render(cr, extra=()):
    """The exposition text of every family (plus ``extra`` families)."""
    names = _names(cr)
    families = [
        *backlog(cr, names),
        *exceptions_by_cause(cr),
        *window(cr, names),
        *queue(cr),
        *edge_devices(cr),
        *webhook_deliveries(cr),
        *extra,
    ]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry)
