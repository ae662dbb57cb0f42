# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Messages in known states, with known reception times and latencies, on top of the
core fixtures (plants A and B, connectors, flows, users of every role)."""
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.addons.mfg_integration.tests.common import MfgTestCase, envelope

NOW = datetime(2026, 11, 23, 12, 0, 0)
CONFIRMATION = {"order_ref": "WH/MO/404", "work_center": "WC-1", "qty_good": 5, "qty_scrap": 0,
                "uom": "EA", "final": False}
SCRAP = {"product": "MAT-7", "qty": 2, "uom": "EA", "reason_code": "BURR", "order_ref": "MO-7"}
DOWNTIME = {"work_center": "WC-1", "start": "2026-11-23T11:00:00+00:00", "reason_code": "JAM"}
PAYLOADS = {"production.confirmation": CONFIRMATION, "production.scrap": SCRAP,
            "machine.downtime": DOWNTIME}


class MonitoringTestCase(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flow_confirmation = cls._flow("production.confirmation",
                                          ordering_key_field="order_ref")
        cls.flow_quiet = cls._flow("machine.downtime")
        cls.Stats = cls.env["mfg.message.stats"]

    def setUp(self):
        super().setUp()
        freezer = freeze_time(NOW)
        self.clock = freezer.start()  # self.clock.tick(timedelta) lets time pass
        self.addCleanup(freezer.stop)

    def put(self, key, state, age_min, latency_ms=None, attempts=0, type_name="machine.alarm",
            source="EDGE-T1", last_error=None, missing=None):
        """Store a message through ingest, then set its processing outcome directly."""
        result = self.Message.ingest([envelope(key, type_name=type_name, source=source,
                                               payload=PAYLOADS.get(type_name))])
        self.assertEqual(result["accepted"], 1, result)
        message = self.message(key, source)
        received = NOW - timedelta(minutes=age_min)
        values = {"state": state, "received_at": received, "attempts": attempts,
                  "last_error": last_error, "missing_mappings": missing}
        if state == "done":
            values.update(done_at=received + timedelta(milliseconds=latency_ms),
                          latency_ms=latency_ms)
        message.write(values)
        return message

    def put_plant_a_traffic(self):
        """The scenario whose figures the tests compute by hand (see test_dashboard_data)."""
        for age, latency in ((50, 100), (45, 200), (30, 300), (20, 400), (5, 1000)):
            self.put(f"done-{age}", "done", age, latency_ms=latency)
        self.put("done-old", "done", 90, latency_ms=5000)     # before the 1 h period
        self.put("failed-1", "failed", 25, attempts=2)
        self.put("dead-1", "dead", 35, attempts=5)
        self.put("dead-old", "dead", 180, attempts=5)         # backlog, not period
        self.put("pending-1", "received", 40)
        self.put("pending-2", "validated", 10)
        self.put("scrap-unmapped", "exception", 5, type_name="production.scrap",
                 last_error="No mapping for product 'MAT-7' (payload.product)",
                 missing=[["product", "MAT-7", "product"]])
        self.put("scrap-refused", "exception", 5, type_name="production.scrap",
                 last_error="Scrap quantity exceeds the quantity of the order")
        self.put("conf-unknown", "exception", 5, type_name="production.confirmation",
                 last_error="Unknown manufacturing order WH/MO/404")
        self.put("conf-refused", "exception", 5, type_name="production.confirmation",
                 last_error="Confirmation refused: order WH/MO/404 is already done")
        # No flow for machine.counter: ingest stores it in exception right away.
        self.Message.ingest([envelope("counter-1", type_name="machine.counter", payload={
            "asset": "PRESS-1", "counter": "good", "delta": 3,
            "window_start": "2026-11-23T11:00:00+00:00",
            "window_end": "2026-11-23T11:01:00+00:00"})])
        self.assertEqual(self.message("counter-1").state, "exception")
