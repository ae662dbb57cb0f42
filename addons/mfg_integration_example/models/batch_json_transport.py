# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A new outbound transport in one file (docs/extending.md, "Adding a transport").

Connector type ``batch_json``: the due outbound messages of a processing job are POSTed
together as ``{"envelopes": [...]}`` (the body the JSON-2 ingest of another Odoo, or any
peer speaking it, accepts), with the connector's authentication, its timeout and TLS
settings, and only to its own host (``send_with_auth``). Because it registers with
``batch=True``, the core hands it a job's messages together, in ordering-key rounds.

The peer's answer is every message's outcome: 2xx done, 408/425/429/5xx a retry with the
flow's backoff (Retry-After honoured), another 4xx an exception for a person.
"""
import json
import time

from odoo import _, api, fields, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError, PeerRejected, TransportError
from odoo.addons.mfg_integration.models.mfg_connector import archive_removed_type
from odoo.addons.mfg_integration.registry import Transport
from odoo.addons.mfg_integration.services.transport import retry_after_seconds, send_with_auth

BATCH_JSON = "batch_json"


class MfgConnector(models.Model):
    _inherit = "mfg.connector"

    connector_type = fields.Selection(selection_add=[(BATCH_JSON, "Batch JSON (example)")],
                                      ondelete={BATCH_JSON: archive_removed_type})

    @api.model
    def _mfg_connection_tests(self):
        # The core's GET of the endpoint with the connector's credentials fits this peer.
        return {**super()._mfg_connection_tests(), BATCH_JSON: "_test_http_connection"}


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_transports(self):
        return {**super()._mfg_transports(),
                BATCH_JSON: Transport("_mfg_send_batch_json", batch=True)}

    def _mfg_send_batch_json(self):
        """POST these messages (of one connector) in one request; {id: outcome}."""
        connector = self.connector_id.sudo()
        try:
            if not connector.endpoint_url:
                raise MfgBusinessError(_("Connector %s has no endpoint URL.", connector.code))
            body = json.dumps({"envelopes": [message.as_envelope() for message in self]},
                              separators=(",", ":"), sort_keys=True)
            started = time.monotonic()
            response = send_with_auth(connector, "POST", connector.endpoint_url, data=body,
                                      headers={"Content-Type": "application/json"})
            status, text = response.status_code, response.text[:300]
            if status in (408, 425, 429) or status >= 500:
                raise TransportError(f"HTTP {status}: {text}",
                                     retry_after_s=retry_after_seconds(response))
            if status >= 400:
                raise PeerRejected(f"HTTP {status}: {text}")
        except Exception as exc:  # noqa: BLE001 - one request: every message shares it
            return dict.fromkeys(self.ids, exc)
        summary = _("Delivered in a batch of %(n)s: HTTP %(status)s in %(ms).0f ms", n=len(self),
                    status=status, ms=(time.monotonic() - started) * 1000)
        return dict.fromkeys(self.ids, summary)
