# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from odoo.addons.mfg_integration.registry import Handler


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_apply_handlers(self):
        return {**super()._mfg_apply_handlers(),
                "demand.forecast": Handler("_mfg_apply_demand_forecast")}

    @api.model
    def _mfg_mapping_rules(self):
        return {**super()._mfg_mapping_rules(),
                "demand.forecast": [("product", "product", True), ("uom", "uom", True),
                                    ("location", "location", False)]}

    def _mfg_apply_demand_forecast(self):
        return self.env["mfg.demand.forecast"]._apply_message(self)
