# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

from .mfg_rest_endpoint import REST_TYPES


class MfgMessageProcessing(models.AbstractModel):
    _inherit = "mfg.message.processing"

    def _deliver_outbound(self):
        """REST connectors send through their flow's endpoint when one is configured;
        without one the core's POST of the envelope to the connector URL applies."""
        if self.connector_id.connector_type in REST_TYPES and self.flow_id:
            endpoint = self.flow_id.sudo().rest_endpoint_ids.filtered("active")[:1]
            if endpoint:
                return endpoint._deliver(self)
        return super()._deliver_outbound()
