# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class MfgStockDifference(models.Model):
    """Where Odoo's on-hand differs from the last stock report of a WMS or ERP
    (inventory.snapshot), per location, product and lot. Each report replaces the
    differences of its connector and locations."""

    _name = "mfg.stock.difference"
    _description = "Stock difference with another system"
    _order = "taken_at desc, location_id, product_id"
    _check_company_auto = True

    connector_id = fields.Many2one("mfg.connector", "Reported by", required=True,
                                   readonly=True, index=True, check_company=True)
    company_id = fields.Many2one("res.company", "Plant", required=True, readonly=True,
                                 index=True)
    message_id = fields.Many2one("mfg.message", "Stock report", readonly=True)
    taken_at = fields.Datetime("Reported at", readonly=True)
    location_id = fields.Many2one("stock.location", readonly=True, check_company=True)
    product_id = fields.Many2one("product.product", readonly=True)
    lot_name = fields.Char("Lot", readonly=True)
    reported_qty = fields.Float("Reported", digits="Product Unit", readonly=True)
    odoo_qty = fields.Float("In Odoo", digits="Product Unit", readonly=True)
    difference = fields.Float(digits="Product Unit", readonly=True,
                              help="Odoo minus the report.")
    uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")

    def action_view_messages(self):
        """The report and the connector's warehouse messages about this product."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mfg_integration.action_mfg_message")
        code_messages = self.env["mfg.message"].search([
            ("connector_id", "=", self.connector_id.id),
            ("canonical_type", "in", ("inventory.move", "goods.receipt",
                                      "shipment.confirmation")),
            ("received_at", ">=", fields.Datetime.subtract(self.taken_at, days=7))])
        action["domain"] = [("id", "in", (self.message_id | code_messages).ids)]
        return action

    @api.model
    def _mfg_replace(self, message, rows, locations):
        """The differences of ``message``'s report: [(location, product, lot name,
        reported qty)], the report's ``locations``; complete reports also list what Odoo
        holds there and the report does not name."""
        payload = message._mfg_payload()
        Quant = self.env["stock.quant"].sudo()
        self.sudo().search([("connector_id", "=", message.connector_id.id),
                            ("location_id", "in", locations.ids)]).unlink()
        seen, values = set(), []
        for location, product, lot_name, _reported in rows:
            key = (location.id, product.id, lot_name or "")
            if key in seen:
                continue
            seen.add(key)
            quants = Quant.search([("product_id", "=", product.id),
                                   ("location_id", "=", location.id)])
            odoo = sum(quants.filtered(lambda q, n=lot_name or "": (q.lot_id.name or "") == n)
                       .mapped("quantity"))
            reported_total = sum(qty for loc, prod, lot, qty in rows
                                 if (loc.id, prod.id, lot or "") == key)
            values.append((location, product, lot_name, reported_total, odoo))
        if payload.get("complete"):
            for quant in Quant.search([("location_id", "in", locations.ids),
                                       ("quantity", "!=", 0)]):
                key = (quant.location_id.id, quant.product_id.id, quant.lot_id.name or "")
                if key not in seen:
                    seen.add(key)
                    values.append((quant.location_id, quant.product_id, quant.lot_id.name,
                                   0.0, quant.quantity))
        taken_at = fields.Datetime.to_datetime(payload["taken_at"][:19].replace("T", " "))
        return self.sudo().create([{
            "connector_id": message.connector_id.id, "company_id": message.company_id.id,
            "message_id": message.id, "taken_at": taken_at, "location_id": location.id,
            "product_id": product.id, "lot_name": lot_name or False,
            "reported_qty": reported, "odoo_qty": odoo, "difference": odoo - reported,
        } for location, product, lot_name, reported, odoo in values
            if not product.uom_id.is_zero(odoo - reported)])
