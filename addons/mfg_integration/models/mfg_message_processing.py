# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Processing pipeline of integration messages: validate -> map -> apply -> done.

A second file of the ``mfg.message`` model, kept apart from its fields, ingest and
operator actions so the flow reads top-down. Messages are processed on queue_job in
chunks: one job per chunk of a flow, never one job per message, so throughput does not
collapse under bursts. The hooks addons implement are listed in docs/extending.md.
"""
import hashlib
import json
import logging
import traceback
from collections import OrderedDict
from datetime import timedelta

from mfg_canonical import EnvelopeError, validate_envelope
from mfg_canonical.units import odoo_uom_xmlid
from mfg_canonical.upgrades import upgrade

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

# Imported from here by addons written before exceptions.py: keep the names available.
from ..exceptions import (  # noqa: F401
    BUSINESS_ERRORS,
    MfgBusinessError,
    OutboundRateLimited,
    PeerRejected,
)
from ..registry import Transport
from ..services import backoff, mapping_spec
from ..services.backoff import RetryPolicy
from ..services.transport import post_envelope
from ..states import DONE, FAILED, IN_PROGRESS_STATES, PROCESSABLE_STATES

# OPC UA severities 801-1000 are "high": such an alarm takes the priority lane.
CRITICAL_SEVERITY = 801

_logger = logging.getLogger(__name__)


class _Run:
    """What one processing job shares between its messages: the mapping lookup, and the
    outcomes of the outbound messages its batching transports delivered already."""

    __slots__ = ("lookup", "delivered")

    def __init__(self, lookup):
        self.lookup = lookup
        self.delivered = {}


def _lock_id(ordering_key):
    # Postgres advisory locks take a bigint; a stable hash of the ordering key.
    digest = hashlib.blake2b(ordering_key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class MfgMessage(models.Model):
    """The processing pipeline of ``mfg.message`` (a second file of the same model, as
    Odoo's mrp/models/stock_move.py is for ``stock.move``): addons extend ``mfg.message``
    and find every hook here or in mfg_message.py."""

    _inherit = "mfg.message"

    # ------------------------------------------------------------- enqueueing
    def _enqueue_processing(self, force_now=False):
        """Create the queue jobs that will process these messages.

        Real-time flows get chunked jobs right away, micro-batch flows one job per window
        (identity key), scheduled flows wait for their cron unless ``force_now``.
        """
        self.filtered(lambda m: not m.flow_id)._attach_flow()
        by_flow = OrderedDict()
        for message in self.filtered("flow_id"):
            by_flow.setdefault(message.flow_id, []).append((message.id, message.ordering_key))
        for flow, entries in by_flow.items():
            self._enqueue_flow_messages(flow, entries, force_now=force_now)

    def _attach_flow(self):
        """Messages stored before their flow existed: route them now, or say why not."""
        Flow = self.env["mfg.flow"]
        for message in self:
            flow = Flow.search([("connector_id", "=", message.connector_id.id),
                                ("canonical_type", "=", message.canonical_type),
                                ("direction", "=", message.direction)], limit=1)
            if flow:
                message.write({"flow_id": flow.id,
                               "ordering_key": flow.ordering_key_of(message.payload)})
            else:
                message.write({"state": "exception", "last_error": _(
                    "No active %(dir)s flow for type %(type)s on connector %(code)s: create "
                    "one, then reprocess.", dir=message.direction, type=message.canonical_type,
                    code=message.connector_id.code)})

    @api.model
    def _enqueue_flow_messages(self, flow, entries, force_now=False):
        """Queue [(message id, ordering key)] of one flow; ingest calls this without
        browsing the messages, which keeps 10,000-envelope batches cheap."""
        channel = flow.connector_id.channel_id.complete_name or "root"
        if flow.sync_mode == "micro_batch" and not force_now:
            flow.with_delay(
                channel=channel,
                priority=flow.priority,
                eta=timedelta(seconds=flow.batch_window_s),
                identity_key=f"mfg-flow-window-{flow.id}",
                description=_("Micro-batch of flow %s", flow.name),
            )._job_process_window()
            return
        if flow.sync_mode == "scheduled" and not force_now:
            return
        Message = self.env["mfg.message"]
        for chunk_ids in self._chunks(entries, flow.batch_size):
            chunk = Message.browse(chunk_ids)
            # The message -> job link is written when the job runs (it updates the rows
            # anyway): an UPDATE here would double the write cost of ingest.
            chunk.with_delay(
                channel=channel,
                priority=flow.priority,
                description=_("Process %(n)s %(type)s message(s) of %(flow)s",
                              n=len(chunk_ids), type=flow.canonical_type, flow=flow.name),
            )._job_process()

    @api.model
    def _mfg_critical_types(self):
        """Canonical types that may carry critical messages (``_mfg_is_critical``); an addon
        adding one extends the set with super()."""
        return frozenset({"machine.alarm", "machine.downtime"})

    def _mfg_is_critical(self):
        """Must this inbound message reach its Odoo document now, whatever the backlog? A
        raised alarm of high OPC UA severity (801-1000), or a payload flagged critical (a
        long stop). Addons extend it with super()."""
        self.ensure_one()
        payload = self._mfg_payload()
        if self.canonical_type == "machine.alarm":
            severity = payload.get("severity") or 0
            return bool(payload.get("active")) and severity >= CRITICAL_SEVERITY
        return payload.get("critical") is True

    @api.model
    def _apply_critical_now(self, by_flow):
        """The priority lane: apply the critical messages of an ingest batch ({flow id:
        [(message id, ordering key)]}) within the ingest call. A message waits for the queue
        instead when an earlier message of its ordering key is pending or being processed:
        order before speed. Errors go the usual way (exception, or failed with a retry)."""
        flows = self.env["mfg.flow"].sudo().browse(list(by_flow)).filtered(
            lambda f: f.apply_critical_at_ingest and f.canonical_type in self._mfg_critical_types())
        ids = [message_id for flow in flows for message_id, _key in by_flow[flow.id]]
        if not ids:
            return self.browse()
        candidates = self.browse(ids).filtered(lambda m: m.state == "received")
        try:
            critical = candidates.filtered(lambda m: m._mfg_is_critical())
        except Exception:  # noqa: BLE001 - an unreadable payload is the pipeline's to report
            critical = candidates.browse()
        run, applied = _Run(self.env["mfg.mapping"]._lookup_cache()), self.browse()
        for message in critical.sorted(lambda m: (m.occurred_at, m.id)):
            if message.ordering_key:
                if message._pending_with_key(message.ordering_key)[:1] != message:
                    continue
                self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s)",
                                    (_lock_id(f"in:0:{message.ordering_key}"),))
                if not self.env.cr.fetchone()[0]:
                    continue
            message._process_one(run)
            applied |= message
        return applied

    @api.model
    def _chunks(self, entries, size):
        """Split [(id, ordering key)] into id lists of about ``size`` without splitting
        an ordering-key group across jobs."""
        groups = OrderedDict()
        for message_id, ordering_key in entries:
            groups.setdefault(ordering_key or f"#{message_id}", []).append(message_id)
        chunk = []
        for ids in groups.values():
            if chunk and len(chunk) + len(ids) > size:
                yield chunk
                chunk = []
            chunk.extend(ids)
        if chunk:
            yield chunk

    # ----------------------------------------------------------------- the job
    def _job_process(self):
        """Queue job: process these messages, ordering-key groups in occurred_at order.

        Runs with ``mfg_processing_job`` in the context (hooks that would react to every
        message, e.g. notifications, wait for the end), then calls ``_after_job_process``.
        """
        try:
            return self.with_context(mfg_processing_job=True)._job_process_messages()
        finally:
            self._after_job_process()

    def _after_job_process(self):
        """Hook: the job's messages were processed (or the job stopped); nothing by default."""

    def _job_process_messages(self):
        messages = self.exists().filtered(lambda m: m.state in PROCESSABLE_STATES)
        # Ordering is per direction: a release stuck on its way to the MES must not hold up
        # the shop-floor confirmations of the same order coming back. Outbound, it is per
        # connector as well: each peer gets its messages of an order in order, and one peer
        # being down does not hold up the others.
        keys = sorted({(m.direction, m.ordering_key,
                        m.connector_id.id if m.direction == "out" else 0)
                       for m in messages if m.ordering_key})
        self._lock_ordering_keys(keys)
        run = _Run(self.env["mfg.mapping"]._lookup_cache())
        job_uuid = self.env.context.get("job_uuid")
        if job_uuid:
            job = self.env["queue.job"].sudo().search([("uuid", "=", job_uuid)], limit=1)
            if job:
                messages.write({"job_id": job.id})
        # The walk processes every pending message of the job's ordering keys, also those
        # of other flows (a receipt after the confirmation of the same order): send them
        # ahead in batches as well, not one call each.
        groups = [self._pending_with_key(key, direction, connector_id)
                  for direction, key, connector_id in keys]
        run.delivered = messages._presend_outbound(groups)
        handled = self.browse()
        for group in groups:
            handled |= self._process_group(group, run)
        for message in (messages - handled).sorted(lambda m: (m.occurred_at, m.id)):
            if message.state in PROCESSABLE_STATES and message._is_due():
                message._process_one(run)
        return _("processed %s message(s)", len(messages))

    def _lock_ordering_keys(self, keys):
        """Serialize messages of one ordering key across concurrent jobs.

        Transaction-scoped advisory locks: released at commit, so two workers never
        apply messages of the same production order at once. If another job holds one,
        this job is re-queued (without consuming an attempt) instead of waiting.
        """
        for direction, key, connector_id in keys:
            self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s)",
                                (_lock_id(f"{direction}:{connector_id}:{key}"),))
            if not self.env.cr.fetchone()[0]:
                raise RetryableJobError(f"ordering key {key!r} ({direction}) is being processed "
                                        "by another job", seconds=2, ignore_retry=True)

    def _pending_with_key(self, key, direction="in", connector_id=0):
        domain = [("ordering_key", "=", key), ("direction", "=", direction),
                  ("state", "in", PROCESSABLE_STATES)]
        if connector_id:
            domain.append(("connector_id", "=", connector_id))
        return self.search(domain, order="occurred_at, id")

    def _process_group(self, group, run):
        """Process one ordering-key group in order; stop at a message still waiting to retry.

        A message in `failed` blocks the later ones of its key until it is done, dead or
        cancelled: that is what ordering means. Exceptions (business errors) do not block.
        Runs of messages whose handler applies batches go through ``_apply_batch`` first.
        """
        for segment in group._batch_segments():
            if len(segment) > 1 and segment._apply_batch(run):
                continue
            for message in segment:
                if message.state == FAILED and not message._is_due():
                    return group
                message._process_one(run)
                if message.state in PROCESSABLE_STATES and not message._awaits_pickup():
                    return group  # retry scheduled, or delivery deferred by the rate limit
        return group

    def _is_due(self):
        self.ensure_one()
        return self.state != "failed" or not self.next_retry_at or \
            self.next_retry_at <= fields.Datetime.now()

    # ------------------------------------------------------------- one message
    def _process_one(self, run):
        self.ensure_one()
        if self.handed_over_at:
            return  # a device fetched it: its report (edge_report) finishes it, nobody else
        try:
            with self.env.cr.savepoint():
                self._step_validate()
                self._step_map(run.lookup)
                self._step_apply(run)
        except RetryableJobError:
            raise  # the job's own retry (ordering key busy), not this message's
        except Exception as exc:  # noqa: BLE001 - the retry policy decides what follows
            self._handle_error(exc)

    def _handle_error(self, exc):
        """Exception, deferred, failed (retry) or dead: as the flow's retry policy decides
        (services/backoff.py, the one place for it)."""
        decision = RetryPolicy.of(self.flow_id).decide(self.attempts + 1, exc)
        if decision.action == backoff.EXCEPTION:
            self._mark_exception(exc)
        elif decision.action == backoff.DEFER:
            self._defer(decision.delay_s)
        else:
            self._mark_failed(exc, decision)

    def _step_validate(self):
        if not self.flow_id or not self.flow_id.active:
            flow = self.env["mfg.flow"].search([
                ("connector_id", "=", self.connector_id.id),
                ("canonical_type", "=", self.canonical_type),
                ("direction", "=", self.direction)], limit=1)
            if not flow:
                raise MfgBusinessError(_("No active %(dir)s flow for type %(type)s on connector "
                                         "%(code)s.", dir=self.direction,
                                         type=self.canonical_type, code=self.connector_id.code))
            self.write({"flow_id": flow.id, "ordering_key": flow.ordering_key_of(self.payload)})
        validate_envelope(self.as_envelope())
        if self.direction == "in":
            self._mfg_envelope(validate=True)  # what the handler will read is valid too
        self.write({"state": "validated", "validated_at": fields.Datetime.now()})

    def _step_map(self, lookup):
        if self.direction == "out":
            # Outbound payloads are built by Odoo in the peer's terms already.
            self.write({"state": "mapped", "mapped_at": fields.Datetime.now()})
            return

        self.write({"state": "mapped", "mapped_at": fields.Datetime.now(),
                    "mapped_values": self._resolve_mappings(lookup), "missing_mappings": False})

    def _resolve_mappings(self, lookup):
        """{payload field: Odoo value} of this message's external codes, read in the
        payload its handler sees; writes nothing. A UN/ECE Rec 20 unit code without a
        mapping is Odoo's own unit of that code.

        Raises MissingMapping naming every required code without a mapping.
        """
        self.ensure_one()
        envelope = self._mfg_envelope() if self.direction == "in" else self.as_envelope()
        rules = self._mfg_mapping_rules()
        type_rules = rules.get((self.canonical_type, envelope["schema_version"]),
                               rules.get(self.canonical_type, ()))

        def find(kind, code):
            value = lookup(self.connector_id.id, self.company_id.id, kind, code)
            if value is None and kind == "uom" and odoo_uom_xmlid(code):
                unit = self.env.ref(odoo_uom_xmlid(code), raise_if_not_found=False)
                value = unit.id if unit else None
            return value
        return mapping_spec.resolve(type_rules, envelope["payload"] or {}, find)

    def _check_outbound_rate(self):
        """Enforce the connector's messages-per-minute limit on deliveries (sliding minute)."""
        limit = self.connector_id.rate_limit_per_min
        if not limit:
            return
        since = fields.Datetime.now() - timedelta(minutes=1)
        self.env.cr.execute(
            "SELECT count(*), min(done_at) FROM mfg_message WHERE connector_id = %s "
            "AND direction = 'out' AND state = 'done' AND done_at >= %s",
            (self.connector_id.id, since))
        count, oldest = self.env.cr.fetchone()
        if count >= limit:
            raise OutboundRateLimited(max(1.0, (oldest - since).total_seconds()))

    def _defer(self, wait_s):
        """Try again once the rate limit allows it; the attempt count is untouched."""
        flow = self.flow_id
        self.with_delay(
            channel=flow.connector_id.channel_id.complete_name or "root",
            priority=flow.priority,
            eta=timedelta(seconds=wait_s),
            identity_key=f"mfg-deferred-{self.id}",
            description=_("Deferred delivery of %s (rate limit)", self.display_name),
        )._job_process()

    def _step_apply(self, run=None):
        """Apply inbound messages to Odoo or deliver outbound ones; then mark done."""
        if self.direction == "out":
            if self._awaits_pickup():
                self._wait_for_pickup()
                return
            if run is not None and self.id in run.delivered:
                # Sent with its batch before the walk: the peer has it, whatever the rate.
                result = run.delivered.pop(self.id)
                if isinstance(result, Exception):
                    raise result
            else:
                self._check_outbound_rate()
                result = self._deliver_outbound()
        else:
            result = self._apply_inbound()
        self._mark_done(result)

    def _prepare_done_values(self, result):
        """Values written on these messages when they reach `done` with ``result`` (what
        the handler or transport returned: records, a summary text or None). The one
        place for both the one-by-one and the batch path: override to record more."""
        values = {"state": DONE, "done_at": fields.Datetime.now(), "next_retry_at": False,
                  "last_error": False, "last_traceback": False}
        if isinstance(result, models.BaseModel) and result:
            summary = ", ".join(result.mapped("display_name"))
            if len(self) > 1:
                summary = _("%(records)s (batch of %(n)s)", records=summary, n=len(self))
            values.update(result_model=result._name, result_ids=result.ids,
                          result_summary=summary[:250])
        elif isinstance(result, str):
            values["result_summary"] = result[:250]
        return values

    def _mark_done(self, result, values=None):
        """Write the done values (plus ``values``) and the latency of each message."""
        done = {**self._prepare_done_values(result), **(values or {})}
        if len(self) == 1:
            done["latency_ms"] = (done["done_at"] - self.received_at).total_seconds() * 1000 \
                if self.received_at else 0.0
            self.write(done)
            return
        self.write(done)
        self._write_latency()

    def _write_latency(self):
        """latency_ms of many messages in one UPDATE (done_at - received_at)."""
        self.flush_recordset()
        self.env.cr.execute(
            "UPDATE mfg_message SET latency_ms = "
            "EXTRACT(EPOCH FROM (done_at - received_at)) * 1000 WHERE id = ANY(%s)",
            (self.ids,))
        self.invalidate_recordset(["latency_ms"])

    # ---------------------------------------------------------------- registries
    @api.model
    def _mfg_apply_handlers(self):
        """{canonical type: registry.Handler} of inbound messages; the addon owning a type
        adds it with super(). A type without a handler is only recorded."""
        return {}

    @api.model
    def _mfg_outbound_versions(self):
        """{canonical type: the newest schema version Odoo builds outbound payloads in}; an
        addon that builds a newer one says so with super(). Default: 1."""
        return {}

    def _mfg_envelope(self, validate=False):
        """This inbound message's envelope in the version its handler reads: older ones
        are upgraded (the stored payload stays as the sender sent it). Handlers read
        ``_mfg_payload()``, never ``payload``. The validation step checks the upgraded
        envelope once (``validate``); the upgrade is deterministic, so the handlers' later
        reads skip the schema check."""
        self.ensure_one()
        envelope = self.as_envelope()
        handler = self._mfg_apply_handlers().get(self.canonical_type)
        if handler and envelope["schema_version"] < handler.version:
            try:
                envelope = upgrade(envelope, target=handler.version, validate=validate)
            except EnvelopeError as exc:
                raise MfgBusinessError(str(exc)) from None
        return envelope

    def _mfg_payload(self):
        return self._mfg_envelope()["payload"]

    def _check_handler_version(self, handler):
        if handler and self.schema_version > handler.version:
            raise MfgBusinessError(_(
                "%(type)s version %(version)s is not applied by this database (its handler "
                "reads version %(handled)s): ask the sender for version %(handled)s.",
                type=self.canonical_type, version=self.schema_version,
                handled=handler.version))

    def _apply_inbound(self):
        self.ensure_one()
        handler = self._mfg_apply_handlers().get(self.canonical_type)
        if handler is None:
            return _("Recorded (no Odoo document for this type).")
        self._check_handler_version(handler)
        return getattr(self, handler.method)()

    # ------------------------------------------------------------ batch hooks
    def _batch_segments(self):
        """Split an ordering-key group (in order) into runs: consecutive messages of one type
        that may be applied together (see registry.Handler), other messages alone."""
        handlers = self._mfg_apply_handlers()
        segments, current = [], []
        for message in self:
            if current and message.canonical_type != current[0].canonical_type:
                segments.append(current)
                current = []
            if message._batchable(handlers.get(message.canonical_type)):
                current.append(message)
                continue
            if current:
                segments.append(current)
                current = []
            segments.append([message])
        if current:
            segments.append(current)
        return [self.browse([m.id for m in segment]) for segment in segments]

    def _batchable(self, handler):
        self.ensure_one()
        if not handler or not handler.batch_method:
            return False
        if self.direction != "in" or self.state not in IN_PROGRESS_STATES or self.result_ids:
            return False
        return not handler.batchable or bool(getattr(self, handler.batchable)())

    def _apply_batch(self, run):
        """Apply consecutive inbound messages of one type and ordering key in one go through
        their handler's batch method; True when they are all done.

        Same checks and values as the one-by-one steps (active flow, valid envelope,
        mappings, ``_prepare_done_values``), one write per distinct mapping instead of
        several per message. Any error rolls the batch back and returns False: the caller
        applies the messages one by one, which attributes the error to its message.
        """
        handler = self._mfg_apply_handlers().get(self[:1].canonical_type)
        if not handler or not handler.batch_method:
            return False
        try:
            with self.env.cr.savepoint():
                mapped, by_values = {}, {}
                for message in self:
                    if not message.flow_id.active:
                        raise MfgBusinessError("no active flow")
                    message._check_handler_version(handler)
                    validate_envelope(message.as_envelope())
                    message._mfg_envelope(validate=True)
                    mapped[message.id] = message._resolve_mappings(run.lookup)
                    by_values.setdefault(json.dumps(mapped[message.id], sort_keys=True),
                                         []).append(message.id)
                result = getattr(self, handler.batch_method)(mapped)
                done = self._prepare_done_values(result)
                for values_json, ids in by_values.items():
                    self.browse(ids).write({
                        **done, "validated_at": done["done_at"], "mapped_at": done["done_at"],
                        "mapped_values": json.loads(values_json), "missing_mappings": False})
                self._write_latency()
        except Exception:  # noqa: BLE001 - any problem: the one-by-one path attributes it
            return False
        return True

    @api.model
    def _mfg_transports(self):
        """{connector type: registry.Transport} of outbound messages; the addon adding a
        connector type adds its transport with super(). The core delivers its own
        "generic_rest" type by POSTing the signed envelope; "edge" devices fetch theirs
        (a pull transport: models/mfg_connector_edge_return.py)."""
        return {"generic_rest": Transport("_mfg_send_envelope"),
                "edge": Transport(None, pull=True)}

    def _awaits_pickup(self):
        """Is this outbound message fetched by its peer (a pull transport) instead of sent?"""
        self.ensure_one()
        transport = self._mfg_transports().get(self.connector_id.sudo().connector_type)
        return self.direction == "out" and bool(transport and transport.pull)

    def _prepare_for_pickup(self):
        """Validate outbound messages a device is about to fetch before the queue job
        reached them; a problem puts the message where the pipeline would."""
        run = _Run(None)
        for message in self.sorted(lambda m: (m.occurred_at, m.id)):
            message._process_one(run)

    def _wait_for_pickup(self):
        """Validated and mapped: it now waits in `mapped` for its device to fetch it."""
        self.write({"result_summary": _("Waiting for %s to fetch it",
                                        self.connector_id.sudo().code)})

    def _deliver_outbound(self):
        """Deliver this one message by its transport; return the result summary."""
        self.ensure_one()
        outcome = self._deliver_outbound_batch()[self.id]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _deliver_outbound_batch(self):
        """{message id: outcome} of these outbound messages: the messages of each connector
        go to its type's transport in one call. An outcome is the result summary or the
        exception the message met; nothing is written on the messages here."""
        outcomes = {}
        transports = self._mfg_transports()
        for connector in self.connector_id:
            messages = self.filtered(lambda m, c=connector: m.connector_id == c)
            transport = transports.get(connector.sudo().connector_type)
            if transport is None:
                error = MfgBusinessError(_("No outbound transport for connector type %s is "
                                           "installed.", connector.sudo().connector_type))
                outcomes.update(dict.fromkeys(messages.ids, error))
                continue
            outcomes.update(getattr(messages, transport.method)())
        return outcomes

    def _presend_outbound(self, groups=()):
        """Deliver the due outbound messages whose transport takes batches, in ordering-key
        rounds, before the one-by-one walk; return {message id: outcome} for it.

        ``groups``: the ordering-key groups the walk will process, in its order (they may
        hold messages of other flows than the job's: a receipt after its confirmation).
        Only what the walk is sure to reach is sent ahead: a key's leading run of due,
        ready messages of batching transports, up to the first message that is not (the
        walk stops or goes one by one there). Round n holds the n-th message of every key
        (plus all messages without a key), so two messages of one key never overtake each
        other; a key whose message met a technical error stops there, as the walk stops it.
        """
        transports = self._mfg_transports()

        def candidate(message):
            return message.direction == "out" and message.state in PROCESSABLE_STATES \
                and message._is_due() and getattr(transports.get(
                    message.connector_id.sudo().connector_type), "batch", False) \
                and message._outbound_ready()

        queues = OrderedDict()
        for group in groups:
            run = []
            for message in group:
                if not candidate(message):
                    break
                run.append(message)
            if run:
                queues[(run[0].connector_id.id, run[0].ordering_key)] = run
        keyed = set().union(*(group.ids for group in groups)) if groups else set()
        for message in self.filtered(lambda m: not m.ordering_key and m.id not in keyed
                                     ).sorted(lambda m: (m.occurred_at, m.id)):
            if candidate(message):
                queues[f"#{message.id}"] = [message]
        if sum(len(queue) for queue in queues.values()) < 2:
            return {}
        delivered = {}
        while queues:
            outcomes = self.browse([queue[0].id for queue in queues.values()]) \
                ._deliver_outbound_batch()
            delivered.update(outcomes)
            for key in list(queues):
                outcome = outcomes.get(queues[key].pop(0).id)
                retried = isinstance(outcome, Exception) and \
                    backoff.classify(outcome) != backoff.EXCEPTION
                if retried or not queues[key]:
                    del queues[key]
        return delivered

    def _outbound_ready(self):
        """Would the one-by-one steps deliver this message (active flow, valid envelope)?
        Only those are sent ahead in a batch."""
        self.ensure_one()
        if not self.flow_id or not self.flow_id.active:
            return False
        try:
            validate_envelope(self.as_envelope())
        except EnvelopeError:
            return False
        return True

    def _mfg_send_envelope(self):
        """The core's transport: POST each signed envelope to the connector's endpoint."""
        outcomes = {}
        for message in self:
            connector = message.connector_id.sudo()
            try:
                if not connector.endpoint_url:
                    raise MfgBusinessError(_("Connector %s has no endpoint URL.",
                                             connector.code))
                status, elapsed_ms, _text = post_envelope(connector, message.as_envelope())
                outcomes[message.id] = _("Delivered: HTTP %(status)s in %(ms).0f ms",
                                         status=status, ms=elapsed_ms)
            except Exception as exc:  # noqa: BLE001 - the outcome of this message only
                outcomes[message.id] = exc
        return outcomes

    # ----------------------------------------------------------------- failures
    def _mark_exception(self, exc):
        missing = None
        if isinstance(exc, mapping_spec.MissingMapping):
            missing = [list(entry) for entry in exc.missing]
        message = exc.args[0] if isinstance(exc, UserError) and exc.args else str(exc)
        self.write({
            "state": "exception", "last_error": message, "last_traceback": False,
            "missing_mappings": missing, "next_retry_at": False,
        })

    def _mark_failed(self, exc, decision):
        """Record a technical failure: dead, or failed with the retry ``decision`` gave."""
        attempts = self.attempts + 1
        now = fields.Datetime.now()
        values = {
            "attempts": attempts,
            "last_error": f"{type(exc).__name__}: {exc}",
            "last_traceback": traceback.format_exc(),
            "failed_at": now,
        }
        if decision.action == backoff.DEAD:
            values.update(state="dead", dead_at=now, next_retry_at=False)
            _logger.warning("mfg.message %s dead-lettered after %s attempts: %s",
                            self.id, attempts, exc)
        else:
            # The policy's delay is never sooner than a peer's Retry-After (429/503).
            values.update(state="failed",
                          next_retry_at=now + timedelta(seconds=decision.delay_s))
        self.write(values)
        if values["state"] == "failed":
            self._schedule_retry()

    def _schedule_retry(self):
        flow = self.flow_id
        job = self.with_delay(
            channel=flow.connector_id.channel_id.complete_name or "root",
            priority=flow.priority,
            eta=self.next_retry_at,
            description=_("Retry %(attempt)s of %(name)s", attempt=self.attempts + 1,
                          name=self.display_name),
        )._job_process()
        self.job_id = job.db_record().id

    @api.model
    def _cron_requeue_due_retries(self):
        """Safety net: failed messages whose retry job vanished are queued again."""
        now = fields.Datetime.now()
        stale = self.env["mfg.message"].search([
            ("state", "=", "failed"), ("next_retry_at", "<=", now - timedelta(minutes=5)),
            "|", ("job_id", "=", False), ("job_id.state", "in", ("done", "failed", "cancelled")),
        ], limit=5000)
        stale._enqueue_processing(force_now=True)
        return len(stale)
