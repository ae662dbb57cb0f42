# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Critical messages never wait behind a backlog: applied within the ingest call (issue 11 §4),
in order with their ordering key, and with the usual error handling."""

from odoo.tests import tagged

from .common import MfgTestCase, envelope


def alarm(key, severity="critical", active=True, asset="PRESS-1", minute=0):
    return envelope(
        key,
        occurred_at=f"2026-11-23T08:{minute:02d}:00+00:00",
        payload={"asset": asset, "code": "OVERHEAT", "severity": severity, "active": active},
    )


@tagged("post_install", "-at_install")
class TestPriorityLane(MfgTestCase):
    def test_a_critical_alarm_is_done_when_ingest_returns_while_the_backlog_waits(self):
        backlog = [alarm(f"bg{i}", severity="warning", asset=f"M{i}", minute=1) for i in range(50)]
        result = self.Message.ingest(
            backlog + [alarm("hot", minute=2), alarm("info", "info", minute=2)]
        )
        self.assertEqual(result["accepted"], 52)
        self.assertEqual(self.message("hot").state, "done", "applied in the ingest call")
        self.assertEqual(self.message("info").state, "received")
        self.assertEqual(
            set(self.Message.search([("key", "like", "bg%")]).mapped("state")), {"received"}
        )
        self.assertEqual(self.message("hot").schema_version, 1)
        # A cleared alarm is no emergency, even when it was critical.
        self.Message.ingest([alarm("cleared", active=False, minute=3)])
        self.assertEqual(self.message("cleared").state, "received")

    def test_order_before_speed_within_an_ordering_key(self):
        self.flow_alarm.ordering_key_field = "asset"
        self.Message.ingest([alarm("first", "warning", minute=1)])
        self.Message.ingest(
            [alarm("second", minute=2), alarm("other-machine", asset="PRESS-2", minute=2)]
        )
        self.assertEqual(
            self.message("second").state, "received", "an earlier message of PRESS-1 is pending"
        )
        self.assertEqual(self.message("other-machine").state, "done")
        self.run_jobs()
        self.assertEqual(
            (self.message("first") | self.message("second")).mapped("state"), ["done", "done"]
        )

    def test_the_lane_can_be_switched_off_per_flow_and_errors_go_the_usual_way(self):
        self.flow_alarm.apply_critical_at_ingest = False
        self.Message.ingest([alarm("queued")])
        self.assertEqual(self.message("queued").state, "received")
        self._flow("machine.downtime")
        stop = {
            "work_center": "WC-UNMAPPED",
            "start": "2026-11-23T08:00:00+00:00",
            "reason_code": "JAM",
            "critical": True,
        }
        result = self.Message.ingest([envelope("stop", type_name="machine.downtime", payload=stop)])
        self.assertEqual(result["accepted"], 1, "ingest answers as usual")
        message = self.message("stop")
        self.assertEqual(message.state, "exception", "the mapping is missing: said at once")
        self.assertIn("WC-UNMAPPED", message.last_error)
