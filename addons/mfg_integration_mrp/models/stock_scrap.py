# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models


class StockScrap(models.Model):
    _inherit = "stock.scrap"

    @api.model
    def _mfg_apply_scrap(self, message):
        """A production.scrap message: scrap from the order's component or finished
        location (or the mapped one), with the mapped reason."""
        payload, values = message.payload, message.mapped_values
        production = message._mfg_production(required=False)
        product = self.env["product.product"].browse(values["product"])
        scrap_values = {
            "product_id": product.id,
            "scrap_qty": payload["qty"],
            "product_uom_id": values.get("uom") or product.uom_id.id,
            "company_id": message.company_id.id,
            "origin": payload.get("order_ref") or message.key,
        }
        if values.get("reason_code"):
            scrap_values["scrap_reason_tag_ids"] = [(6, 0, [values["reason_code"]])]
        if values.get("location"):
            scrap_values["location_id"] = values["location"]
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
