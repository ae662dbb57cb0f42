# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    mfg_downtime_ref = fields.Char(
        "Shop-floor stop", readonly=True, copy=False, index="btree_not_null",
        help="Work center and start of the machine stop that opened this request.",
    )

    # One request per stop, whatever the number of downtime events about it.
    _mfg_downtime_ref_uniq = models.Constraint(
        "UNIQUE(mfg_downtime_ref)", "A maintenance request already exists for this stop.")

    @api.model
    def _mfg_open_for_downtime(self, message, workcenter, start, duration_min):
        """At most one maintenance request per stop, however many events describe it."""
        ref = f"{workcenter.id}:{fields.Datetime.to_string(start)}"
        Request = self.sudo()
        existing = Request.search([("mfg_downtime_ref", "=", ref)], limit=1)
        if existing:
            return existing
        equipment_id = message._mfg_mapped("equipment_id.value") or workcenter.mfg_equipment_id.id
        return Request.create({
            "name": self.env._("%(wc)s stopped %(min).0f min (%(code)s)", wc=workcenter.name,
                               min=duration_min, code=message._mfg_payload()["reason_code"]),
            "equipment_id": equipment_id or False,
            "maintenance_type": "corrective",
            "request_date": fields.Date.to_date(start),
            "description": self.env._("Opened from shop-floor downtime message %s.",
                                      message.key),
            "mfg_downtime_ref": ref,
            "company_id": workcenter.company_id.id or message.company_id.id,
        })
