# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Machine data applied to Odoo: machine.counter -> OEE counts and equipment meters,
machine.alarm -> corrective requests by rule, production.scrap -> OEE quality too.

Which work center a machine is: the "work center" mapping of its equipment code, else the
work center whose main equipment is the mapped equipment, else the work center with that
code. Which equipment: the "equipment" mapping, else the work center's main equipment. A
machine that is neither is recorded with that said in its result (nothing counted), so the
operator sees what to map; it never blocks the other machines.
"""

from odoo import api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.registry import Handler
from odoo.addons.mfg_integration_mrp.services.shopfloor import EQUIPMENT, utc_naive

COUNTED_KINDS = ("processed", "good", "defective")


class MfgMessage(models.Model):
    _inherit = "mfg.message"

    @api.model
    def _mfg_apply_handlers(self):
        return {
            **super()._mfg_apply_handlers(),
            "machine.counter": Handler("_mfg_apply_machine_counter", version=2),
            "machine.alarm": Handler("_mfg_apply_machine_alarm", version=2),
        }

    @api.model
    def _mfg_outbound_versions(self):
        return {**super()._mfg_outbound_versions(), "machine.setpoint": 2}

    @api.model
    def _mfg_mapping_rules(self):
        rules = super()._mfg_mapping_rules()
        machine = [("equipment_id.value", "equipment", False)]
        return {
            **rules,
            ("machine.counter", 2): machine + [("product_id.value", "product", False)],
            ("machine.alarm", 2): machine,
        }

    # ------------------------------------------------------------ the machine
    def _mfg_machine(self):
        """(work center, equipment) of the payload's equipment id (either may be empty)."""
        code = self._mfg_payload()["equipment_id"]["value"]
        equipment = (
            self.env["maintenance.equipment"].sudo().browse(self._mfg_mapped("equipment_id.value"))
        )
        Workcenter = self.env["mrp.workcenter"].sudo()
        mapping = (
            self.env["mfg.mapping"]
            .sudo()
            .search(
                [
                    ("mapping_type", "=", "work_center"),
                    ("external_code", "=", code),
                    ("company_id", "=", self.company_id.id),
                    ("connector_id", "in", [self.connector_id.id, False]),
                ]
            )
        )
        workcenter = mapping.sorted(lambda m: not m.connector_id)[:1].workcenter_id
        if not workcenter and equipment:
            workcenter = Workcenter.search([("mfg_equipment_id", "=", equipment.id)], limit=1)
        if not workcenter:
            workcenter = Workcenter.search(
                [("code", "=", code), ("company_id", "in", [self.company_id.id, False])], limit=1
            )
        return workcenter, equipment or workcenter.mfg_equipment_id

    # ------------------------------------------------------------ counters
    def _mfg_apply_machine_counter(self):
        counter = self._mfg_payload()
        start, end = utc_naive(counter["window_start"]), utc_naive(counter["window_end"])
        if end < start:
            raise MfgBusinessError(
                self.env._(
                    "Counter window ends (%(end)s) before it starts (%(start)s).",
                    end=counter["window_end"],
                    start=counter["window_start"],
                )
            )
        delta, kind = counter["delta"]["value"], counter["counter_kind"]
        workcenter, equipment = self._mfg_machine()
        said = []
        if not workcenter:
            said.append(
                self.env._(
                    "%s is no known work center: not counted in OEE (map it).",
                    counter["equipment_id"]["value"],
                )
            )
        elif kind in COUNTED_KINDS and delta:
            product = self.env["product.product"].browse(self._mfg_mapped("product_id.value"))
            self.env["mfg.oee.bucket"].sudo().add(workcenter, product, start, **{kind: delta})
            said.append(
                self.env._(
                    "%(n)s %(kind)s counted for %(wc)s", n=delta, kind=kind, wc=workcenter.name
                )
            )
        requests = self.env["maintenance.request"]
        if equipment and kind == "processed" and delta:
            meters = (
                self.env["mfg.equipment.meter"].sudo().search([("equipment_id", "=", equipment.id)])
            )
            for meter in meters:
                amount = delta if meter.kind == "cycles" else (end - start).total_seconds() / 3600.0
                requests |= meter._mfg_add(amount, self)
        if requests:
            return requests
        return "; ".join(said) or self.env._("Recorded (%s counter: not an OEE count).", kind)

    # -------------------------------------------------------------- alarms
    def _mfg_apply_machine_alarm(self):
        alarm = self._mfg_payload()
        if not alarm["active"]:
            return self.env._("Alarm %s cleared.", alarm["code"])
        workcenter, equipment = self._mfg_machine()
        rule = self.env["mfg.alarm.rule"]._mfg_best_for(
            alarm["code"], alarm["severity"], workcenter, self.company_id
        )
        if not rule or not rule.create_request:
            return self.env._(
                "Alarm %(code)s (severity %(severity)s) recorded: no rule opens a request.",
                code=alarm["code"],
                severity=alarm["severity"],
            )
        if not equipment:
            raise MfgBusinessError(
                self.env._(
                    "Alarm %(code)s of %(machine)s calls for a corrective request but the machine "
                    "has no equipment: map %(machine)s to an equipment (or give its work center a "
                    "main equipment).",
                    code=alarm["code"],
                    machine=alarm["equipment_id"]["value"],
                )
            )
        trigger = f"alarm:{self.source}:{alarm['alarm_id']}"
        # One request per alarm until maintenance closes it: the alarm staying active or being
        # raised again meanwhile adds nothing; raised after the request is done, it opens another.
        Request = self.env["maintenance.request"].sudo()
        pattern = trigger.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        open_request = Request.search(
            [("mfg_trigger_ref", "=like", f"{pattern}@%"), ("stage_id.done", "=", False)], limit=1
        )
        if open_request:
            return open_request
        return Request._mfg_open_once(
            f"{trigger}@{self.occurred_at.isoformat()}",
            {
                "name": self.env._(
                    "%(code)s on %(equipment)s", code=alarm["code"], equipment=equipment.name
                ),
                "equipment_id": equipment.id,
                "maintenance_type": "corrective",
                "priority": rule.priority,
                **(
                    {"maintenance_team_id": rule.maintenance_team_id.id}
                    if rule.maintenance_team_id
                    else {}
                ),
                "company_id": equipment.company_id.id or self.company_id.id,
                "description": self.env._(
                    "Alarm %(code)s, severity %(severity)s: %(text)s (rule %(rule)s, "
                    "message %(key)s).",
                    code=alarm["code"],
                    severity=alarm["severity"],
                    text=alarm.get("message") or "-",
                    rule=rule.name,
                    key=self.key,
                ),
            },
        )

    # ------------------------------------------------- scrap counts for quality
    def _mfg_apply_scrap(self):
        replay = self._mfg_already_applied() is not None
        scraps = super()._mfg_apply_scrap()
        if replay:
            return scraps
        payload = self._mfg_payload()
        for segment in payload["segment_responses"]:
            codes = [
                actual.get("equipment_id", {}).get("value")
                for actual in segment.get("equipment_actuals") or []
            ]
            workcenters = [self._mfg_mapped(EQUIPMENT, code) for code in codes if code]
            workcenter = self.env["mrp.workcenter"].sudo().browse([w for w in workcenters if w][:1])
            quantity = sum(
                actual["quantity"]["value"] for actual in segment.get("material_actuals") or []
            )
            if workcenter and quantity:
                moment = utc_naive(segment.get("actual_end")) or self.occurred_at
                self.env["mfg.oee.bucket"].sudo().add(
                    workcenter, self.env["product.product"], moment, reported_scrap=quantity
                )
        return scraps
