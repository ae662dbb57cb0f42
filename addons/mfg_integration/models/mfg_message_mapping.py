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
            return [(f"{path}.quantity.unit_code", "uom", True),
                    (f"{path}.quantity.unit_text", "uom", True)]
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
        }
