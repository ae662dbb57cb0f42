# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from mfg_canonical import available_types

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..services import access, mapping_spec
from ..services.backoff import RetryPolicy
from ..states import PROCESSABLE_STATES


def _canonical_type_selection(self):
    return [(name, name) for name in available_types()]


class MfgFlow(models.Model):
    """How messages of one canonical type travel between a connector and Odoo.

    The flow decides when messages are processed (real time, micro-batch, schedule), in
    which order (ordering key), and how failures are retried before dead-lettering.
    """

    _name = "mfg.flow"
    _description = "Integration Flow"
    _inherit = ["mail.thread"]
    _order = "connector_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    connector_id = fields.Many2one("mfg.connector", required=True, ondelete="cascade",
                                   tracking=True, index=True, check_company=True)
    company_id = fields.Many2one(related="connector_id.company_id", store=True, string="Plant")
    canonical_type = fields.Selection(_canonical_type_selection, required=True, tracking=True)
    schema_version = fields.Integer(default=1, required=True, tracking=True)
    min_schema_version = fields.Integer(
        "Oldest version accepted", default=1, required=True, tracking=True,
        help="Inbound: envelopes of an older schema version are refused at ingest with the "
        "reason (the sender must upgrade). Newer versions up to the one Odoo applies are "
        "upgraded on the way; the dashboard lists senders still on old versions.")
    direction = fields.Selection(
        [("in", "Inbound (to Odoo)"), ("out", "Outbound (from Odoo)")],
        required=True, default="in", tracking=True,
    )
    sync_mode = fields.Selection(
        [("realtime", "Real time"), ("micro_batch", "Micro-batch"),
         ("scheduled", "Scheduled batch")],
        required=True, default="realtime", tracking=True,
    )
    batch_window_s = fields.Integer(
        "Batch window (s)", default=30, tracking=True,
        help="Micro-batch: messages received within this window are processed together.",
    )
    batch_size = fields.Integer(default=500, required=True,
                                help="Maximum messages handled by one queue job.")
    schedule_interval_min = fields.Integer("Every (minutes)", default=60, tracking=True)
    next_run_at = fields.Datetime("Next scheduled run", tracking=True)
    source_of_truth = fields.Selection(
        [("odoo", "Odoo"), ("external", "External system"), ("shared", "Shared (per field)")],
        default="external", required=True, tracking=True,
        help="Which side owns the data of this flow. A change that came from a system is "
        "never sent back to it.",
    )
    owned_fields = fields.Char(
        help="With a shared source of truth: comma-separated names of the fields the "
        "external system owns (e.g. production.order: quantity, start, end); the others are "
        "Odoo's. An inbound update of an Odoo field is ignored and logged on the message; an "
        "edit in Odoo of the system's field is refused.",
    )
    # Retry policy
    max_attempts = fields.Integer(default=5, required=True, tracking=True,
                                  help="Attempts before a failing message is dead-lettered.")
    backoff_base_s = fields.Float("Backoff base (s)", default=10.0, tracking=True)
    backoff_factor = fields.Float(default=2.0, tracking=True)
    backoff_cap_s = fields.Float("Backoff cap (s)", default=3600.0, tracking=True)
    backoff_jitter = fields.Boolean("Jitter", default=True, tracking=True)
    ordering_key_field = fields.Char(
        "Ordering key", tracking=True,
        help="Payload field (e.g. order_ref). Messages with the same value are processed in "
        "occurred_at order, never concurrently.",
    )
    priority = fields.Integer(default=10, help="queue_job priority (lower runs first).")
    apply_critical_at_ingest = fields.Boolean(
        "Critical messages skip the queue", default=True, tracking=True,
        help="Critical inbound messages (high-severity alarms, critical stops) are applied in the "
             "ingest call itself instead of waiting in the queue behind a backlog, unless an "
             "earlier message of their ordering key is still pending.")
    message_count = fields.Integer(compute="_compute_message_stats")
    pending_count = fields.Integer(compute="_compute_message_stats")
    dead_count = fields.Integer(compute="_compute_message_stats")

    _uniq_route = models.Constraint(
        "UNIQUE(connector_id, canonical_type, direction)",
        "A connector has one flow per canonical type and direction.",
    )

    # The plant follows the connector: a connector of another plant would move the flow
    # (and the messages it routes) there.
    @api.model_create_multi
    def create(self, vals_list):
        flows = super().create(vals_list)
        access.ensure_companies_allowed(self.env, flows.company_id, _("A flow"))
        return flows

    def write(self, vals):
        result = super().write(vals)
        if "connector_id" in vals:
            access.ensure_companies_allowed(self.env, self.company_id, _("A flow"))
        return result

    @api.constrains("max_attempts", "backoff_base_s", "backoff_factor", "backoff_cap_s",
                    "batch_size", "batch_window_s")
    def _check_policy(self):
        for flow in self:
            if flow.max_attempts < 1:
                raise ValidationError(_("Max attempts must be at least 1."))
            if flow.backoff_base_s < 0 or flow.backoff_cap_s < 0 or flow.backoff_factor < 1:
                raise ValidationError(_("Backoff base and cap must be >= 0 and the factor >= 1."))
            if flow.batch_size < 1 or flow.batch_window_s < 0:
                raise ValidationError(_("Batch size must be >= 1 and the window >= 0."))

    @api.constrains("canonical_type", "schema_version", "direction", "min_schema_version")
    def _check_schema_version(self):
        for flow in self:
            versions = available_types().get(flow.canonical_type, [])
            if flow.schema_version not in versions:
                raise ValidationError(_("Type %(type)s has no schema version %(version)s "
                                        "(available: %(versions)s).", type=flow.canonical_type,
                                        version=flow.schema_version, versions=versions))
            messages = self.env["mfg.message"]
            built = messages._mfg_outbound_versions().get(flow.canonical_type, 1)
            if flow.direction == "out" and flow.schema_version > built:
                raise ValidationError(_(
                    "Odoo builds outbound %(type)s payloads in version %(built)s; the flow "
                    "cannot send version %(version)s.", type=flow.canonical_type,
                    built=built, version=flow.schema_version))
            if not 1 <= flow.min_schema_version <= max(versions):
                raise ValidationError(_(
                    "The oldest accepted version of %(type)s must be between 1 and "
                    "%(newest)s.", type=flow.canonical_type, newest=max(versions)))
            handler = messages._mfg_apply_handlers().get(flow.canonical_type)
            if flow.direction == "in" and handler and flow.schema_version > handler.version:
                raise ValidationError(_(
                    "Inbound %(type)s is applied from version %(handled)s payloads; the flow "
                    "cannot accept version %(version)s.", type=flow.canonical_type,
                    handled=handler.version, version=flow.schema_version))

    @api.model
    def _mfg_ownable_fields(self):
        """{canonical type: {field name: label}} of the fields ``owned_fields`` may name; the
        addon that applies a type declares them with super(). Empty: any name."""
        return {}

    def _mfg_owned_field_names(self):
        self.ensure_one()
        return [name.strip() for name in (self.owned_fields or "").split(",") if name.strip()]

    @api.constrains("owned_fields", "canonical_type", "source_of_truth")
    def _check_owned_fields(self):
        ownable = self._mfg_ownable_fields()
        for flow in self:
            known = ownable.get(flow.canonical_type)
            unknown = [name for name in flow._mfg_owned_field_names()
                       if known is not None and name not in known]
            if unknown:
                raise ValidationError(_(
                    "%(type)s has no ownable field %(names)s (known: %(known)s).",
                    type=flow.canonical_type, names=", ".join(unknown),
                    known=", ".join(sorted(known))))

    def _compute_message_stats(self):
        Message = self.env["mfg.message"]
        domain = [("flow_id", "in", self.ids)]
        totals = dict(Message._read_group(domain, ["flow_id"], ["__count"]))
        pending = dict(Message._read_group(
            domain + [("state", "in", PROCESSABLE_STATES)],
            ["flow_id"], ["__count"]))
        dead = dict(Message._read_group(domain + [("state", "=", "dead")], ["flow_id"],
                                        ["__count"]))
        for flow in self:
            flow.message_count = totals.get(flow, 0)
            flow.pending_count = pending.get(flow, 0)
            flow.dead_count = dead.get(flow, 0)

    @api.private
    def retry_delay(self, attempt):
        self.ensure_one()
        return timedelta(seconds=RetryPolicy.of(self).delay_seconds(attempt))

    @api.private
    def ordering_key_of(self, payload):
        self.ensure_one()
        if not self.ordering_key_field or not isinstance(payload, dict):
            return None
        value = mapping_spec.value_at(payload, self.ordering_key_field)
        return None if value in (None, "") else str(value)[:200]

    # ------------------------------------------------------------------ schedule
    @api.model
    def _cron_run_scheduled_flows(self):
        now = fields.Datetime.now()
        flows = self.search([("sync_mode", "=", "scheduled"), "|", ("next_run_at", "=", False),
                             ("next_run_at", "<=", now)])
        for flow in flows:
            flow.next_run_at = now + timedelta(minutes=max(1, flow.schedule_interval_min))
            flow._enqueue_pending()

    def _enqueue_pending(self):
        """Queue processing of every message of these flows waiting in `received`."""
        Message = self.env["mfg.message"]
        for flow in self:
            pending = Message.search([("flow_id", "=", flow.id), ("state", "=", "received")],
                                     order="occurred_at, id")
            pending._enqueue_processing(force_now=True)

    def _job_process_window(self):
        """Queue job (micro-batch): process what arrived during the window."""
        self.ensure_one()
        pending = self.env["mfg.message"].search(
            [("flow_id", "=", self.id), ("state", "=", "received")], order="occurred_at, id")
        pending._enqueue_processing(force_now=True)
        return _("%s message(s) of the window queued", len(pending))

    def action_run_now(self):
        """Process the waiting messages of these flows now (Integration Operators).

        The flows are checked against the user's rights (record rules keep other plants
        out) before the run (pull, queueing) goes on as superuser.
        """
        access.ensure_group(self.env, access.OPERATOR, _("run a flow now"))
        self.check_access("read")
        self.sudo()._enqueue_pending()
        return True

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mfg_integration.action_mfg_message")
        action["domain"] = [("flow_id", "=", self.id)]
        return action

    def action_open_replay(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Replay messages"),
            "res_model": "mfg.flow.replay",
            "view_mode": "form",
            "target": "new",
            "context": {"default_flow_id": self.id},
        }
