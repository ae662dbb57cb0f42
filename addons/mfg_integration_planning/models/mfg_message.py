# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _apply_handlers(self):
        handlers = super()._apply_handlers()
        handlers["demand.forecast"] = lambda: self.env["mfg.demand.forecast"]._apply_message(self)
        return handlers
