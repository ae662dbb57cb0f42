# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, timezone

from odoo import api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError

MAX_WIZARD_STEPS = 4
OPEN = ("draft", "confirmed", "waiting", "assigned")


class StockPicking(models.Model):
    _inherit = "stock.picking"

    # ------------------------------------------------------------ user steps
    def _mfg_validate(self):
        """Validate as a user answering Odoo's questions would: a backorder for what was
        not done where the operation type asks; anything else needs a person."""
        action = self.button_validate()
        for _step in range(MAX_WIZARD_STEPS):
            if not isinstance(action, dict) or self.state == "done":
                break
            model = action.get("res_model")
            context = dict(self.env.context, **(action.get("context") or {}))
            if model == "stock.backorder.confirmation":
                action = self.env[model].with_context(**context).create({}).process()
            else:
                raise MfgBusinessError(self.env._(
                    "%(picking)s needs input in Odoo to be validated (%(what)s).",
                    picking=self.name, what=action.get("name") or model))
        if self.state != "done":
            raise MfgBusinessError(self.env._("%s could not be validated.", self.name))
        return self

    @api.model
    def _mfg_lot(self, product, lot_name, create=False):
        if not lot_name:
            return self.env["stock.lot"]
        lot = self.env["stock.lot"].search([("name", "=", lot_name),
                                            ("product_id", "=", product.id)], limit=1)
        if not lot and create:
            lot = self.env["stock.lot"].create({"name": lot_name, "product_id": product.id,
                                                "company_id": self.env.company.id})
        if not lot:
            raise MfgBusinessError(self.env._("Lot %(lot)s of %(product)s does not exist.",
                                              lot=lot_name, product=product.display_name))
        return lot

    @api.model
    def _mfg_check_available(self, product, qty, lot, location):
        # The location itself (strict), not its children: a WMS names the bin it took from.
        available = self.env["stock.quant"]._get_available_quantity(
            product, location, lot_id=lot or None, strict=True)
        if product.uom_id.compare(available, qty) < 0:
            raise MfgBusinessError(self.env._(
                "Only %(available)s %(uom)s of %(product)s%(lot)s at %(location)s, %(qty)s "
                "reported: nothing was booked.", available=available, uom=product.uom_id.name,
                product=product.display_name, lot=f" lot {lot.name}" if lot else "",
                location=location.display_name, qty=qty))

    def _mfg_set_done_line(self, move, qty, lot, source=None, dest=None):
        """The reported quantity and lot on ``move``, in place of Odoo's own guess."""
        move.move_line_ids.filtered(lambda ml: not ml.picked).unlink()
        move.move_line_ids = [(0, 0, {
            "product_id": move.product_id.id, "quantity": qty, "lot_id": lot.id or False,
            "product_uom_id": move.product_id.uom_id.id,
            "location_id": (source or move.location_id).id,
            "location_dest_id": (dest or move.location_dest_id).id, "picked": True,
            "picking_id": move.picking_id.id})]
        move.picked = True

    # ----------------------------------------------------------- the handlers
    @api.model
    def _mfg_transfer(self, message, product, qty, lot_name, source, dest, payload):
        """A transfer between two locations, or - from or to an inventory location - an
        inventory adjustment of the other one."""
        lot = self._mfg_lot(product, lot_name)
        if "inventory" in (source.usage, dest.usage):
            counted = dest if dest.usage == "internal" else source
            sign = 1 if counted == dest else -1
            quant = self.env["stock.quant"]._gather(product, counted, lot_id=lot or None,
                                                   strict=True)[:1]
            current = quant.quantity if quant else 0.0
            if sign < 0:
                self._mfg_check_available(product, qty, lot, counted)
            quant = quant or self.env["stock.quant"].create({
                "product_id": product.id, "location_id": counted.id, "lot_id": lot.id or False})
            quant.inventory_quantity = current + sign * qty
            quant.action_apply_inventory()
            return quant
        self._mfg_check_available(product, qty, lot, source)
        warehouse = source.warehouse_id or message._mfg_warehouse()
        return self._mfg_book_line(warehouse.int_type_id, source, dest, product, qty, lot,
                                   payload.get("reference") or payload["id"])

    @api.model
    def _mfg_book_line(self, picking_type, source, dest, product, qty, lot, origin,
                       partner=None):
        """One reported line as a user would book it: a picking of that operation type,
        the line with its lot, validated."""
        picking = self.create({
            "picking_type_id": picking_type.id, "location_id": source.id,
            "location_dest_id": dest.id, "origin": origin,
            "partner_id": partner.id if partner else False,
            "move_ids": [(0, 0, {"product_id": product.id, "product_uom_qty": qty,
                                 "product_uom": product.uom_id.id, "location_id": source.id,
                                 "location_dest_id": dest.id})]})
        picking.action_confirm()
        self._mfg_set_done_line(picking.move_ids, qty, lot)
        return picking._mfg_validate()

    @api.model
    def _mfg_receive(self, message, product, qty, lot_name, payload):
        """A received line: on its open receipt (by receipt or purchase reference, also
        once the receipt was split into backorders), or an unplanned receipt."""
        refs = [ref for ref in (payload.get("receipt_ref"), payload.get("purchase_ref")) if ref]
        dest = message._mfg_location("to_location", payload.get("to_location"))
        lot = self._mfg_lot(product, lot_name, create=True)
        if refs:
            picking = self._mfg_open_picking("incoming", refs, product, message)
            move = picking.move_ids.filtered(
                lambda m: m.product_id == product and m.state in OPEN)[:1]
            self._mfg_set_done_line(move, qty, lot, dest=dest)
            (picking.move_ids - move).filtered(lambda m: not m.picked).quantity = 0
            return picking._mfg_validate()
        warehouse = message._mfg_warehouse()
        picking_type = warehouse.in_type_id
        dest = dest or picking_type.default_location_dest_id
        source = self.env.ref("stock.stock_location_suppliers")
        partner = self.env["res.partner"].browse(
            message._mfg_mapped("supplier_id.value")) if payload.get("supplier_id") else None
        return self._mfg_book_line(picking_type, source, dest, product, qty, lot,
                                   payload["id"], partner)

    @api.model
    def _mfg_ship(self, message, lines, payload):
        """A delivery as shipped: the reported quantities and lots, nothing else; what was
        not shipped goes to a backorder where the operation type says so."""
        refs = [ref for ref in (payload["shipment_ref"], payload.get("sale_ref")) if ref]
        picking = self._mfg_open_picking("outgoing", refs, lines[0][0], message)
        shipped = self.env["stock.move"]
        for product, qty, lot_name in lines:
            move = (picking.move_ids - shipped).filtered(
                lambda m, p=product: m.product_id == p and m.state in OPEN)[:1]
            if not move:
                raise MfgBusinessError(self.env._(
                    "%(picking)s has no open line of %(product)s.", picking=picking.name,
                    product=product.display_name))
            lot = self._mfg_lot(product, lot_name)
            move._do_unreserve()  # what Odoo reserved is its guess, not what was shipped
            self._mfg_check_available(product, qty, lot, picking.location_id)
            self._mfg_set_done_line(move, qty, lot)
            shipped |= move
        (picking.move_ids - shipped).move_line_ids.unlink()
        (picking.move_ids - shipped).picked = False
        tracking = payload.get("carrier_tracking_ref")
        if tracking and "carrier_tracking_ref" in picking._fields:
            picking.carrier_tracking_ref = tracking
        picking._mfg_validate()
        if payload.get("shipped_at"):
            # When it left the dock, not when the message was applied.
            shipped = datetime.fromisoformat(payload["shipped_at"].replace("Z", "+00:00"))
            picking.date_done = shipped.astimezone(timezone.utc).replace(tzinfo=None)
        return picking

    @api.model
    def _mfg_expect_transfer(self, message, lines, payload):
        """Another plant announced a shipment to this one: the receipt is prepared with
        its products, quantities and lots (from the inter-company transit location), and a
        transfer record waits for its validation to reconcile the two."""
        Transfer = self.env["mfg.interplant.transfer"].sudo()
        if Transfer.search_count([("connector_id", "=", message.connector_id.id),
                                  ("name", "=", payload["shipment_ref"])]):
            raise MfgBusinessError(self.env._(
                "Shipment %(ref)s of %(code)s was announced already.",
                ref=payload["shipment_ref"], code=message.connector_id.code))
        self = self.with_company(message.company_id)  # noqa: PLW0642 - the receiving plant's
        warehouse = message._mfg_warehouse()
        transit = self.env.ref("stock.stock_location_inter_company", raise_if_not_found=False) \
            or self.env.ref("stock.stock_location_suppliers")
        dest = warehouse.in_type_id.default_location_dest_id
        picking = self.create({
            "picking_type_id": warehouse.in_type_id.id, "location_id": transit.id,
            "location_dest_id": dest.id, "origin": payload["shipment_ref"],
            "company_id": message.company_id.id,
            "move_ids": [(0, 0, {"product_id": product.id, "product_uom_qty": qty,
                                 "product_uom": product.uom_id.id, "location_id": transit.id,
                                 "location_dest_id": dest.id,
                                 "company_id": message.company_id.id})
                         for product, qty, _lot in lines]})
        picking.action_confirm()
        shipped = []
        for move, (product, qty, lot_name) in zip(picking.move_ids, lines, strict=True):
            lot = self._mfg_lot(product, lot_name, create=True)
            move.move_line_ids.unlink()
            move.move_line_ids = [(0, 0, {
                "product_id": product.id, "quantity": qty, "lot_id": lot.id or False,
                "product_uom_id": product.uom_id.id, "location_id": transit.id,
                "location_dest_id": dest.id, "picking_id": picking.id})]
            shipped.append({"product_id": product.id, "lot": lot_name or "", "qty": qty})
        shipped_at = datetime.fromisoformat(payload["shipped_at"].replace("Z", "+00:00"))
        Transfer.create({
            "name": payload["shipment_ref"], "connector_id": message.connector_id.id,
            "company_id": message.company_id.id, "picking_id": picking.id,
            "message_id": message.id, "shipped_lines": shipped,
            "shipped_at": shipped_at.astimezone(timezone.utc).replace(tzinfo=None)})
        return picking

    @api.model
    def _mfg_open_picking(self, kind, refs, product, message):
        """The open picking of ``kind`` a reference names (its name, its origin, or the
        name of the picking it was split from) that still has a line of ``product``."""
        domain = [("picking_type_code", "=", kind), ("company_id", "=", message.company_id.id),
                  ("state", "in", OPEN)]
        for picking in self.search(domain, order="id"):
            names = {picking.name, picking.origin}
            parent = picking.backorder_id
            while parent:
                names.add(parent.name)
                parent = parent.backorder_id
            if names & set(refs) and picking.move_ids.filtered(
                    lambda m: m.product_id == product and m.state in OPEN):
                return picking
        raise MfgBusinessError(self.env._(
            "No open %(kind)s %(refs)s with a line of %(product)s in plant %(plant)s.",
            kind=self.env._("receipt") if kind == "incoming" else self.env._("delivery"),
            refs=" / ".join(refs), product=product.display_name,
            plant=message.company_id.name))
