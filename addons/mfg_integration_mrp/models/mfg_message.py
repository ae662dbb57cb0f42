# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shop-floor canonical types applied to Odoo: each handler finds the document the message
is about and calls the ``_mfg_apply_*`` method of the model it changes, which does what a
user would do in the Odoo screens (so Odoo's own rules keep applying). Problems a person
must solve raise MfgBusinessError (the message goes to `exception`, no retry).

The handlers read canonical v2 (ISA-95: ``_mfg_payload()``); v1 messages reach them
upgraded (mfg_canonical.upgrades), so both kinds of senders are applied by one code path."""
from odoo import api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.registry import Handler

from ..services.shopfloor import PRODUCED_USES


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_apply_handlers(self):
        return {
            **super()._mfg_apply_handlers(),
            "production.order": Handler("_mfg_apply_production_order", version=2),
            # Runs of partial quantity reports of one order are applied together: the
            # order's component quantities are recomputed once, not once per report.
            "production.confirmation": Handler("_mfg_apply_confirmation",
                                               batch_method="_mfg_apply_confirmation_batch",
                                               batchable="_mfg_confirmation_batchable",
                                               version=2),
            "material.consumption": Handler("_mfg_apply_consumption", version=2),
            "production.scrap": Handler("_mfg_apply_scrap", version=2),
            "machine.downtime": Handler("_mfg_apply_downtime", version=2),
            "quality.result": Handler("_mfg_apply_quality_result", version=2),
            "quality.hold": Handler("_mfg_apply_quality_hold", version=2),
            "material.master": Handler("_mfg_apply_material_master", version=2),
            "material.bom": Handler("_mfg_apply_material_bom", version=2),
            "equipment.work_center": Handler("_mfg_apply_work_center", version=2),
        }

    @api.model
    def _mfg_outbound_versions(self):
        return {**super()._mfg_outbound_versions(), "material.bom": 2}

    # ------------------------------------------------------------- helpers
    def _mfg_already_applied(self):
        """A replayed message that already produced its records has no second effect."""
        if self.result_model and self.result_ids:
            return self.env[self.result_model].browse(self.result_ids).exists()
        return None

    def _mfg_production(self, required=True):
        """The manufacturing order the payload's operations request names (sudo: the
        message is already checked against its connector's plant)."""
        order_ref = self._mfg_payload().get("operations_request_id")
        if not order_ref:
            return self.env["mrp.production"]
        production = self.env["mrp.production"].sudo()._mfg_find_order(order_ref,
                                                                        self.company_id)
        if not production and required:
            raise MfgBusinessError(self.env._(
                "Unknown production order %(ref)s in plant %(plant)s.",
                ref=order_ref, plant=self.company_id.name))
        return production

    def _mfg_apply_material_master(self):
        return self.env["product.product"]._mfg_apply_material_master(self)

    def _mfg_apply_material_bom(self):
        return self.env["mrp.bom"]._mfg_apply_bom(self)

    def _mfg_apply_work_center(self):
        return self.env["mrp.workcenter"]._mfg_apply_work_center(self)

    def _mfg_origin_context(self):
        """Changes made for this message are not published back to where it came from."""
        return {"mfg_origin_connector_id": self.connector_id.id, "mfg_no_publish": True}

    # --------------------------------------------- one method per canonical type
    def _mfg_apply_production_order(self):
        return self.env["mrp.production"]._mfg_apply_production_order(self)

    def _mfg_apply_confirmation(self):
        done = self._mfg_already_applied()
        if done is not None:
            return done
        production = self._mfg_production().with_context(**self._mfg_origin_context())
        return production._mfg_apply_confirmation(self)

    def _mfg_apply_consumption(self):
        done = self._mfg_already_applied()
        if done is not None:
            return done
        production = self._mfg_production().with_context(**self._mfg_origin_context())
        return production._mfg_apply_consumption(self)

    def _mfg_apply_scrap(self):
        done = self._mfg_already_applied()
        if done is not None:
            return done
        return self.env["stock.scrap"]._mfg_apply_scrap(self)

    def _mfg_apply_downtime(self):
        workcenter = self.env["mrp.workcenter"].sudo().browse(
            self._mfg_mapped("hierarchy_scope.equipment_id"))
        return workcenter._mfg_apply_downtime(self)

    def _mfg_hold_target(self):
        production = self._mfg_production(required=False)
        payload = self._mfg_payload()
        lot = payload.get("lot_id")
        if not production and not lot:
            raise MfgBusinessError(self.env._("Unknown production order %s.",
                                              payload.get("operations_request_id")))
        return production, lot

    def _mfg_apply_quality_result(self):
        return self.env["mfg.quality.hold"]._mfg_apply_quality_result(self)

    def _mfg_apply_quality_hold(self):
        return self.env["mfg.quality.hold"]._mfg_apply_quality_hold(self)

    # ------------------------------------------- batched quantity confirmations
    def _mfg_confirmation_batchable(self):
        """Partial quantity reports only (segments running, with material actuals, nothing
        started, final or completed): state changes go one by one."""
        response = self._mfg_payload()
        return response.get("response_state") != "Completed" and all(
            segment.get("segment_state", "Running") == "Running"
            and not segment.get("actual_start") and segment.get("material_actuals")
            and all(a["use"] in PRODUCED_USES for a in segment["material_actuals"])
            for segment in response["segment_responses"])

    def _mfg_apply_confirmation_batch(self, mapped):
        production = self[0]._mfg_production().with_context(**self[0]._mfg_origin_context())
        return production._mfg_apply_quantity_batch(self, mapped)
