# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields
from odoo.tests import tagged

from .common import RestTestCase


@tagged("post_install", "-at_install")
class TestPull(RestTestCase):
    def setUp(self):
        super().setUp()
        for alarm_id, minute in ((1, 1), (2, 2), (3, 3), (4, 4), (5, 5)):
            self.server.add_alarm(alarm_id, minute, level="LOW" if alarm_id == 3 else "HIGH")

    def alarms(self):
        return self.Message.search([("source", "=", "MES-REST"),
                                    ("canonical_type", "=", "machine.alarm")], order="key")

    def test_scheduled_pull_walks_the_pages_and_processes_the_alarms(self):
        self.env["mfg.flow"]._cron_run_scheduled_flows()
        gets = self.server.api_requests("GET")
        self.assertEqual([r["query"].get("page") for r in gets], ["1", "2", "3"])
        self.assertTrue(all(r["query"]["per_page"] == "2" for r in gets))
        self.assertEqual(self.pull.pull_checkpoint, "2026-11-23T08:05:00Z")
        self.assertTrue(self.pull.last_pull_ok)
        self.run_jobs()
        messages = self.alarms()
        self.assertEqual(messages.mapped("key"), [f"{i}:2026-11-23T08:0{i}:00Z"
                                                  for i in range(1, 6)])
        self.assertEqual(set(messages.mapped("state")), {"done"})
        third = messages[2]
        self.assertEqual(third.payload, {"asset": "PRESS-1", "code": "E3", "severity": "info",
                                         "active": True})
        self.assertEqual(fields.Datetime.to_string(third.occurred_at), "2026-11-23 08:03:00")

    def test_next_pull_sends_the_checkpoint_and_gets_only_new_items(self):
        self.pull._pull()
        self.server.requests.clear()
        self.server.add_alarm(6, 6)
        ok, text = self.pull._pull()
        self.assertTrue(ok, text)
        gets = self.server.api_requests("GET")
        self.assertEqual(gets[0]["query"]["updated_since"], "2026-11-23T08:05:00Z")
        self.assertEqual(len(gets), 1)
        self.assertIn("1 new", text)
        self.assertEqual(len(self.alarms()), 6)
        self.assertEqual(self.pull.pull_checkpoint, "2026-11-23T08:06:00Z")

    def test_pulling_everything_again_stores_nothing_twice(self):
        self.pull._pull()
        self.pull.pull_checkpoint = False
        ok, text = self.pull._pull()
        self.assertTrue(ok, text)
        self.assertIn("0 new, 5 duplicate(s)", text)
        self.assertEqual(len(self.alarms()), 5)

    def test_cursor_and_next_link_pagination(self):
        self.pull.write({"pagination": "cursor", "since_param": False})
        ok, text = self.pull._pull()
        self.assertTrue(ok, text)
        self.assertEqual([r["query"].get("cursor") for r in self.server.api_requests("GET")],
                         [None, "2", "4"])
        self.assertEqual(len(self.alarms()), 5)
        self.server.requests.clear()
        self.pull.write({"pagination": "next_link", "pull_checkpoint": False,
                         "key_template": "link-{{ item.id }}"})
        ok, text = self.pull._pull()
        self.assertTrue(ok, text)
        self.assertEqual(len(self.server.api_requests("GET")), 3)
        self.assertEqual(len(self.alarms()), 10)

    def test_failure_on_a_later_page_keeps_the_checkpoint_and_what_was_pulled(self):
        self.server.script = [(200, {}, {"data": [self.server.alarms[0], self.server.alarms[1]]}),
                              (503, {}, {"error": "db down"})]
        ok, text = self.pull._pull()
        self.assertFalse(ok)
        self.assertIn("HTTP 503", text)
        self.assertIn("2 new message(s) kept", text)
        self.assertFalse(self.pull.pull_checkpoint, "checkpoint unchanged")
        self.assertFalse(self.pull.last_pull_ok)
        ok, text = self.pull._pull()
        self.assertTrue(ok, text)
        self.assertIn("3 new, 2 duplicate(s)", text)

    def test_malformed_page_is_reported_and_stores_nothing(self):
        self.server.script = [(200, {}, b"<html>login</html>")]
        ok, text = self.pull._pull()
        self.assertFalse(ok)
        self.assertIn("not JSON", text)
        self.assertIn("<html>login", self.pull.last_pull_result)
        self.assertFalse(self.alarms())

    def test_429_on_a_pull_postpones_the_flow_by_retry_after(self):
        self.server.script = [(429, {"Retry-After": "600"}, {"error": "slow down"})]
        self.env["mfg.flow"]._cron_run_scheduled_flows()
        self.assertFalse(self.pull.last_pull_ok)
        wait = (self.flow_in.next_run_at - fields.Datetime.now()).total_seconds()
        self.assertGreater(wait, 590, "the next run waits for Retry-After, not 15 minutes")

    def test_an_unmappable_item_is_reported_and_holds_the_checkpoint(self):
        self.server.alarms[2]["level"] = "WEIRD"
        ok, text = self.pull._pull()
        self.assertFalse(ok)
        self.assertIn("item 2: 'WEIRD' is not in the value table", text)
        self.assertEqual(len(self.alarms()), 4, "the good items are stored")
        self.assertFalse(self.pull.pull_checkpoint, "the bad item comes back next time")

    def test_auth_failure_on_pull(self):
        self.mes.client_secret = "wrong"
        ok, text = self.pull._pull()
        self.assertFalse(ok)
        self.assertIn("OAuth2 token request refused: HTTP 401", text)
