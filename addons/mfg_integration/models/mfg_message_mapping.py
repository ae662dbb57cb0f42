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
        """{canonical type: [(payload field, mapping type, required), ...]}.

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
        }
