# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from ..services.field_ownership import ORDER_FIELDS
from ..services.master_data import MATERIAL_FIELDS, WORK_CENTER_FIELDS


class MfgFlow(models.Model):
    _inherit = "mfg.flow"

    @api.model
    def _mfg_ownable_fields(self):
        return {**super()._mfg_ownable_fields(),
                "production.order": dict(ORDER_FIELDS),
                "material.master": dict(MATERIAL_FIELDS),
                "equipment.work_center": dict(WORK_CENTER_FIELDS)}
