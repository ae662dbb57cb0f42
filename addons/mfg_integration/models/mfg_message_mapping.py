# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mapping rules of the canonical types: which payload fields are external codes.

A third file of ``mfg.message``. ``_mfg_mapping_rules()`` is the registry: an addon
declares the rules of the types it brings (or adds fields to existing ones) by extending
it with ``super()``; the core resolves a message's codes with the rules of its type
(services/mapping_spec.py). The core declares the shop-floor types of mfg_canonical
because its missing-mapping workflow serves them whichever addon applies them; a type
whose only consumer is one addon is declared there (``demand.forecast``: planning).
"""
from odoo import api, models


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_mapping_rules(self):
        """{canonical type: [(payload field, mapping type, required), ...]}, and
        {(canonical type, version): [...]} for the rules of one payload version (v2).

        Overrides return a new dict (``{**super()._mfg_mapping_rules(), ...}``) and, to
        add fields to a type declared before, a new list: never mutate what super() gave.
        """
        return {
            "production.order": [("product", "product", True), ("uom", "uom", True)],
            "production.confirmation": [
                ("work_center", "work_center", True),
                ("uom", "uom", True),
                ("scrap_reason", "scrap_reason", False),
            ],
            "material.consumption": [
                ("product", "product", True),
                ("uom", "uom", True),
                ("location", "location", False),
            ],
            "production.scrap": [
                ("product", "product", True),
                ("uom", "uom", True),
                ("reason_code", "scrap_reason", True),
                ("work_center", "work_center", False),
                ("location", "location", False),
            ],
            "machine.downtime": [
                ("work_center", "work_center", True),
                ("reason_code", "downtime_reason", True),
                ("asset", "equipment", False),
            ],
            "machine.counter": [("asset", "equipment", False)],
            "machine.alarm": [("asset", "equipment", False)],
            "machine.measurement": [("asset", "equipment", False)],
            "quality.result": [("reason_code", "quality_reason", False)],
            "goods.receipt": [("product", "product", True), ("uom", "uom", True),
                              ("location", "location", False)],
            "inventory.move": [("product", "product", True), ("uom", "uom", True),
                               ("location_from", "location", True),
                               ("location_to", "location", True)],
            "maintenance.request": [("equipment", "equipment", True)],
            **self._mfg_mapping_rules_v2(),
        }

    @api.model
    def _mfg_mapping_rules_v2(self):
        """Rules of the v2 payloads, keyed (type, 2): paths into ISA-95 structures. A
        quantity's unit is a UN/ECE Rec 20 code (Odoo's own unit unless mapped) or the
        sender's own text (mapped)."""
        def units(path):
            prefix = f"{path}." if path else ""
            return [(f"{prefix}quantity.unit_code", "uom", True),
                    (f"{prefix}quantity.unit_text", "uom", True)]
        actuals = "segment_responses[].material_actuals[]"
        return {
            ("production.order", 2): [
                ("material_requirements[use=Produced].material_definition_id.value",
                 "product", True), *units("material_requirements[use=Produced]")],
            ("production.confirmation", 2): [
                ("segment_responses[].equipment_actuals[].equipment_id.value", "work_center",
                 True), *units(actuals), (f"{actuals}.reason_code", "scrap_reason", False),
                (f"{actuals}.material_definition_id.value", "product", True),
                (f"{actuals}.storage_location", "location", False)],
            ("material.consumption", 2): [
                (f"{actuals}.material_definition_id.value", "product", True), *units(actuals),
                (f"{actuals}.storage_location", "location", False)],
            ("production.scrap", 2): [
                (f"{actuals}.material_definition_id.value", "product", True), *units(actuals),
                (f"{actuals}.reason_code", "scrap_reason", True),
                ("segment_responses[].equipment_actuals[].equipment_id.value", "work_center",
                 False), (f"{actuals}.storage_location", "location", False)],
            ("machine.downtime", 2): [
                ("hierarchy_scope.equipment_id", "work_center", True),
                ("reason_code", "downtime_reason", True),
                ("equipment_id.value", "equipment", False)],
            ("quality.result", 2): [("test_results[].reason_code", "quality_reason", False)],
            ("inventory.move", 2): [
                ("material_definition_id.value", "product", True), *units(""),
                ("from_location.value", "location", True),
                ("to_location.value", "location", True)],
            ("goods.receipt", 2): [
                ("material_definition_id.value", "product", True), *units(""),
                ("to_location.value", "location", False),
                ("supplier_id.value", "partner", False)],
            ("material.master", 2): [("base_unit.unit_code", "uom", True),
                                     ("base_unit.unit_text", "uom", True)],
            ("material.bom", 2): [
                ("material_definition_id.value", "product", True), *units(""),
                ("components[].material_definition_id.value", "product", True),
                *units("components[]"),
                ("operations[].work_center_id.value", "work_center", True)],
            ("inventory.snapshot", 2): [
                ("lines[].material_definition_id.value", "product", True), *units("lines[]"),
                ("lines[].storage_location.value", "location", True)],
            ("shipment.notice", 2): [
                ("lines[].material_definition_id.value", "product", True),
                *units("lines[]")],
            ("shipment.confirmation", 2): [
                ("lines[].material_definition_id.value", "product", True), *units("lines[]"),
                ("lines[].from_location.value", "location", False),
                ("partner_id.value", "partner", False)],
        }

    def _mfg_mapped(self, path, code=None, mapped=None):
        """The Odoo value mapped for ``path`` (mapping rules of the type); for a path
        through a list, the one of ``code``. ``mapped``: values not written yet (batch)."""
        value = (mapped if mapped is not None else self.mapped_values or {}).get(path)
        if isinstance(value, dict):
            return value.get(str(code)) if code is not None else None
        return value

    def _mfg_uom_of(self, path, quantity, mapped=None):
        """The Odoo unit id of a v2 quantity found at ``path`` (its Rec 20 code or the
        sender's unit text, as mapped); ``path`` "" for the payload's own quantity."""
        prefix = f"{path}." if path else ""
        if quantity.get("unit_code"):
            return self._mfg_mapped(f"{prefix}quantity.unit_code", quantity["unit_code"],
                                    mapped)
        return self._mfg_mapped(f"{prefix}quantity.unit_text", quantity.get("unit_text"),
                                mapped)

    def _mfg_qty_in_uom(self, qty, to_uom, uom_id=None):
        """``qty`` in unit ``uom_id`` converted to ``to_uom``."""
        if not uom_id or uom_id == to_uom.id:
            return qty
        return self.env["uom.uom"].browse(uom_id)._compute_quantity(qty, to_uom)
