# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound delivery of shop-floor messages to SAP (RFC, SOAP, OData).

The core finds the transport of a connector type in ``_mfg_transports()``. SAP is much
faster per row when rows travel together (one BAPI table, one OData $batch), so before the
core walks through a job's messages, ``_job_process`` sends the due SAP messages in batches
and parks each message's outcome; the transport then only hands that outcome back. A
message without a parked outcome (e.g. processed outside a job) is sent on its own:
batching is an optimisation, never a requirement.
"""
from collections import OrderedDict

from mfg_canonical import EnvelopeError, validate_envelope

from odoo import _, api, fields, models

from odoo.addons.mfg_integration.registry import Transport
from odoo.addons.mfg_integration.states import PROCESSABLE_STATES

from ..services.sap_errors import SapBusinessError, SapRetryableError
from ..services.sap_senders import SENDERS

SAP_TYPES = ("sap_rfc", "sap_soap", "sap_odata")
PRESEND_CACHE = "mfg_sap_presend"


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    def _job_process(self):
        self._sap_presend()
        return super()._job_process()

    @api.model
    def _mfg_transports(self):
        transport = Transport("_mfg_send_sap")
        return {**super()._mfg_transports(), **dict.fromkeys(SAP_TYPES, transport)}

    def _mfg_send_sap(self):
        parked = self.env.cr.cache.get(PRESEND_CACHE, {})
        outcomes = {m.id: parked.pop(m.id) for m in self if m.id in parked}
        rest = self.filtered(lambda m: m.id not in outcomes)
        if rest:
            outcomes.update(self._sap_send_batch(rest.connector_id.sudo(), rest))
        return outcomes

    # ---------------------------------------------------------------- batching
    def _sap_presend(self):
        """Send this job's due outbound SAP messages in batches, in ordering-key rounds.

        Round n holds the n-th due message of every ordering key (plus all messages without
        a key), so two confirmations of one order never overtake each other; a key whose
        message must be retried stops there, as the core would stop it.
        """
        candidates = self.exists().filtered(
            lambda m: m.direction == "out" and m.state in PROCESSABLE_STATES
            and m.connector_id.connector_type in SAP_TYPES and m._is_due())
        if len(candidates) < 2:
            return
        queues = OrderedDict()
        for message in candidates.sorted(lambda m: (m.occurred_at, m.id)):
            if not message._sap_sendable():
                continue
            queues.setdefault(message.ordering_key or f"#{message.id}", []).append(message)
        parked = self.env.cr.cache.setdefault(PRESEND_CACHE, {})
        while queues:
            batch = self.browse([queue[0].id for queue in queues.values()])
            outcomes = {}
            for connector in batch.connector_id:
                outcomes.update(self._sap_send_batch(connector.sudo(), batch.filtered(
                    lambda m, c=connector: m.connector_id == c)))
            parked.update(outcomes)
            for key in list(queues):
                head = queues[key].pop(0)
                if isinstance(outcomes.get(head.id), SapRetryableError) or not queues[key]:
                    del queues[key]

    def _sap_sendable(self):
        """Only messages the core would deliver: valid envelopes of an active flow."""
        self.ensure_one()
        if not self.flow_id or not self.flow_id.active:
            return False
        try:
            validate_envelope(self.as_envelope())
        except EnvelopeError:
            return False
        return self.canonical_type in SENDERS

    def _sap_send_batch(self, connector, messages):
        """{message id: summary text or exception} for messages of one connector."""
        outcomes = {}
        by_type = OrderedDict()
        for message in messages:
            by_type.setdefault(message.canonical_type, []).append(message)
        size = max(1, connector.sap_batch_size or 1)
        for canonical_type, group in by_type.items():
            sender = SENDERS.get(canonical_type)
            if sender is None:
                for message in group:
                    outcomes[message.id] = message._sap_unsupported(connector)
                continue
            for start in range(0, len(group), size):
                chunk = group[start:start + size]
                rows = [(message.id, message.key, message.payload or {}) for message in chunk]
                try:
                    outcomes.update(sender(connector, rows, fields.Date.context_today(self)))
                except Exception as exc:  # noqa: BLE001 - the whole call failed: every row
                    for message in chunk:  # of it shares the outcome
                        outcomes[message.id] = exc
        return outcomes

    def _sap_unsupported(self, connector):
        return SapBusinessError(_("Type %(type)s cannot be sent to SAP over %(transport)s.",
                                  type=self.canonical_type, transport=connector.connector_type))
