# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError

from ..services import master_data

STORED_TYPES = {"Finished", "SemiFinished", "Raw", "Packaging"}


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model
    def _mfg_apply_material_master(self, message):
        """A material from its owner: created with its mapping when new, updated where the
        sender owns the field, archived when flagged for deletion."""
        material = message._mfg_payload()
        code = material["id"]
        unit = material["base_unit"]
        uom_id = message._mfg_mapped("base_unit.unit_code", unit.get("unit_code")) \
            if unit.get("unit_code") else \
            message._mfg_mapped("base_unit.unit_text", unit.get("unit_text"))
        if not uom_id:
            raise MfgBusinessError(self.env._("Unit of material %s is not known.", code))
        values = {"description": material["description"], "base_unit": uom_id,
                  "tracking": master_data.TRACKING.get(material.get("tracking") or "None"),
                  "weight": master_data.kilograms(material.get("gross_weight")),
                  "barcode": material.get("barcode")}
        values = {name: value for name, value in values.items() if value is not None}
        product = master_data.mapped_record(
            message, "product", code, "product.product", "product_id",
            [("default_code", "=", code),
             ("company_id", "in", [message.company_id.id, False])])
        Product = self.sudo().with_context(mfg_origin_connector_id=message.connector_id.id)
        if not product:
            kind = material.get("material_type") or "Raw"
            product = Product.create({
                "name": values["description"], "default_code": code, "uom_id": uom_id,
                "type": "service" if kind == "Service" else "consu",
                "is_storable": kind in STORED_TYPES,
                "tracking": values.get("tracking", "none") if kind in STORED_TYPES else "none",
                "weight": values.get("weight") or 0.0, "barcode": values.get("barcode"),
                "company_id": message.company_id.id})
            master_data.remember(message, "product", code, "product_id", product)
            return product
        product = product.with_context(mfg_origin_connector_id=message.connector_id.id)
        master_data.apply_owned(message, product, values, master_data.MATERIAL_FIELDS)
        if material.get("deleted") and product.active:
            product.active = False
        return product

    def write(self, vals):
        master_data.check_product_edit(self, vals)
        return super().write(vals)
