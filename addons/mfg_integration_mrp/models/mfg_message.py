# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json

from mfg_canonical import validate_envelope

from odoo import api, fields, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.registry import Handler
from odoo.addons.mfg_integration.states import PROCESSABLE_STATES

from ..services import shopfloor


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_apply_handlers(self):
        return {
            **super()._mfg_apply_handlers(),
            "production.order": Handler("_mfg_apply_production_order"),
            "production.confirmation": Handler("_mfg_apply_confirmation"),
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

    # -------------------------------------------------- batched partial reports
    def _process_group(self, group, lookup):
        """Runs of partial quantity confirmations of one order are applied together.

        Everything else (and any run whose batch fails) goes through the one-by-one path,
        so ordering, errors and retries stay exactly those of the core pipeline.
        """
        segments, current = [], []
        for message in group:
            if shopfloor.is_batchable_confirmation(message):
                current.append(message)
                continue
            if current:
                segments.append(("batch", current))
                current = []
            segments.append(("single", [message]))
        if current:
            segments.append(("batch", current))
        for kind, messages in segments:
            records = self.browse([m.id for m in messages])
            if kind == "batch" and len(records) > 1 and records._apply_batch(lookup):
                continue
            super()._process_group(records, lookup)
            if any(m.state in PROCESSABLE_STATES for m in records):
                break  # a message waits for its retry: later ones of the order wait too
        return group

    def _apply_batch(self, lookup):
        try:
            with self.env.cr.savepoint():
                # Same checks as the one-by-one steps, but one write per distinct mapping
                # instead of two writes per message.
                by_mapping, uoms = {}, {}
                for message in self:
                    if not message.flow_id.active:
                        raise MfgBusinessError("no active flow")
                    validate_envelope(message.as_envelope())
                    values = message._resolve_mappings(lookup)
                    uoms[message.id] = values.get("uom")
                    by_mapping.setdefault(json.dumps(values, sort_keys=True), []).append(message.id)
                production = shopfloor.apply_quantity_batch(self, uoms)
                now = fields.Datetime.now()
                for values_json, ids in by_mapping.items():
                    self.browse(ids).write({
                        "state": "done", "validated_at": now, "mapped_at": now, "done_at": now,
                        "mapped_values": json.loads(values_json), "missing_mappings": False,
                        "next_retry_at": False, "last_error": False,
                        "result_model": production._name, "result_ids": production.ids,
                        "result_summary": self.env._("%(mo)s (batch of %(n)s)",
                                                     mo=production.name, n=len(self))})
                self.flush_recordset()
                self.env.cr.execute(
                    "UPDATE mfg_message SET latency_ms = "
                    "EXTRACT(EPOCH FROM (done_at - received_at)) * 1000 WHERE id = ANY(%s)",
                    (self.ids,))
                self.invalidate_recordset(["latency_ms"])
        except Exception:  # noqa: BLE001 - any problem: the one-by-one path attributes it
            return False
        return True
