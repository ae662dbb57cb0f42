# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Critical alarms open one corrective request per alarm, by rule and code."""

from odoo.tests import tagged

from .common import MfgMachineCase


@tagged("post_install", "-at_install")
class TestAlarms(MfgMachineCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rule = cls.env["mfg.alarm.rule"]
        cls.overheat = Rule.create({"name": "Overheat", "code": "OVERHEAT", "min_severity": 801})
        cls.anything = Rule.create({"name": "Anything critical", "code": "*", "min_severity": 950})

    def alarm(self, key, code, severity="critical", active=True, minute=0, asset="PRESS1"):
        return (
            key,
            "machine.alarm",
            {"asset": asset, "code": code, "severity": severity, "active": active},
            minute,
        )

    def corrective(self):
        return self.env["maintenance.request"].search(
            [("maintenance_type", "=", "corrective"), ("mfg_trigger_ref", "!=", False)], order="id"
        )

    def test_one_request_per_alarm_until_maintenance_closes_it(self):
        self.shop_floor(
            self.alarm("a1", "OVERHEAT", minute=1),
            self.alarm("a2", "OVERHEAT", minute=2),
            self.alarm("a3", "OVERHEAT", active=False, minute=3),
            self.alarm("a4", "OVERHEAT", minute=4),
        )
        request = self.corrective()
        self.assertEqual(
            len(request), 1, "raised, re-sent, cleared and raised again: one open request"
        )
        self.assertEqual((request.equipment_id, request.priority), (self.equipment, "3"))
        self.assertIn("severity 900", request.description)
        self.assertEqual(self.message("a3").result_summary, "Alarm OVERHEAT cleared.")
        request.stage_id = self.env["maintenance.stage"].search([("done", "=", True)], limit=1)
        self.shop_floor(self.alarm("a5", "OVERHEAT", minute=30))
        self.assertEqual(len(self.corrective()), 2, "raised after the repair: a new request")

    def test_rules_by_code_and_severity(self):
        self.shop_floor(
            self.alarm("w", "OVERHEAT", severity="warning", minute=1),  # 500 < 801
            self.alarm("g", "GUARD_OPEN", severity="critical", minute=2),
        )  # * needs 950
        self.assertFalse(self.corrective())
        self.assertIn("no rule opens a request", self.message("g").result_summary)

    def test_alarm_of_a_machine_without_equipment_waits_with_the_reason(self):
        self.shop_floor(
            self.alarm("x", "OVERHEAT", asset="LATHE-7", minute=1),
            self.alarm("y", "OVERHEAT", minute=2),
        )
        self.assertEqual(self.message("x").state, "exception")
        self.assertIn("map LATHE-7 to an equipment", self.message("x").last_error)
        self.assertEqual(len(self.corrective()), 1, "the next alarm was handled")

