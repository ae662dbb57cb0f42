# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    mfg_trigger_ref = fields.Char(
        "Machine trigger",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The meter threshold or the alarm occurrence that opened this request.",
    )

    _mfg_trigger_ref_uniq = models.Constraint(
        "UNIQUE(mfg_trigger_ref)", "A maintenance request already exists for this trigger."
    )

    @api.model
    def _mfg_open_once(self, ref, values):
        """The request of trigger ``ref``: created once (superuser: triggered by checked
        shop-floor messages), found again afterwards."""
        Request = self.sudo()
        existing = Request.search([("mfg_trigger_ref", "=", ref)], limit=1)
        if existing:
            return existing
        return Request.create(dict(values, mfg_trigger_ref=ref))
