# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The press of mfg_integration_mrp's test plant, with an early shift (06:00-14:00 UTC every day),
an ideal cycle of 4.8 s, its main equipment, and flows for machine counters and alarms."""

from odoo.addons.mfg_integration_mrp.tests.common import MfgMrpCase

DAY = "2026-11-23"  # a Monday


class MfgMachineCase(MfgMrpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Early shift",
                "tz": "UTC",
                "attendance_ids": [(5, 0, 0)]
                + [
                    (
                        0,
                        0,
                        {
                            "name": "Early",
                            "dayofweek": str(day),
                            "hour_from": 6,
                            "hour_to": 14,
                            "day_period": "morning",
                        },
                    )
                    for day in range(7)
                ],
            }
        )
        cls.press.write(
            {
                "resource_calendar_id": cls.calendar.id,
                "mfg_ideal_cycle_s": 4.8,
                "mfg_equipment_id": cls.equipment.id,
                "mfg_maintenance_after_min": 0,
            }
        )
        cls._flow("machine.counter", ordering_key_field="asset")
        cls.Oee = cls.env["mfg.oee"]

    def counters(self, *windows, asset="PRESS1", counter="cycle_count"):
        """Ingest counter messages: (key, delta, "HH:MM" window start, minutes long)."""
        from datetime import datetime, timedelta

        events = []
        for key, delta, at, minutes in windows:
            start = datetime.fromisoformat(f"{DAY}T{at}:00+00:00")
            events.append(
                (
                    key,
                    "machine.counter",
                    {
                        "asset": asset,
                        "counter": counter,
                        "delta": delta,
                        "window_start": start.isoformat(),
                        "window_end": (start + timedelta(minutes=minutes)).isoformat(),
                    },
                    0,
                )
            )
        return self.shop_floor(*events)

    def compute(self):
        from datetime import date

        day = date.fromisoformat(DAY)
        return self.Oee._mfg_compute(self.press, day, day)
