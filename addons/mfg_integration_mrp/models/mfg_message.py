# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from ..services import shopfloor


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _apply_handlers(self):
        handlers = super()._apply_handlers()
        handlers.update({
            "production.order": lambda: shopfloor.apply_production_order(self),
            "production.confirmation": lambda: shopfloor.apply_confirmation(self),
            "material.consumption": lambda: shopfloor.apply_consumption(self),
            "production.scrap": lambda: shopfloor.apply_scrap(self),
            "machine.downtime": lambda: shopfloor.apply_downtime(self),
            "quality.result": lambda: shopfloor.apply_quality_result(self),
            "quality.hold": lambda: shopfloor.apply_quality_hold(self),
        })
        return handlers
