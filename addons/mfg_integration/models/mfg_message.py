# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import collections
import json
import logging

import psycopg2
from mfg_canonical import ENVELOPE_FIELDS, ENVELOPE_V2_FIELDS, find_bad_value, storable_copy

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..exceptions import BatchTooLarge
from ..services import ingest as ingest_service
from ..services import partitioning
from ..states import FINAL_STATES, REQUEUEABLE_STATES, STATES

_logger = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 50000
DEFAULT_PARTITION_ROWS = 1000000
# A width of 1 would make a partition per message; above this, a partition outlives retention.
PARTITION_ROWS_RANGE = (1000, 500000000)


_ConnectorInfo = collections.namedtuple("_ConnectorInfo", "id code company_id")


class MfgMessage(models.Model):
    """One canonical envelope in the inbox/outbox and its processing history.

    State machine: received -> validated -> mapped -> done; a technical error gives
    failed (retry scheduled with the flow's backoff) and, after the flow's max attempts,
    dead (dead letter); a business problem (unmapped code, invalid payload, refusal by the
    peer) gives exception, which waits for an operator. Rows are written in bulk by
    ``ingest``; (source, key) is unique in the database, which makes ingest idempotent.

    No interactive user, managers included, may create, write or delete messages (see
    security/ir.model.access.csv): the envelope, the state machine and the links change
    only through the processing code (superuser) and the audited buttons and wizards,
    which write under sudo() on records first read with the user's rights and leave a
    note in the chatter. Only the retention purge deletes messages.
    """

    _name = "mfg.message"
    _description = "Integration Message"
    _inherit = ["mail.thread"]
    _order = "received_at desc, id desc"
    # Connector, flow and plant of a message always agree (ingest writes rows in SQL with
    # the connector's plant; create_outbound and the processing code go through the ORM
    # check).
    _check_company_auto = True
    _rec_names_search = ["key", "name", "ordering_key", "correlation_id"]

    name = fields.Char(readonly=True)
    key = fields.Char(required=True, readonly=True)
    source = fields.Char(required=True, readonly=True)
    canonical_type = fields.Char("Type", required=True, readonly=True)
    schema_version = fields.Integer(required=True, readonly=True, default=1)
    plant_code = fields.Char("Plant code", readonly=True)
    occurred_at = fields.Datetime(required=True, readonly=True, index=True)
    correlation_id = fields.Char(readonly=True, index="btree_not_null")
    # Envelope v2 (B2MML verb and ApplicationArea); empty on v1 messages.
    verb = fields.Selection([("Process", "Process"), ("Change", "Change"), ("Cancel", "Cancel"),
                             ("Sync", "Sync"), ("Notify", "Notify"),
                             ("Acknowledge", "Acknowledge")], readonly=True)
    created_at = fields.Datetime("Created by sender", readonly=True)
    receiver = fields.Char(readonly=True)
    hierarchy_scope = fields.Json(readonly=True)
    acknowledges = fields.Json(readonly=True)
    payload = fields.Json(readonly=True)
    payload_text = fields.Text("Payload (JSON)", compute="_compute_payload_text")
    original_payload = fields.Json(readonly=True, copy=False)
    edited = fields.Boolean(readonly=True, copy=False)
    connector_id = fields.Many2one("mfg.connector", required=True, readonly=True, index=True,
                                   ondelete="restrict", check_company=True)
    flow_id = fields.Many2one("mfg.flow", readonly=True, index=True, ondelete="set null",
                              check_company=True)
    company_id = fields.Many2one("res.company", string="Plant", required=True, readonly=True,
                                 index=True)
    direction = fields.Selection([("in", "Inbound"), ("out", "Outbound")], required=True,
                                 readonly=True, default="in")
    ordering_key = fields.Char(readonly=True, index="btree_not_null")
    # Not tracked: a chatter entry per state change would cost two inserts per message at
    # 10k messages/s; the transition timestamps below and the operator notes tell the story.
    state = fields.Selection(STATES, required=True, default="received", readonly=True,
                             index=True)
    attempts = fields.Integer(readonly=True, default=0)
    next_retry_at = fields.Datetime(readonly=True, index="btree_not_null")
    last_error = fields.Text(readonly=True)
    last_traceback = fields.Text(readonly=True)
    missing_mappings = fields.Json(readonly=True, copy=False,
                                   help="[[mapping type, external code, field], ...]")
    mapped_values = fields.Json(readonly=True, copy=False)
    received_at = fields.Datetime(readonly=True, index=True, default=fields.Datetime.now)
    validated_at = fields.Datetime(readonly=True)
    mapped_at = fields.Datetime(readonly=True)
    done_at = fields.Datetime(readonly=True)
    failed_at = fields.Datetime(readonly=True)
    dead_at = fields.Datetime(readonly=True)
    # When it was cancelled: retention counts from the final state, not from reception.
    cancelled_at = fields.Datetime(readonly=True, copy=False)
    latency_ms = fields.Float("Latency (ms)", readonly=True, aggregator="avg",
                              help="Time from reception to done.")
    job_id = fields.Many2one("queue.job", readonly=True, copy=False, index="btree_not_null",
                             ondelete="set null", string="Last job")
    job_state = fields.Selection(related="job_id.state", string="Job state")
    result_model = fields.Char(readonly=True, copy=False)
    result_ids = fields.Json(readonly=True, copy=False)
    result_count = fields.Integer(compute="_compute_result_count")
    result_summary = fields.Char(readonly=True, copy=False)
    handed_over_at = fields.Datetime(
        "Fetched by device", readonly=True, copy=False,
        help="When the device that fetches its messages itself (an edge bridge) confirmed "
             "it holds this message; its report of the delivery finishes it.")

    # (source, key) is unique through the key table mfg_message_key (the table is partitioned:
    # see services/partitioning.py); ingest claims keys there, create() below too.

    def _auto_init(self):
        # Odoo already sees partitioned tables (recognise_partitioned_tables at import).
        cr = self.env.cr
        kind = partitioning.relkind(cr, self._table)
        if kind is None:
            partitioning.create_partitioned_table(cr, self._partition_width())
        elif kind == "r":
            partitioning.convert_regular_table(cr, self._partition_width())
        partitioning.ensure_key_table(cr)
        result = super()._auto_init()
        self.pool.post_init(self._ensure_foreign_keys)
        return result

    def _ensure_foreign_keys(self):
        """The ORM creates no foreign key for a partitioned table: declare the outgoing ones
        (cloned by PostgreSQL on every partition)."""
        keys = []
        for field in self._fields.values():
            if field.type != "many2one" or not field.store:
                continue
            comodel = self.env[field.comodel_name]
            if comodel._abstract or not comodel._auto or comodel._transient:
                continue
            keys.append((field.name, comodel._table, field.ondelete or "set null"))
        partitioning.ensure_foreign_keys(self.env.cr, keys)

    @api.model
    def _partition_width(self):
        """Ids per new partition: 20-40 partitions over the retention (docs/operations.md)."""
        try:
            value = int(self.env["ir.config_parameter"].sudo().get_param(
                "mfg_integration.partition_rows", DEFAULT_PARTITION_ROWS))
        except (ValueError, TypeError):
            value = DEFAULT_PARTITION_ROWS
        low, high = PARTITION_ROWS_RANGE
        return min(max(value, low), high)

    @api.model_create_multi
    def create(self, vals_list):
        # The key is claimed with the row, in one savepoint: a duplicate leaves nothing behind.
        try:
            with self.env.cr.savepoint():
                messages = super().create(vals_list)
                self.env.cr.execute(SQL(
                    "INSERT INTO mfg_message_key (source, key, message_id) "
                    "SELECT source, key, id FROM mfg_message WHERE id = ANY(%s)", messages.ids))
        except psycopg2.errors.UniqueViolation:
            raise ValidationError(_("A message with this key was already received from this "
                                    "source.")) from None
        return messages

    @api.model
    def _stored_keys(self, source, keys):
        """The keys among ``keys`` that ``source`` already has a message for, read from the
        key table's primary key (the message table has no (source, key) index of its own:
        the key table is that index, across partitions)."""
        if not keys:
            return set()
        self.env.cr.execute(SQL("SELECT key FROM mfg_message_key WHERE source = %s "
                                "AND key = ANY(%s)", source, list(keys)))
        return {row[0] for row in self.env.cr.fetchall()}

    def unlink(self):
        ids = self.ids
        result = super().unlink()
        if ids:
            self.env.cr.execute(SQL("DELETE FROM mfg_message_key WHERE message_id = ANY(%s)", ids))
        return result

    @api.depends("payload")
    def _compute_payload_text(self):
        for message in self:
            message.payload_text = json.dumps(message.payload, indent=2, sort_keys=True,
                                              ensure_ascii=False)

    def _compute_result_count(self):
        for message in self:
            message.result_count = len(message.result_ids or [])

    @api.depends("canonical_type", "key")
    def _compute_display_name(self):
        for message in self:
            message.display_name = f"{message.canonical_type or ''} {message.key or ''}".strip()

    @api.private
    def as_envelope(self):
        self.ensure_one()
        envelope = {
            "key": self.key,
            "type": self.canonical_type,
            "schema_version": self.schema_version,
            "source": self.source,
            "occurred_at": fields.Datetime.to_datetime(self.occurred_at).isoformat() + "+00:00",
            "payload": self.payload if self.payload is not None else {},
        }
        if self.plant_code:
            envelope["plant"] = self.plant_code
        if self.correlation_id:
            envelope["correlation_id"] = self.correlation_id
        if self.schema_version >= 2:
            envelope.update(verb=self.verb or "Process", receiver=self.receiver or None,
                            hierarchy_scope=self.hierarchy_scope or None,
                            acknowledges=self.acknowledges or None)
            if self.created_at:
                envelope["created_at"] = fields.Datetime.to_datetime(
                    self.created_at).isoformat() + "+00:00"
        return {k: envelope[k] for k in ENVELOPE_FIELDS + ENVELOPE_V2_FIELDS
                if envelope.get(k) is not None}

    # ------------------------------------------------------------------ ingest
    @api.model
    def _max_batch_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param(
            "mfg_integration.ingest_max_batch", DEFAULT_MAX_BATCH)
        try:
            return int(value)
        except ValueError:
            return DEFAULT_MAX_BATCH

    @api.model
    def _check_ingest_rights(self, connectors):
        """Refuse the call unless the user may submit for every connector given."""
        if self.env.su:
            return
        if self.env.user.has_group("mfg_integration.group_mfg_manager"):
            # A manager is trusted within his plants only: a source code of another plant
            # would store (and process) data there.
            foreign = connectors.sudo().filtered(
                lambda c: c.company_id not in self.env.user.company_ids)
            if foreign:
                raise AccessError(_("User %(user)s may not submit for source(s) %(codes)s of "
                                    "a plant he is not allowed in: nothing was stored.",
                                    user=self.env.user.login,
                                    codes=", ".join(sorted(foreign.mapped("code")))))
            return
        if not self.env.user.has_group("mfg_integration.group_mfg_ingest"):
            raise AccessError(_("You are not allowed to submit integration messages: the user "
                                "needs the 'Integration / Ingest (API)' group."))
        foreign = connectors.sudo().filtered(lambda c: self.env.user not in c.ingest_user_ids)
        if foreign:
            raise AccessError(_("User %(user)s is not bound to source(s) %(codes)s: nothing was "
                                "stored.", user=self.env.user.login,
                                codes=", ".join(sorted(foreign.mapped("code")))))

    @api.model
    def ingest(self, envelopes):
        """Store a batch of canonical envelopes; see docs/ingest-api.md.

        Returns {"accepted", "duplicates", "rejected": [{"index", "key", "error"}]}.
        """
        if not isinstance(envelopes, list):
            raise ValidationError(_("'envelopes' must be a JSON array of envelope objects, got %s.",
                                    type(envelopes).__name__))
        max_batch = self._max_batch_size()
        if len(envelopes) > max_batch:
            raise BatchTooLarge(_("Batch of %(n)s envelopes exceeds the maximum of %(max)s; "
                                  "nothing was stored. Split it into smaller batches.",
                                  n=len(envelopes), max=max_batch))
        # Only codes PostgreSQL can compare: a NUL or a lone surrogate in one envelope's
        # source must stay that envelope's reject, not break the lookup for the batch.
        sources = {env["source"] for env in envelopes
                   if isinstance(env, dict) and isinstance(env.get("source"), str)
                   and ingest_service.is_storable_text(env["source"])}
        Connector = self.env["mfg.connector"].sudo()
        connectors = Connector.search([("code", "in", list(sources))]) if sources else Connector
        self._check_ingest_rights(connectors)
        flows = self.env["mfg.flow"].sudo().search([
            ("connector_id", "in", connectors.ids), ("direction", "=", "in")])
        plan = ingest_service.plan_batch(
            envelopes,
            {c.code: _ConnectorInfo(c.id, c.code, c.company_id.id) for c in connectors},
            {(f.connector_id.id, f.canonical_type): (f.id, f.ordering_key_field,
                                                     f.min_schema_version) for f in flows},
            fields.Datetime.now(),
            self.env.uid,
            {type_name: handler.version
             for type_name, handler in self._mfg_apply_handlers().items()},
        )
        inserted, refused = ingest_service.insert_isolating(self.env.cr, plan.rows) \
            if plan.rows else ([], [])
        if refused:
            plan.rejected.extend(
                {"index": plan.row_index[pos], "key": ingest_service.safe_text(plan.rows[pos][1]),
                 "error": error} for pos, error in refused)
            plan.rejected.sort(key=lambda entry: entry["index"])
        by_flow = {}
        for message_id, flow_id, ordering_key, state in inserted:
            if state == "received":
                by_flow.setdefault(flow_id, []).append((message_id, ordering_key))
        for flow in self.env["mfg.flow"].sudo().browse(list(by_flow)):
            self.sudo()._enqueue_flow_messages(flow, by_flow[flow.id])
        self.sudo()._apply_critical_now(by_flow)
        accepted = len(inserted)
        duplicates = plan.duplicates + (len(plan.rows) - len(refused) - accepted)
        if plan.rejected:
            _logger.info("ingest: %s accepted, %s duplicates, %s rejected (first: %s)",
                         accepted, duplicates, len(plan.rejected), plan.rejected[0]["error"])
        return {"accepted": accepted, "duplicates": duplicates, "rejected": plan.rejected}

    @api.private
    @api.model
    def create_outbound(self, connector, canonical_type, payload, key, occurred_at=None,
                        correlation_id=None, plant=None):
        """Put an Odoo-originated message in the outbox of ``connector``.

        A payload holding a value no message can carry (NaN, a NUL character...) is kept,
        not lost: stored with that value nulled, in ``exception`` with the path of the value,
        for a person to correct (audited payload edit) and retry."""
        flow = self.env["mfg.flow"].sudo().search([
            ("connector_id", "=", connector.id), ("canonical_type", "=", canonical_type),
            ("direction", "=", "out")], limit=1)
        bad = find_bad_value(payload, path="payload")
        if bad:
            payload = storable_copy(payload)
        message = self.sudo().create({
            "key": key,
            "source": connector.code,
            "canonical_type": canonical_type,
            "schema_version": flow.schema_version if flow else 1,
            "occurred_at": occurred_at or fields.Datetime.now(),
            "correlation_id": correlation_id,
            "plant_code": plant,
            "payload": payload,
            "connector_id": connector.id,
            "flow_id": flow.id or False,
            "company_id": connector.company_id.id,
            "direction": "out",
            "ordering_key": flow.ordering_key_of(payload) if flow else False,
            "state": "received" if flow and not bad else "exception",
            "last_error": _("%(path)s: %(reason)s (stored as null); correct the payload, "
                            "then retry.", path=bad[0], reason=bad[1]) if bad else
            False if flow else _("No active outbound flow for type %s.", canonical_type),
            "name": f"{canonical_type}/{key}",
        })
        if flow and not bad:
            message._enqueue_processing()
        return message

    @api.model
    def _cron_purge_done(self):
        """Retention, by whole partitions: see mfg.message.partition (kept for the cron
        record of existing databases)."""
        return self.env["mfg.message.partition"]._cron_maintain()

    @api.model
    def _referenced_ids_between(self, id_from, id_to):
        """Ids in [id_from, id_to) still referenced by a stored many2one/many2many of any
        model: kept by the retention.

        Found from the registry, so a relation added by any addon is respected without
        that addon registering it; override to add references of another kind."""
        referenced = set()
        for model in self.env.registry.values():
            if model._abstract or not model._auto or model._table_query:
                continue
            for field in model._fields.values():
                if getattr(field, "comodel_name", None) != self._name or not field.store:
                    continue
                if field.type == "many2one":
                    table, column = model._table, field.name
                elif field.type == "many2many":
                    table, column = field.relation, field.column2
                else:
                    continue
                self.env.cr.execute(SQL(
                    "SELECT DISTINCT %s FROM %s WHERE %s >= %s AND %s < %s",
                    SQL.identifier(column), SQL.identifier(table), SQL.identifier(column),
                    id_from, SQL.identifier(column), id_to))
                referenced.update(row[0] for row in self.env.cr.fetchall())
        return referenced

    # ------------------------------------------------------------ operator actions
    def _check_operator(self):
        if not self.env.user.has_group("mfg_integration.group_mfg_operator"):
            raise AccessError(_("Only Integration Operators can retry, requeue or cancel "
                                "messages."))

    def _mail_get_operation_for_mail_message_operation(self, message_operation):
        # Nobody has write access on messages, yet notes in the chatter are part
        # of the story of a message: posting needs read access plus the Operator group.
        result = super()._mail_get_operation_for_mail_message_operation(message_operation)
        if message_operation == "create" and \
                self.env.user.has_group("mfg_integration.group_mfg_operator"):
            result = dict.fromkeys(result, "read")
        return result

    def _log_action(self, text):
        # The note records an action, whatever the user's own posting rights: posted as
        # superuser, signed with the acting user's name.
        author = self.env.user.partner_id.id
        for message in self.sudo():
            message.message_post(body=text, message_type="comment", author_id=author,
                                 subtype_xmlid="mail.mt_note")

    def action_retry_now(self):
        """Process failed messages now, keeping their attempt count (Integration Operators;
        writes as superuser on messages read with the user's rights)."""
        self._check_operator()
        targets = self.filtered(lambda m: m.state == "failed")
        if not targets:
            raise UserError(_("Only failed messages can be retried now; use Requeue for "
                              "dead-letter or exception messages."))
        targets.sudo().write({"next_retry_at": fields.Datetime.now()})
        targets._log_action(_("Retry requested by %s.", self.env.user.name))
        targets.sudo()._enqueue_processing(force_now=True)
        return True

    def action_requeue(self):
        """Start processing again from scratch, attempts reset (Integration Operators)."""
        self._check_operator()
        targets = self.filtered(lambda m: m.state in REQUEUEABLE_STATES)
        if not targets:
            raise UserError(_("Nothing to requeue: only failed, dead-letter, exception or "
                              "cancelled messages can be requeued."))
        targets._reset_for_processing()
        targets._log_action(_("Requeued by %s.", self.env.user.name))
        targets.sudo()._enqueue_processing(force_now=True)
        return True

    def _reset_for_processing(self):
        self.sudo().write({
            "state": "received", "attempts": 0, "next_retry_at": False,
            "missing_mappings": False, "last_error": False, "last_traceback": False,
            "handed_over_at": False,
        })

    def action_cancel(self):
        """Cancel messages not done yet (Integration Operators)."""
        self._check_operator()
        targets = self.filtered(lambda m: m.state not in FINAL_STATES)
        targets.sudo().write({"state": "cancelled", "next_retry_at": False,
                              "cancelled_at": fields.Datetime.now()})
        targets._log_action(_("Cancelled by %s.", self.env.user.name))
        return True

    def action_edit_payload(self):
        """Open the audited edit-and-replay wizard (Integration Operators)."""
        self.ensure_one()
        self._check_operator()
        return {
            "type": "ir.actions.act_window",
            "name": _("Edit payload and replay"),
            "res_model": "mfg.message.edit",
            "view_mode": "form",
            "target": "new",
            "context": {"default_message_id": self.id},
        }

    def action_create_missing_mappings(self):
        """Open the mapping list pre-filled with what this message lacks."""
        self.ensure_one()
        missing = self.missing_mappings or []
        action = self.env["ir.actions.act_window"]._for_xml_id("mfg_integration.action_mfg_mapping")
        codes = [entry[1] for entry in missing]
        action["domain"] = [("connector_id", "=", self.connector_id.id),
                            ("external_code", "in", codes)]
        action["context"] = {
            "default_connector_id": self.connector_id.id,
            "default_company_id": self.company_id.id,
            "default_mapping_type": missing[0][0] if missing else False,
            "default_external_code": missing[0][1] if missing else False,
        }
        if len(missing) == 1:
            action["views"] = [(False, "form")]
            action["view_mode"] = "form"
        return action

    def action_view_results(self):
        self.ensure_one()
        if not self.result_model or not self.result_ids:
            raise UserError(_("This message did not produce Odoo records."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Produced records"),
            "res_model": self.result_model,
            "view_mode": "list,form",
            "domain": [("id", "in", self.result_ids)],
        }

    def action_view_job(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "queue.job",
            "res_id": self.job_id.id,
            "view_mode": "form",
        }
