# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from odoo.addons.mfg_integration.registry import Handler

from ..services import shopfloor


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_apply_handlers(self):
        return {
            **super()._mfg_apply_handlers(),
            "production.order": Handler("_mfg_apply_production_order"),
            # Runs of partial quantity reports of one order are applied together: the
            # order's component quantities are recomputed once, not once per report.
            "production.confirmation": Handler("_mfg_apply_confirmation",
                                               batch_method="_mfg_apply_confirmation_batch",
                                               batchable="_mfg_confirmation_batchable"),
            "material.consumption": Handler("_mfg_apply_consumption"),
            "production.scrap": Handler("_mfg_apply_scrap"),
            "machine.downtime": Handler("_mfg_apply_downtime"),
            "quality.result": Handler("_mfg_apply_quality_result"),
            "quality.hold": Handler("_mfg_apply_quality_hold"),
        }

    # One method per type, so another addon can extend a single type with super().
    def _mfg_apply_production_order(self):
        return shopfloor.apply_production_order(self)

    def _mfg_apply_confirmation(self):
        return shopfloor.apply_confirmation(self)

    def _mfg_apply_consumption(self):
        return shopfloor.apply_consumption(self)

    def _mfg_apply_scrap(self):
        return shopfloor.apply_scrap(self)

    def _mfg_apply_downtime(self):
        return shopfloor.apply_downtime(self)

    def _mfg_apply_quality_result(self):
        return shopfloor.apply_quality_result(self)

    def _mfg_apply_quality_hold(self):
        return shopfloor.apply_quality_hold(self)

    def _mfg_confirmation_batchable(self):
        """Partial quantity reports only: starts, pauses, completions and final reports
        change the work order or close the order, one by one."""
        payload = self.payload or {}
        return payload.get("event") in (None, "quantity") and not payload.get("final")

    def _mfg_apply_confirmation_batch(self, mapped):
        return shopfloor.apply_quantity_batch(
            self, {message_id: values.get("uom") for message_id, values in mapped.items()})
