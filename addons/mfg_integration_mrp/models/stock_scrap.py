# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError

from ..services.shopfloor import ACTUALS


class StockScrap(models.Model):
    _inherit = "stock.scrap"

    @api.model
    def _mfg_apply_scrap(self, message):
        """A production.scrap message: each material actual scrapped from the order's
        component or finished location (or the mapped one), with the mapped reason."""
        production = message._mfg_production(required=False)
        scraps = self.browse()
        for segment in message._mfg_payload()["segment_responses"]:
            for actual in segment.get("material_actuals") or []:
                scraps |= self._mfg_scrap_actual(message, production, actual)
        return scraps

    @api.model
    def _mfg_scrap_actual(self, message, production, actual):
        code = (actual.get("material_definition_id") or {}).get("value")
        product = self.env["product.product"].browse(
            message._mfg_mapped(f"{ACTUALS}.material_definition_id.value", code))
        if not product:
            raise MfgBusinessError(self.env._("Scrapped material without a known product."))
        scrap_values = {
            "product_id": product.id,
            "scrap_qty": actual["quantity"]["value"],
            "product_uom_id": message._mfg_uom_of(ACTUALS, actual["quantity"])
            or product.uom_id.id,
            "company_id": message.company_id.id,
            "origin": message._mfg_payload().get("operations_request_id") or message.key,
        }
        reason = message._mfg_mapped(f"{ACTUALS}.reason_code", actual.get("reason_code"))
        if reason:
            scrap_values["scrap_reason_tag_ids"] = [(6, 0, [reason])]
        location = message._mfg_mapped(f"{ACTUALS}.storage_location",
                                       actual.get("storage_location"))
        if location:
            scrap_values["location_id"] = location
        if production:
            scrap_values["production_id"] = production.id
            if "location_id" not in scrap_values:
                is_component = product in production.move_raw_ids.product_id
                scrap_values["location_id"] = (production.location_src_id if is_component
                                               else production.location_dest_id).id
        scrap = self.sudo().create(scrap_values)
        # The shop floor already threw the parts away: scrap even without stock on hand, as
        # a user confirming Odoo's "insufficient quantity" warning would.
        scrap.do_scrap()
        return scrap
