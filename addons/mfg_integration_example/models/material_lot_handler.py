# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A new inbound canonical type handler in one file (docs/extending.md, "Adding an
inbound handler").

``material.lot`` (a type of mfg_canonical no other addon applies: the core only records
it) is linked to the Odoo lot it describes: the message's result is that lot, so
"Produced records" on the message opens it. An unknown lot is a business error: the
message waits in ``exception`` with the reason until a person fixes the reference and
replays it. The handler reads canonical version 2 (the only version of the type).
Validation of the envelope, flows, ordering, retries and the done values stay the core's.
"""
from odoo import _, api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.registry import Handler


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_apply_handlers(self):
        return {**super()._mfg_apply_handlers(),
                "material.lot": Handler("_mfg_apply_material_lot", version=2)}

    def _mfg_apply_material_lot(self):
        lot_name = self._mfg_payload()["id"]
        lot = self.env["stock.lot"].sudo().search([
            ("name", "=", lot_name), ("company_id", "in", [self.company_id.id, False])],
            limit=1)
        if not lot:
            raise MfgBusinessError(_("Unknown lot %(lot)s in plant %(plant)s: no lot has "
                                     "this number.", lot=lot_name, plant=self.company_id.name))
        return lot
