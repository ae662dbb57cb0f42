# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Figures of the operations dashboard, computed in two grouped SQL queries.

Both queries use GROUPING SETS, so one pass over the rows yields the figures per flow, per
connector, per plant and in total. Percentiles cannot be added up from the flow rows: that
is why every level is computed by PostgreSQL rather than summed in Python.

- *Period* figures (received, done, throughput, latency p50/p95, failure rate, retries)
  cover the messages **received** in the period: one range scan of the received_at index.
- *Backlog* figures (queue depth, oldest pending, dead letters, exceptions) are the current
  state whatever the age of the messages: a scan of the state index, which only touches the
  few messages that are not done.

The queries start from ``mfg.message._search(domain)``: model access and record rules
(plant isolation) apply exactly as for a list view of the same user.
"""
from odoo.tools import SQL

from odoo.addons.mfg_integration.states import (  # noqa: F401 (re-exported)
    BACKLOG_STATES,
    FAILURE_STATES,
    PROCESSABLE_STATES,
    PROCESSED_STATES,
)

# The core's state sets (mfg_integration/states.py); "pending" is the core's "processable".
PENDING_STATES = PROCESSABLE_STATES
PRODUCTION_TYPES = "production.%"
# Business exceptions are split by cause with simple, documented rules:
# - unmapped: the message names missing mappings (missing_mappings is set);
# - unknown order: a production.* message whose error says the order is unknown/not found;
# - rejected: any other production.* exception (Odoo or the peer refused the confirmation
#   or order: wrong state, quantity, HTTP 4xx...);
# - other: everything else (no flow, invalid payload...).
UNKNOWN_ORDER_PATTERNS = ("%unknown%order%", "%order%not found%", "%no%manufacturing order%")
EXCEPTION_CAUSES = ("unmapped", "unknown_order", "rejected", "other")

# GROUPING(company_id, connector_id, flow_id) of each level of the GROUPING SETS.
LEVEL_OF_GROUPING = {0: "flow", 1: "connector", 3: "plant", 7: "total"}


def empty_figures():
    return {
        "received": 0, "done": 0, "processed": 0, "failures": 0, "retries": 0,
        "latency_p50_ms": None, "latency_p95_ms": None,
        "queue_depth": 0, "queue": dict.fromkeys(PENDING_STATES, 0),
        "oldest_pending_at": None, "dead": 0, "exceptions": 0,
        "exceptions_by_cause": dict.fromkeys(EXCEPTION_CAUSES, 0),
    }


def _run_grouped(env, domain, aggregates):
    """Execute ``aggregates`` (built by a callable taking the column helper) grouped by
    plant/connector/flow; yield (level, (company, connector, flow), row dict)."""
    query = env["mfg.message"]._search(domain)

    def col(name):
        return SQL.identifier(query.table, name)

    company, connector, flow = col("company_id"), col("connector_id"), col("flow_id")
    query.groupby = SQL("GROUPING SETS ((%(p)s, %(c)s, %(f)s), (%(p)s, %(c)s), (%(p)s), ())",
                        p=company, c=connector, f=flow)
    names, expressions = zip(*aggregates(col), strict=True)
    env.cr.execute(query.select(
        company, connector, flow, SQL("GROUPING(%s, %s, %s)", company, connector, flow),
        *expressions,
    ))
    for company_id, connector_id, flow_id, grouping, *values in env.cr.fetchall():
        level = LEVEL_OF_GROUPING[grouping]
        yield level, (company_id, connector_id, flow_id), dict(zip(names, values, strict=True))


def _period_aggregates(col):
    state, latency = col("state"), col("latency_ms")
    done = SQL("%s = 'done' AND %s IS NOT NULL", state, latency)
    return [
        ("received", SQL("COUNT(*)")),
        ("done", SQL("COUNT(*) FILTER (WHERE %s = 'done')", state)),
        ("processed", SQL("COUNT(*) FILTER (WHERE %s IN %s)", state, PROCESSED_STATES)),
        ("failures", SQL("COUNT(*) FILTER (WHERE %s IN %s)", state, FAILURE_STATES)),
        ("retries", SQL("COALESCE(SUM(%s), 0)", col("attempts"))),
        ("latency_p50_ms", SQL(
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY %s) FILTER (WHERE %s)", latency, done)),
        ("latency_p95_ms", SQL(
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY %s) FILTER (WHERE %s)", latency, done)),
    ]


def _backlog_aggregates(col):
    state, error = col("state"), col("last_error")
    exception = SQL("%s = 'exception'", state)
    unmapped = SQL("%s IS NOT NULL", col("missing_mappings"))
    production = SQL("%s LIKE %s", col("canonical_type"), PRODUCTION_TYPES)
    unknown_order = SQL("COALESCE(%s, '') ILIKE ANY (%s)", error, list(UNKNOWN_ORDER_PATTERNS))
    aggregates = [
        (f"queue_{name}", SQL("COUNT(*) FILTER (WHERE %s = %s)", state, name))
        for name in PENDING_STATES
    ]
    return aggregates + [
        ("oldest_pending_at", SQL("MIN(%s) FILTER (WHERE %s IN %s)",
                                  col("received_at"), state, PENDING_STATES)),
        ("dead", SQL("COUNT(*) FILTER (WHERE %s = 'dead')", state)),
        ("exceptions", SQL("COUNT(*) FILTER (WHERE %s)", exception)),
        ("unmapped", SQL("COUNT(*) FILTER (WHERE %s AND %s)", exception, unmapped)),
        ("unknown_order", SQL("COUNT(*) FILTER (WHERE %s AND NOT %s AND %s AND %s)",
                              exception, unmapped, production, unknown_order)),
        ("rejected", SQL("COUNT(*) FILTER (WHERE %s AND NOT %s AND %s AND NOT %s)",
                         exception, unmapped, production, unknown_order)),
    ]


def compute_figures(env, company_ids, since, now):
    """{(level, (company, connector, flow)): figures} for the period [since, now]."""
    # Raw SQL reads columns the ORM may still hold in memory.
    env["mfg.message"].flush_model()
    figures = {}

    def entry(level, key):
        return figures.setdefault((level, key), empty_figures())

    period_domain = [("company_id", "in", company_ids),
                     ("received_at", ">=", since), ("received_at", "<=", now)]
    for level, key, row in _run_grouped(env, period_domain, _period_aggregates):
        entry(level, key).update(row)
    backlog_domain = [("company_id", "in", company_ids), ("state", "in", BACKLOG_STATES)]
    for level, key, row in _run_grouped(env, backlog_domain, _backlog_aggregates):
        target = entry(level, key)
        target["queue"] = {name: row[f"queue_{name}"] for name in PENDING_STATES}
        target["queue_depth"] = sum(target["queue"].values())
        target["oldest_pending_at"] = row["oldest_pending_at"]
        target["dead"] = row["dead"]
        target["exceptions"] = row["exceptions"]
        causes = {name: row[name] for name in ("unmapped", "unknown_order", "rejected")}
        causes["other"] = row["exceptions"] - sum(causes.values())
        target["exceptions_by_cause"] = causes
    return figures


def finish_figures(figures, period_minutes, now):
    """Add the derived ratios and ages, in place; returns ``figures``."""
    figures["throughput_per_min"] = figures["received"] / period_minutes
    figures["failure_rate"] = (figures["failures"] / figures["processed"]
                               if figures["processed"] else None)
    oldest = figures["oldest_pending_at"]
    figures["oldest_pending_age_s"] = max(0.0, (now - oldest).total_seconds()) if oldest else None
    return figures


def status_of(figures, stale_after_min, failure_amber_pct, failure_red_pct):
    """green / amber / red of one row.

    Red needs a person now: dead letters, a stale queue, or a failure rate over the red
    threshold. Amber: business exceptions waiting, retries in progress, a failure rate
    over the amber threshold or a queue half way to stale.
    """
    rate_pct = (figures["failure_rate"] or 0.0) * 100
    age_min = (figures["oldest_pending_age_s"] or 0.0) / 60
    if figures["dead"] or rate_pct >= failure_red_pct or (
            stale_after_min and age_min > stale_after_min):
        return "red"
    if figures["exceptions"] or figures["queue"]["failed"] or rate_pct >= failure_amber_pct or (
            stale_after_min and age_min > stale_after_min / 2):
        return "amber"
    return "green"


STATUS_RANK = {"green": 0, "amber": 1, "red": 2}


def worst_status(statuses):
    return max(statuses, key=STATUS_RANK.__getitem__, default="green")
