# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.registry import Handler


class MfgMessage(models.Model):
    """Warehouse messages from a WMS applied as a user would in Inventory: a transfer
    validated, a receipt received (against its picking, or unplanned), a delivery shipped -
    quantities and lots as reported, backorders as Odoo's rules say. Canonical v2 (v1
    senders are upgraded at ingest)."""

    _inherit = "mfg.message"

    @api.model
    def _mfg_apply_handlers(self):
        return {
            **super()._mfg_apply_handlers(),
            "inventory.move": Handler("_mfg_apply_inventory_move", version=2),
            "goods.receipt": Handler("_mfg_apply_goods_receipt", version=2),
            "shipment.confirmation": Handler("_mfg_apply_shipment", version=2),
        }

    # ------------------------------------------------------------------ helpers
    def _mfg_stock_context(self):
        """Changes made for this message are not sent back to where it came from."""
        return {"mfg_origin_connector_id": self.connector_id.id}

    def _mfg_line_values(self, path, line):
        """(product, quantity in the product's unit, lot name or None) of a v2 line at
        ``path`` ("" for the payload itself)."""
        prefix = f"{path}." if path else ""
        code = line["material_definition_id"]["value"]
        product = self.env["product.product"].browse(
            self._mfg_mapped(f"{prefix}material_definition_id.value", code))
        if not product:
            raise MfgBusinessError(self.env._("Material %s is not mapped to a product.", code))
        uom_id = self._mfg_uom_of(path, line["quantity"])
        qty = self._mfg_qty_in_uom(line["quantity"]["value"], product.uom_id, uom_id)
        lot = line.get("lot_id")
        if product.tracking != "none" and not lot:
            raise MfgBusinessError(self.env._(
                "%s is tracked by lot or serial: the message names none.",
                product.display_name))
        return product, qty, lot

    def _mfg_location(self, path, identifier, default=None):
        if not identifier:
            return default
        location = self.env["stock.location"].browse(
            self._mfg_mapped(f"{path}.value", identifier["value"]))
        if not location:
            raise MfgBusinessError(self.env._("Location %s is not mapped.",
                                              identifier["value"]))
        if location.company_id and location.company_id != self.company_id:
            raise MfgBusinessError(self.env._(
                "Location %(loc)s belongs to another plant than connector %(code)s.",
                loc=location.display_name, code=self.connector_id.code))
        return location

    def _mfg_warehouse(self):
        return self.env["stock.warehouse"].sudo().search(
            [("company_id", "=", self.company_id.id)], limit=1)

    # ----------------------------------------------------------------- handlers
    def _mfg_apply_inventory_move(self):
        payload = self._mfg_payload()
        product, qty, lot = self._mfg_line_values("", payload)
        source = self._mfg_location("from_location", payload["from_location"])
        dest = self._mfg_location("to_location", payload["to_location"])
        Picking = self.env["stock.picking"].sudo().with_context(**self._mfg_stock_context())
        return Picking._mfg_transfer(self, product, qty, lot, source, dest, payload)

    def _mfg_apply_goods_receipt(self):
        payload = self._mfg_payload()
        product, qty, lot = self._mfg_line_values("", payload)
        Picking = self.env["stock.picking"].sudo().with_context(**self._mfg_stock_context())
        return Picking._mfg_receive(self, product, qty, lot, payload)

    def _mfg_apply_shipment(self):
        payload = self._mfg_payload()
        lines = []
        for line in payload["lines"]:
            product, qty, lot = self._mfg_line_values("lines[]", line)
            lines.append((product, qty, lot))
        Picking = self.env["stock.picking"].sudo().with_context(**self._mfg_stock_context())
        return Picking._mfg_ship(self, lines, payload)
