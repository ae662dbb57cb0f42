# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import _, api, fields, models

from ..services import access


class MfgDemo(models.AbstractModel):
    """Demo data that goes through the real pipeline, so every state shows real causes."""

    _name = "mfg.demo"
    _description = "Manufacturing Integration demo data"

    @api.model
    def populate(self):
        """Load the demo messages (Integration Managers only: it ingests and processes
        as superuser)."""
        access.ensure_group(self.env, access.MANAGER, _("load the demo data"))
        now = fields.Datetime.now().replace(microsecond=0)

        def at(minutes_ago):
            return (now - timedelta(minutes=minutes_ago)).isoformat() + "+00:00"

        def env_(key, type_name, minutes_ago, payload):
            return {"key": key, "type": type_name, "schema_version": 1, "source": "EDGE-L1",
                    "plant": "PLANT-1", "occurred_at": at(minutes_ago), "payload": payload}

        alarm = {"asset": "PRESS-1", "code": "HYD-PRESSURE-LOW", "severity": "critical",
                 "active": True, "text": "Hydraulic pressure below 120 bar"}
        envelopes = [
            env_("demo-alarm-1", "machine.alarm", 50, alarm),
            env_("demo-alarm-2", "machine.alarm", 45, dict(alarm, active=False)),
            env_("demo-downtime-1", "machine.downtime", 40, {
                "work_center": "LINE1-PRESS", "start": at(40), "end": at(31),
                "duration_s": 540, "reason_code": "D-JAM", "asset": "PRESS-1"}),
            env_("demo-scrap-ok", "production.scrap", 30, {
                "product": "MAT-200", "qty": 3, "uom": "PCE", "reason_code": "S01",
                "order_ref": "WH/MO/00042"}),
            env_("demo-scrap-unmapped", "production.scrap", 25, {
                "product": "MAT-999", "qty": 1, "uom": "PCE", "reason_code": "S07",
                "order_ref": "WH/MO/00042"}),
            env_("demo-confirmation-unmapped", "production.confirmation", 20, {
                "order_ref": "WH/MO/00042", "work_center": "LINE2-WELD", "qty_good": 40,
                "qty_scrap": 1, "uom": "PCE", "final": False}),
            env_("demo-counter-1", "machine.counter", 10, {
                "asset": "PRESS-1", "counter": "cycles", "delta": 118,
                "window_start": at(11), "window_end": at(10)}),
            env_("demo-downtime-validated", "machine.downtime", 8, {
                "work_center": "LINE1-PRESS", "start": at(8), "reason_code": "D-JAM"}),
            env_("demo-downtime-mapped", "machine.downtime", 6, {
                "work_center": "LINE1-PRESS", "start": at(6), "reason_code": "D-JAM"}),
            env_("demo-alarm-cancelled", "machine.alarm", 5, dict(alarm, code="TEST-ALARM")),
        ]
        Message = self.env["mfg.message"].sudo()
        Message.ingest(envelopes)
        messages = {m.key: m for m in Message.search([("key", "like", "demo-")])}
        processable = [key for key in messages if key.split("-")[1] in ("alarm", "scrap",
                                                                         "confirmation")]
        processable.append("demo-downtime-1")
        for key in processable:
            if key != "demo-alarm-cancelled":
                messages[key]._job_process()
        messages["demo-alarm-cancelled"].write({"state": "cancelled"})
        # Snapshots of messages caught between two pipeline steps.
        messages["demo-downtime-validated"].write({"state": "validated", "validated_at": now})
        messages["demo-downtime-mapped"].write({"state": "mapped", "validated_at": now,
                                                "mapped_at": now})
        # Outbound: nothing listens on the demo MES port, so deliveries fail and retry,
        # and one that already used its attempts sits in the dead letter.
        mes = self.env.ref("mfg_integration.demo_connector_mes")
        order = {"order_ref": "WH/MO/00042", "product": "MAT-200", "qty": 500, "uom": "PCE",
                 "action": "release"}
        for index, key in enumerate(("demo-order-retrying", "demo-order-dead")):
            outbound = Message.create_outbound(mes, "production.order",
                                               dict(order, order_ref=f"WH/MO/0004{index + 2}"),
                                               key)
            outbound._job_process()
        dead = Message.search([("key", "=", "demo-order-dead")])
        if dead.state == "failed":
            dead.write({"next_retry_at": now})
            dead._job_process()
        return True
