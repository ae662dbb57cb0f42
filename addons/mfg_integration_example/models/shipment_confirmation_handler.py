# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A new inbound canonical type handler in one file (docs/extending.md, "Adding an
inbound handler").

``shipment.confirmation`` (a type of mfg_canonical no other addon applies) is linked to
the delivery order it confirms: the message's result is that picking, so "Produced
records" on the message opens it. An unknown shipment is a business error: the message
waits in ``exception`` with the reason until a person fixes the reference and replays it.
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
                "shipment.confirmation": Handler("_mfg_apply_shipment_confirmation")}

    def _mfg_apply_shipment_confirmation(self):
        reference = self.payload["shipment_ref"]
        picking = self.env["stock.picking"].sudo().search([
            ("name", "=", reference), ("company_id", "=", self.company_id.id),
            ("picking_type_code", "=", "outgoing")], limit=1)
        if not picking:
            raise MfgBusinessError(_("Unknown shipment %(ref)s in plant %(plant)s: no delivery "
                                     "order has this reference.", ref=reference,
                                     plant=self.company_id.name))
        return picking
