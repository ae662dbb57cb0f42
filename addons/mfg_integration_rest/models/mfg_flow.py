# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class MfgFlow(models.Model):
    _inherit = "mfg.flow"

    rest_endpoint_ids = fields.One2many("mfg.rest.endpoint", "flow_id", string="REST endpoints")

    def _enqueue_pending(self):
        """A scheduled run of an inbound flow with a pull endpoint pulls first, then
        processes what arrived (the pulled messages included)."""
        for flow in self.filtered(lambda f: f.direction == "in"):
            for endpoint in flow.rest_endpoint_ids.filtered(lambda e: e.active and e.pull_path):
                endpoint.sudo()._pull()
        return super()._enqueue_pending()
