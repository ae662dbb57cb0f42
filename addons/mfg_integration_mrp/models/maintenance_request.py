# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    mfg_downtime_ref = fields.Char(
        "Shop-floor stop", readonly=True, copy=False, index="btree_not_null",
        help="Work center and start of the machine stop that opened this request.",
    )

    # One request per stop, whatever the number of downtime events about it.
    _mfg_downtime_ref_uniq = models.Constraint(
        "UNIQUE(mfg_downtime_ref)", "A maintenance request already exists for this stop.")
