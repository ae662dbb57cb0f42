# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from odoo.addons.mfg_integration.registry import Transport


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_transports(self):
        # Both REST types send through their flow's endpoint when one is configured.
        transport = Transport("_mfg_send_rest")
        return {**super()._mfg_transports(), "mes_rest": transport, "generic_rest": transport}

    def _mfg_send_rest(self):
        """Each message through its flow's active REST endpoint; without one, the core's
        POST of the envelope to the connector URL applies."""
        outcomes = {}
        for message in self:
            endpoint = message.flow_id.sudo().rest_endpoint_ids.filtered("active")[:1] \
                if message.flow_id else False
            if not endpoint:
                outcomes.update(message._mfg_send_envelope())
                continue
            try:
                outcomes[message.id] = endpoint._deliver(message)
            except Exception as exc:  # noqa: BLE001 - the outcome of this message only
                outcomes[message.id] = exc
        return outcomes
