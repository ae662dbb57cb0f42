# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import secrets
from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from odoo.addons.mfg_integration.services import access
from odoo.addons.mfg_integration.states import STATES

from ..controllers.metrics import TOKEN_PARAM, token_digest
from ..services import dashboard_sql

_logger = logging.getLogger(__name__)
MAX_PERIOD_MINUTES = 31 * 24 * 60
DEFAULT_FAILURE_AMBER_PCT = 5.0
DEFAULT_FAILURE_RED_PCT = 20.0


class MfgMessageStats(models.Model):
    """Read-only statistics of integration messages per hour, flow and state.

    A PostgreSQL view over mfg_message for the graph and pivot views; one row per
    (hour received, plant, connector, flow, type, direction, state). The operations
    dashboard itself is served by :meth:`get_dashboard_data`.
    """

    _name = "mfg.message.stats"
    _description = "Integration Message Statistics"
    _auto = False
    _order = "received_hour desc"
    _rec_name = "received_hour"
    # Flush these before reading the view, so fresh writes are counted.
    _depends = {"mfg.message": [
        "received_at", "create_date", "company_id", "connector_id", "flow_id",
        "canonical_type", "direction", "state", "attempts", "latency_ms",
    ]}

    received_hour = fields.Datetime("Received (hour)", readonly=True)
    company_id = fields.Many2one("res.company", string="Plant", readonly=True)
    connector_id = fields.Many2one("mfg.connector", readonly=True)
    flow_id = fields.Many2one("mfg.flow", readonly=True)
    canonical_type = fields.Char("Type", readonly=True)
    direction = fields.Selection([("in", "Inbound"), ("out", "Outbound")], readonly=True)
    state = fields.Selection(STATES, readonly=True)
    message_count = fields.Integer("Messages", readonly=True)
    attempts_total = fields.Integer("Retries", readonly=True,
                                    help="Sum of the failed attempts of the messages.")
    latency_count = fields.Integer("Done with latency", readonly=True)
    latency_total_ms = fields.Float("Total latency (ms)", readonly=True)
    latency_avg_ms = fields.Float(
        "Average latency (ms)", readonly=True, aggregator="avg",
        help="Received to done; averaged over messages, not over hours.")
    latency_max_ms = fields.Float("Max latency (ms)", readonly=True, aggregator="max")
    latency_p95_ms = fields.Float(
        "p95 latency (ms, worst hour)", readonly=True, aggregator="max",
        help="95th percentile of the hour; aggregated as the worst hour. The dashboard "
        "shows the exact p95 of a period.")

    def init(self):
        # The hour is the received_at index's expression: a filter on received_hour (the
        # action's default "Last 7 days") reads that range by index instead of the table.
        self.env.cr.execute("CREATE INDEX IF NOT EXISTS mfg_message_received_hour_index "
                            "ON mfg_message (date_trunc('hour', received_at))")
        tools.drop_view_if_exists(self.env.cr, self._table)
        done = SQL("m.state = 'done' AND m.latency_ms IS NOT NULL")
        self.env.cr.execute(SQL("""
            CREATE OR REPLACE VIEW %(view)s AS (
                SELECT MIN(m.id) AS id,
                       date_trunc('hour', m.received_at) AS received_hour,
                       m.company_id, m.connector_id, m.flow_id, m.canonical_type,
                       m.direction, m.state,
                       COUNT(*) AS message_count,
                       COALESCE(SUM(m.attempts), 0) AS attempts_total,
                       COUNT(*) FILTER (WHERE %(done)s) AS latency_count,
                       COALESCE(SUM(m.latency_ms) FILTER (WHERE %(done)s), 0) AS latency_total_ms,
                       AVG(m.latency_ms) FILTER (WHERE %(done)s) AS latency_avg_ms,
                       MAX(m.latency_ms) FILTER (WHERE %(done)s) AS latency_max_ms,
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY m.latency_ms)
                           FILTER (WHERE %(done)s) AS latency_p95_ms
                  FROM mfg_message m
              GROUP BY 2, m.company_id, m.connector_id, m.flow_id, m.canonical_type,
                       m.direction, m.state
            )""", view=SQL.identifier(self._table), done=done))

    def _read_group_select(self, aggregate_spec, query):
        # An average of hourly averages would weigh a quiet hour like a busy one:
        # weigh by the number of messages instead.
        if aggregate_spec == "latency_avg_ms:avg":
            return SQL("SUM(%s) / NULLIF(SUM(%s), 0)",
                       self._field_to_sql(self._table, "latency_total_ms", query),
                       self._field_to_sql(self._table, "latency_count", query))
        return super()._read_group_select(aggregate_spec, query)

    # ------------------------------------------------------------- dashboard
    @api.model
    def action_generate_metrics_token(self):
        """A new scrape token for GET /mfg/metrics (Integration Managers), shown once: only its
        SHA-256 is kept, so a lost token is replaced, never read back."""
        access.ensure_group(self.env, access.MANAGER, _("generate the metrics scrape token"))
        token = secrets.token_urlsafe(32)
        self.env["ir.config_parameter"].sudo().set_param(TOKEN_PARAM, token_digest(token))
        _logger.info("metrics scrape token replaced by %s", self.env.user.login)
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "title": _("Scrape token (shown once)"), "sticky": True, "type": "warning",
            "message": _("Authorization: Bearer %s - put it in Prometheus' scrape config; it "
                         "replaces the previous token.", token)}}

    @api.model
    def action_disable_metrics(self):
        access.ensure_group(self.env, access.MANAGER, _("disable the metrics endpoint"))
        self.env["ir.config_parameter"].sudo().set_param(TOKEN_PARAM, False)
        return True

    @api.model
    def get_dashboard_data(self, period_minutes=60, company_ids=None):
        """Figures of the operations dashboard over the last ``period_minutes``.

        Returns {"period_minutes", "since", "now", "thresholds", "total", "plants",
        "connectors", "flows"}; each row holds the figures (see services/dashboard_sql),
        a status (green/amber/red) and the domains of mfg.message behind each number.
        ``company_ids`` defaults to the user's active plants; others are refused.
        """
        self.check_access("read")
        period = self._dashboard_period(period_minutes)
        companies = self._dashboard_companies(company_ids)
        # Record rules follow the active plants of the context: make them the ones asked.
        stats = self.with_context(allowed_company_ids=companies.ids)
        return stats._dashboard_data(period, companies)

    @api.model
    def _dashboard_data(self, period, companies):
        now = fields.Datetime.now().replace(microsecond=0)
        since = now - timedelta(minutes=period)
        figures = dashboard_sql.compute_figures(self.env, companies.ids, since, now)
        thresholds = self._dashboard_thresholds()
        context = {"period": period, "now": now, "since": since, "thresholds": thresholds}

        flows = self.env["mfg.flow"].search([("company_id", "in", companies.ids)])
        keys = {key for (level, key) in figures if level == "flow"}
        keys |= {(f.company_id.id, f.connector_id.id, f.id) for f in flows}
        flow_rows = [self._dashboard_row(context, figures, "flow", key) for key in keys]
        flow_rows.sort(key=lambda r: (r["company_name"], r["connector_name"], r["flow_name"]))

        connector_rows = []
        for key in {(company, connector, None) for company, connector, _flow in keys}:
            children = [r for r in flow_rows if r["connector_id"] == key[1]]
            connector_rows.append(self._dashboard_row(context, figures, "connector", key,
                                                      children))
        connector_rows.sort(key=lambda r: (r["company_name"], r["connector_name"]))
        plant_rows = []
        for company in companies:
            children = [r for r in flow_rows if r["company_id"] == company.id]
            plant_rows.append(self._dashboard_row(context, figures, "plant",
                                                  (company.id, None, None), children))
        total = self._dashboard_row(context, figures, "total", (None, None, None), flow_rows)
        return {
            "period_minutes": period,
            "since": fields.Datetime.to_string(since),
            "now": fields.Datetime.to_string(now),
            "thresholds": thresholds,
            "total": total,
            "plants": plant_rows,
            "connectors": connector_rows,
            "flows": flow_rows,
            "old_versions": self._dashboard_old_versions(companies, since),
            "oee": self._dashboard_oee(companies),
        }

    @api.model
    def _dashboard_oee(self, companies):
        """Today's OEE per work center, when mfg_integration_machine is installed (its model
        is looked up by name: the dashboard does not depend on that addon)."""
        if "mfg.oee" not in self.env:
            return []
        today = fields.Date.context_today(self)
        records = self.env["mfg.oee"].search([("period_type", "=", "day"), ("date", "=", today),
                                             ("company_id", "in", companies.ids)])
        return [{"id": r.id, "workcenter_name": r.workcenter_id.display_name,
                 "oee": round(r.oee * 100, 1), "availability": round(r.availability * 100, 1),
                 "performance": round(r.performance * 100, 1),
                 "quality": round(r.quality * 100, 1), "parts": r.total_count}
                for r in records.sorted(lambda r: r.workcenter_id.display_name)]

    @api.model
    def _dashboard_old_versions(self, companies, since):
        """Senders still on an old schema version: inbound messages received in the period
        in a version older than the one Odoo applies (they are upgraded on the way; a flow's
        "oldest version accepted" can end that once the sender moved on)."""
        Message = self.env["mfg.message"]
        handlers = Message._mfg_apply_handlers()
        domain = [("direction", "=", "in"), ("company_id", "in", companies.ids),
                  ("received_at", ">=", since)]
        rows = []
        for connector, type_name, version, count, last in Message._read_group(
                domain, ["connector_id", "canonical_type", "schema_version"],
                ["__count", "received_at:max"]):
            handler = handlers.get(type_name)
            if not handler or version >= handler.version:
                continue
            rows.append({
                "connector_id": connector.id, "connector_name": connector.display_name,
                "canonical_type": type_name, "schema_version": version,
                "current_version": handler.version, "count": count,
                "last_seen": fields.Datetime.to_string(last),
                "domains": {"old": domain + [("connector_id", "=", connector.id),
                                             ("canonical_type", "=", type_name),
                                             ("schema_version", "=", version)]},
            })
        rows.sort(key=lambda r: (r["connector_name"], r["canonical_type"]))
        return rows

    @api.model
    def _dashboard_period(self, period_minutes):
        if isinstance(period_minutes, bool) or not isinstance(period_minutes, int) or \
                not 1 <= period_minutes <= MAX_PERIOD_MINUTES:
            raise ValidationError(_("The period must be a whole number of minutes between 1 "
                                    "and %(max)s, got %(value)r.", max=MAX_PERIOD_MINUTES,
                                    value=period_minutes))
        return period_minutes

    @api.model
    def _dashboard_companies(self, company_ids):
        if company_ids is None:
            return self.env.companies
        if not isinstance(company_ids, (list, tuple)) or not all(
                isinstance(cid, int) and not isinstance(cid, bool) for cid in company_ids):
            raise ValidationError(_("company_ids must be a list of plant ids."))
        companies = self.env["res.company"].sudo().browse(company_ids).exists()
        foreign = companies - self.env.user.company_ids
        if len(companies) != len(set(company_ids)) or (foreign and not self.env.su):
            raise AccessError(_("You may only see the dashboard of your own plants."))
        return companies.sudo(self.env.su)

    @api.model
    def _dashboard_thresholds(self):
        params = self.env["ir.config_parameter"].sudo()

        def number(key, default):
            try:
                return float(params.get_param(f"mfg_integration_monitoring.{key}", default))
            except (TypeError, ValueError):
                return default

        return {
            "failure_amber_pct": number("failure_amber_pct", DEFAULT_FAILURE_AMBER_PCT),
            "failure_red_pct": number("failure_red_pct", DEFAULT_FAILURE_RED_PCT),
        }

    @api.model
    def _dashboard_row(self, context, figures, level, key, children=()):
        company_id, connector_id, flow_id = key
        data = dashboard_sql.finish_figures(
            figures.get((level, key)) or dashboard_sql.empty_figures(),
            context["period"], context["now"])
        thresholds = context["thresholds"]
        flow = self.env["mfg.flow"].browse(flow_id) if flow_id else self.env["mfg.flow"]
        connector = self.env["mfg.connector"].browse(connector_id)
        company = self.env["res.company"].browse(company_id)
        stale_after = flow.stale_after_min if flow else None
        status = dashboard_sql.status_of(data, stale_after, thresholds["failure_amber_pct"],
                                         thresholds["failure_red_pct"])
        data.update({
            "level": level,
            "status": dashboard_sql.worst_status([status] + [c["status"] for c in children]),
            "company_id": company_id or False,
            "company_name": company.name or "",
            "connector_id": connector_id or False,
            "connector_name": connector.display_name or "",
            "flow_id": flow_id or False,
            "flow_name": flow.display_name if flow else (_("(no flow)") if level == "flow"
                                                          else ""),
            "canonical_type": flow.canonical_type or "",
            "direction": flow.direction or "",
            "stale_after_min": stale_after,
            "oldest_pending_at": fields.Datetime.to_string(data["oldest_pending_at"]),
            "domains": self._dashboard_domains(level, key, context),
        })
        return data

    @api.model
    def _dashboard_domains(self, level, key, context):
        """The mfg.message domain behind each number of a row (same rules as the SQL)."""
        company_id, connector_id, flow_id = key
        scope = {
            "flow": [("connector_id", "=", connector_id), ("flow_id", "=", flow_id or False)],
            "connector": [("connector_id", "=", connector_id)],
            "plant": [("company_id", "=", company_id)],
            "total": [("company_id", "in", self.env.companies.ids)],
        }[level]
        period = scope + [("received_at", ">=", fields.Datetime.to_string(context["since"])),
                          ("received_at", "<=", fields.Datetime.to_string(context["now"]))]
        exception = scope + [("state", "=", "exception")]
        production = exception + [("canonical_type", "=like", dashboard_sql.PRODUCTION_TYPES),
                                  ("missing_mappings", "=", False)]
        patterns = dashboard_sql.UNKNOWN_ORDER_PATTERNS
        unknown_order = ["|"] * (len(patterns) - 1) + [
            ("last_error", "=ilike", pattern) for pattern in patterns]
        return {
            "received": period,
            "done": period + [("state", "=", "done")],
            "failures": period + [("state", "in", dashboard_sql.FAILURE_STATES)],
            "retries": period + [("attempts", ">", 0)],
            "queue": scope + [("state", "in", dashboard_sql.PENDING_STATES)],
            "dead": scope + [("state", "=", "dead")],
            "exceptions": exception,
            "unmapped": exception + [("missing_mappings", "!=", False)],
            "unknown_order": production + unknown_order,
            "rejected": production + ["!"] + unknown_order,
        }
