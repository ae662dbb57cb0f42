# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from odoo.addons.mfg_integration.registry import Handler


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_apply_handlers(self):
        return {**super()._mfg_apply_handlers(),
                "demand.forecast": Handler("_mfg_apply_demand_forecast")}

    def _mfg_apply_demand_forecast(self):
        return self.env["mfg.demand.forecast"]._apply_message(self)
