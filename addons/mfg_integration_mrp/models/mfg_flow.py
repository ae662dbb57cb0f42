# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from ..services.field_ownership import ORDER_FIELDS


class MfgFlow(models.Model):
    _inherit = "mfg.flow"

    @api.model
    def _mfg_ownable_fields(self):
        return {**super()._mfg_ownable_fields(),
                "production.order": {name: field for name, field in ORDER_FIELDS.items()}}
