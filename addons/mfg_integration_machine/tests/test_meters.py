# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Equipment meters fed by counter messages; one preventive request per threshold."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import MfgMachineCase


@tagged("post_install", "-at_install")
class TestMeters(MfgMachineCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Meter = cls.env["mfg.equipment.meter"]
        cls.cycles = Meter.create(
            {
                "equipment_id": cls.equipment.id,
                "kind": "cycles",
                "rule_ids": [(0, 0, {"name": "Lubricate the ram", "interval": 1000})],
            }
        )
        cls.hours = Meter.create(
            {
                "equipment_id": cls.equipment.id,
                "kind": "run_hours",
                "rule_ids": [(0, 0, {"name": "Inspect the clutch", "interval": 1})],
            }
        )

    def preventive(self, what="Lubricate"):
        return self.env["maintenance.request"].search(
            [
                ("equipment_id", "=", self.equipment.id),
                ("maintenance_type", "=", "preventive"),
                ("name", "like", what),
            ],
            order="id",
        )

    def test_thresholds_open_one_request_each(self):
        self.counters(("a", 600, "06:00", 20), ("b", 600, "06:20", 20))
        self.assertEqual(self.cycles.value, 1200)
        self.assertEqual(
            self.preventive().mapped("name"), ["Lubricate the ram at 1000 cycles (Press P-100)"]
        )
        self.counters(("c", 300, "06:40", 20))
        self.assertEqual(len(self.preventive()), 1, "1,500: no new threshold")
        # Sent again (same key): a duplicate at ingest, counted once.
        self.Message.ingest([{**self.message("c").as_envelope()}])
        self.run_jobs()
        self.assertEqual(self.cycles.value, 1500)
        self.counters(("d", 2600, "07:00", 20))  # 4,100: three thresholds at once -> one request
        self.assertEqual(
            self.preventive().mapped("name")[-1], "Lubricate the ram at 4000 cycles (Press P-100)"
        )
        self.assertEqual(self.cycles.rule_ids.last_count, 4)
        # Run hours: four windows of 20 minutes with parts made.
        self.assertAlmostEqual(self.hours.value, 80 / 60)
        self.assertEqual(
            self.preventive("Inspect").mapped("name"),
            ["Inspect the clutch at 1 run hours (Press P-100)"],
            "80 min of run time: one threshold of 1 h",
        )
        self.assertEqual(self.message("d").result_model, "maintenance.request")

    def test_nobody_writes_a_meter_value_by_hand(self):
        maintenance_manager = new_test_user(
            self.env, "maint_mgr", groups="maintenance.group_equipment_manager,base.group_user"
        )
        for user in (maintenance_manager, self.manager, self.api_user, self.user):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.cycles.with_user(user).write({"value": 999999})
        with self.assertRaises(AccessError):
            self.env["mfg.equipment.meter"].with_user(maintenance_manager).create(
                {"equipment_id": self.equipment.id, "kind": "cycles", "value": 5}
            )
        self.cycles.with_user(maintenance_manager).rule_ids.interval = 2000  # configuring is fine
        self.assertEqual(self.cycles.value, 0)
