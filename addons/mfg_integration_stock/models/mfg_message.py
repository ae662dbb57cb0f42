# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError, PeerRejected, TransportError
from odoo.addons.mfg_integration.registry import Handler, Transport
from odoo.addons.mfg_integration.services.transport import send_with_auth

from .mfg_connector import ODOO_LOCAL, ODOO_REMOTE


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
            "shipment.notice": Handler("_mfg_apply_shipment_notice", version=2),
            "inventory.snapshot": Handler("_mfg_apply_inventory_snapshot", version=2),
        }

    @api.model
    def _mfg_outbound_versions(self):
        return {**super()._mfg_outbound_versions(), "shipment.notice": 2}

    @api.model
    def _mfg_transports(self):
        return {**super()._mfg_transports(),
                ODOO_REMOTE: Transport("_mfg_send_odoo_remote", batch=True),
                ODOO_LOCAL: Transport("_mfg_send_odoo_local", batch=True)}

    # ------------------------------------------------- Odoo to Odoo transports
    def _mfg_odoo_envelopes(self, connector):
        """The envelopes as the receiving Odoo knows them: its connector's code as source."""
        if not connector.mfg_target_source:
            raise MfgBusinessError(self.env._(
                "Connector %s has no \"Known there as\" code: the receiving Odoo would not "
                "know whom the messages come from.", connector.code))
        return [dict(message.as_envelope(), source=connector.mfg_target_source)
                for message in self]

    def _mfg_ingest_outcomes(self, answer, where):
        if not isinstance(answer, dict) or "accepted" not in answer:
            raise TransportError(f"{where}: unreadable answer {str(answer)[:300]}")
        refused = {entry.get("index"): entry.get("error")
                   for entry in answer.get("rejected") or []}
        return {message.id: PeerRejected(f"{where} refused it: {refused[index]}")
                if index in refused else self.env._("Delivered to %s", where)
                for index, message in enumerate(self)}

    def _mfg_send_odoo_local(self):
        """Another plant of this database: its ingest, in this job's transaction (the
        hand-over commits or rolls back with the delivery itself)."""
        connector = self.connector_id.sudo()
        try:
            envelopes = self._mfg_odoo_envelopes(connector)
        except MfgBusinessError as exc:
            return dict.fromkeys(self.ids, exc)
        answer = self.sudo().ingest(envelopes)
        return self._mfg_ingest_outcomes(answer, connector.mfg_target_source)

    def _mfg_send_odoo_remote(self):
        """Another Odoo: its JSON-2 ingest (``/json/2/mfg.message/ingest``), one request per
        round; duplicates are the receiver's (source, key) dedup."""
        connector = self.connector_id.sudo()
        try:
            envelopes = self._mfg_odoo_envelopes(connector)
            if not connector.endpoint_url:
                raise MfgBusinessError(self.env._("Connector %s has no endpoint URL.",
                                                  connector.code))
        except MfgBusinessError as exc:
            return dict.fromkeys(self.ids, exc)
        headers = {"Content-Type": "application/json"}
        if connector.mfg_odoo_database:
            headers["X-Odoo-Database"] = connector.mfg_odoo_database
        url = connector.endpoint_url.rstrip("/") + "/json/2/mfg.message/ingest"
        try:
            response = send_with_auth(connector, "POST", url, headers=headers,
                                      json={"envelopes": envelopes})
        except TransportError as exc:
            return dict.fromkeys(self.ids, exc)
        if response.status_code in (401, 403) or 400 <= response.status_code < 500:
            return dict.fromkeys(self.ids, PeerRejected(
                f"HTTP {response.status_code}: {response.text[:300]}"))
        if response.status_code >= 300:
            return dict.fromkeys(self.ids, TransportError(
                f"HTTP {response.status_code}: {response.text[:300]}"))
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return self._mfg_ingest_outcomes(answer, connector.code)

    # ------------------------------------------------------------------ helpers
    def _mfg_stock_context(self):
        """Changes made for this message are not sent back to where it came from."""
        return {"mfg_origin_connector_id": self.connector_id.id}

    def _mfg_line_values(self, path, line, require_lot=True):
        """(product, quantity in the product's unit, lot name or None) of a v2 line at
        ``path`` ("" for the payload itself). ``require_lot``: a tracked product needs its
        lot (a stock report may give the total of a tracked product without)."""
        prefix = f"{path}." if path else ""
        code = line["material_definition_id"]["value"]
        product = self.env["product.product"].browse(
            self._mfg_mapped(f"{prefix}material_definition_id.value", code))
        if not product:
            raise MfgBusinessError(self.env._("Material %s is not mapped to a product.", code))
        uom_id = self._mfg_uom_of(path, line["quantity"])
        qty = self._mfg_qty_in_uom(line["quantity"]["value"], product.uom_id, uom_id)
        lot = line.get("lot_id")
        if require_lot and product.tracking != "none" and not lot:
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

    def _mfg_shipped_lines(self, payload):
        """[(product, quantity, lot name)] of a shipment's lines, each checked."""
        return [self._mfg_line_values("lines[]", line) for line in payload["lines"]]

    def _mfg_apply_shipment(self):
        payload = self._mfg_payload()
        Picking = self.env["stock.picking"].sudo().with_context(**self._mfg_stock_context())
        return Picking._mfg_ship(self, self._mfg_shipped_lines(payload), payload)

    def _mfg_apply_shipment_notice(self):
        payload = self._mfg_payload()
        Picking = self.env["stock.picking"].sudo().with_context(**self._mfg_stock_context())
        return Picking._mfg_expect_transfer(self, self._mfg_shipped_lines(payload), payload)

    def _mfg_apply_inventory_snapshot(self):
        """Reconcile Odoo's on-hand with the report: its differences replace the earlier
        ones of this connector and these locations."""
        payload = self._mfg_payload()
        rows = []
        locations = self.env["stock.location"]
        for line in payload["lines"]:
            product, qty, lot = self._mfg_line_values("lines[]", line, require_lot=False)
            location = self._mfg_location("lines[].storage_location", line["storage_location"])
            locations |= location
            rows.append((location, product, lot, qty))
        differences = self.env["mfg.stock.difference"]._mfg_replace(self, rows, locations)
        return differences or self.env._("No difference with Odoo's stock.")
