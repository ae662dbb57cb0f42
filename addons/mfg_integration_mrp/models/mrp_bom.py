# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from ..services import master_data


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    # ----------------------------------------------------------- inbound
    @api.model
    def _mfg_apply_bom(self, message):
        """A BoM revision from its owner: a new revision becomes a new BoM (code
        "<id>/<revision>") and archives the previous revisions, so new orders take it while
        running ones keep theirs; the same revision again replaces its lines (a correction)."""
        bom_data = message._mfg_payload()
        product = self.env["product.product"].browse(
            message._mfg_mapped("material_definition_id.value"))
        code = f"{bom_data['id']}/{bom_data['revision']}"
        operations = [(0, 0, {
            "name": operation.get("description") or operation["id"],
            "workcenter_id": message._mfg_mapped("operations[].work_center_id.value",
                                                 operation["work_center_id"]["value"]),
            "time_mode": "manual",
            "time_cycle_manual": master_data.minutes(operation.get("duration")),
        }) for operation in bom_data.get("operations") or []]
        values = {
            "product_tmpl_id": product.product_tmpl_id.id, "code": code,
            "product_qty": bom_data["quantity"]["value"],
            "product_uom_id": message._mfg_uom_of("", bom_data["quantity"])
            or product.uom_id.id,
            "company_id": message.company_id.id, "type": "normal",
        }
        # Built in several writes: published once at the end, to everyone but the sender.
        Bom = self.sudo().with_context(mfg_origin_connector_id=message.connector_id.id,
                                       mfg_no_publish=True, active_test=False)
        bom = Bom.search([("code", "=", code), ("product_tmpl_id", "=", product.product_tmpl_id.id),
                          ("company_id", "=", message.company_id.id)], limit=1)
        if bom:
            bom.write({"bom_line_ids": [(5, 0, 0)], "operation_ids": [(5, 0, 0)]})
            bom.write(dict(values, operation_ids=operations))
        else:
            # The owner's newest revision comes first for new orders of the product.
            others = Bom.search([("product_tmpl_id", "=", product.product_tmpl_id.id),
                                 ("active", "=", True)])
            first = min(others.mapped("sequence") or [1])
            bom = Bom.create(dict(values, operation_ids=operations, sequence=first - 1))
        by_name = {operation.name: operation for operation in bom.operation_ids}
        names = {op["id"]: op.get("description") or op["id"]
                 for op in bom_data.get("operations") or []}
        bom.write({"bom_line_ids": [(0, 0, {
            "product_id": message._mfg_mapped("components[].material_definition_id.value",
                                              line["material_definition_id"]["value"]),
            "product_qty": line["quantity"]["value"],
            "product_uom_id": message._mfg_uom_of("components[]", line["quantity"]),
            "operation_id": by_name.get(names.get(line.get("operation_id")),
                                        self.env["mrp.routing.workcenter"]).id or False,
        }) for line in bom_data["components"]]})
        older = Bom.search([("product_tmpl_id", "=", product.product_tmpl_id.id),
                            ("code", "=like", f"{bom_data['id']}/%"), ("id", "!=", bom.id),
                            ("active", "=", True)])
        older.active = False
        bom.active = True
        master_data.publish_boms(bom.with_context(mfg_no_publish=False))
        return bom

    # ---------------------------------------------------------- outbound
    @api.model_create_multi
    def create(self, vals_list):
        boms = super().create(vals_list)
        if not self.env.context.get("mfg_no_publish"):
            master_data.publish_boms(boms.filtered("active"))
        return boms

    def write(self, vals):
        result = super().write(vals)
        if not self.env.context.get("mfg_no_publish"):
            master_data.publish_boms(self.filtered("active"))
        return result
