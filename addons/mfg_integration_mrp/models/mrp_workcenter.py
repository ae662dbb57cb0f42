# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class MrpWorkcenter(models.Model):
    _inherit = "mrp.workcenter"

    mfg_maintenance_after_min = fields.Float(
        "Maintenance request after (min)",
        help="A machine stop reported by the shop floor that lasts longer than this opens one "
        "maintenance request on the stopped equipment. 0 disables it.",
    )
    mfg_equipment_id = fields.Many2one(
        "maintenance.equipment", "Main equipment", check_company=True,
        help="Equipment that gets the maintenance request when the stop names no asset.",
    )
