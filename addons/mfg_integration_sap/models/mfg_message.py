# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound delivery of shop-floor messages to SAP (RFC, SOAP, OData).

SAP is much faster per row when rows travel together (one BAPI table, one OData $batch):
the SAP types register a batching transport (``Transport(..., batch=True)``), so the core
hands a job's due SAP messages to ``_mfg_send_sap`` together, in ordering-key rounds,
before it walks through them. Processed outside a job, a message is sent on its own:
batching is an optimisation, never a requirement.
"""
from collections import OrderedDict
from datetime import timezone

from odoo import _, api, fields, models

from odoo.addons.mfg_integration.registry import Transport

from ..services.sap_bapi import sap_local
from ..services.sap_errors import SapBusinessError
from ..services.sap_senders import SENDERS, Row

SAP_TYPES = ("sap_rfc", "sap_soap", "sap_odata")


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_transports(self):
        transport = Transport("_mfg_send_sap", batch=True)
        return {**super()._mfg_transports(), **dict.fromkeys(SAP_TYPES, transport)}

    def _mfg_send_sap(self):
        """The SAP transport (registry.Transport): messages of one connector."""
        return self._sap_send_batch(self.connector_id.sudo(), self)

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
                rows = [message._sap_row(connector) for message in chunk]
                try:
                    outcomes.update(sender(connector, rows))
                except Exception as exc:  # noqa: BLE001 - the whole call failed: every row
                    for message in chunk:  # of it shares the outcome
                        outcomes[message.id] = exc
        return outcomes

    def _sap_row(self, connector):
        """What a sender needs of this message. The posting date is the day the event
        happened, in the plant's time zone; ``resend``: an earlier attempt may have reached
        SAP (its outcome is unknown), so SAP is asked before the message is sent again. That
        is the case after a failed attempt, and when the job running now is a re-run of one
        that died (queue_job requeues a dead job with its try counter raised): a worker
        killed after SAP posted leaves no attempt or error on the message. ``failed_at``
        survives a manual Requeue (which resets attempts and errors), so a requeued message
        that once failed is looked up too."""
        occurred = fields.Datetime.to_datetime(self.occurred_at) or fields.Datetime.now()
        posting_date = sap_local(occurred.replace(tzinfo=timezone.utc),
                                 connector.sap_timezone).date()
        return Row(self.id, self.key, self.payload or {}, posting_date,
                   bool(self.attempts or self.last_error or self.failed_at
                        or self.sudo().job_id.retry))

    def _sap_unsupported(self, connector):
        return SapBusinessError(_("Type %(type)s cannot be sent to SAP over %(transport)s.",
                                  type=self.canonical_type, transport=connector.connector_type))
