# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""GET /mfg/metrics over real HTTP, as Prometheus scrapes it: token only (no session), the
exposition format parsed back with prometheus_client, figures matching the database."""

from prometheus_client.parser import text_string_to_metric_families

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.mfg_integration.tests.common import envelope

from ..controllers.metrics import TOKEN_PARAM


@tagged("post_install", "-at_install")
class TestMetricsEndpoint(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connector = cls.env["mfg.connector"].create(
            {"name": "Metrics line", "code": "EDGE-MET", "connector_type": "edge"}
        )
        cls.env["mfg.flow"].create(
            {"name": "alarms", "connector_id": cls.connector.id, "canonical_type": "machine.alarm"}
        )
        cls.env["mfg.flow"].create(
            {
                "name": "stops",
                "connector_id": cls.connector.id,
                "canonical_type": "machine.downtime",
            }
        )
        Message = cls.env["mfg.message"]
        Message.ingest(
            [envelope(f"met-{i}", source="EDGE-MET") for i in range(3)]
            + [
                envelope(
                    "met-stop",
                    source="EDGE-MET",
                    type_name="machine.downtime",
                    payload={
                        "work_center": "WC-NOWHERE",
                        "start": "2026-11-23T08:00:00+00:00",
                        "reason_code": "JAM",
                    },
                )
            ]
        )
        Message.search([("key", "=", "met-0")]).write({"state": "dead", "attempts": 5})
        done = Message.search([("key", "=", "met-1")])
        done._mark_done("ok")
        Message.search([("key", "=", "met-stop")]).write(
            {
                "state": "exception",
                "last_error": "No mapping for work_center 'WC-NOWHERE'",
                "missing_mappings": [["work_center", "WC-NOWHERE", "work_center"]],
            }
        )
        cls.connector.sudo().write(
            {"last_seen_at": "2026-12-04 08:00:00", "remote_buffer_depth": 42}
        )
        cls.manager = new_test_user(
            cls.env, "met_manager", groups="mfg_integration.group_mfg_manager"
        )
        cls.operator = new_test_user(
            cls.env, "met_operator", groups="mfg_integration.group_mfg_operator"
        )

    def scrape(self, token=None, header=None):
        headers = {"X-Odoo-Database": self.env.cr.dbname}
        if header is not None:
            headers["Authorization"] = header
        elif token:
            headers["Authorization"] = f"Bearer {token}"
        return self.url_open("/mfg/metrics", headers=headers)

    def new_token(self):
        action = (
            self.env["mfg.message.stats"].with_user(self.manager).action_generate_metrics_token()
        )
        return action["params"]["message"].split("Bearer ", 1)[1].split(" ", 1)[0]

    def test_disabled_until_a_manager_generates_a_token_kept_only_hashed(self):
        self.assertEqual(self.scrape("anything").status_code, 404)
        with self.assertRaises(AccessError):
            self.env["mfg.message.stats"].with_user(self.operator).action_generate_metrics_token()
        token = self.new_token()
        stored = self.env["ir.config_parameter"].sudo().get_param(TOKEN_PARAM)
        self.assertNotIn(token, stored)
        self.assertEqual(len(stored), 64, "its SHA-256 only")
        self.assertEqual(self.scrape(token).status_code, 200)
        replaced = self.new_token()
        self.assertEqual(self.scrape(token).status_code, 401, "a new token replaces the old one")
        self.assertEqual(self.scrape(replaced).status_code, 200)

    def test_wrong_or_missing_token_is_401_and_a_session_is_not_enough(self):
        token = self.new_token()
        self.assertEqual(self.scrape("x" + token).status_code, 401)
        self.assertEqual(self.scrape(header="Basic YWRtaW46YWRtaW4=").status_code, 401)
        self.authenticate("admin", "admin")
        response = self.url_open("/mfg/metrics", headers={"X-Odoo-Database": self.env.cr.dbname})
        self.assertEqual(response.status_code, 401, "an Odoo session is no scrape token")
        self.assertEqual(response.headers["WWW-Authenticate"], 'Bearer realm="mfg-metrics"')

    def test_figures_match_the_database_in_prometheus_format(self):
        response = self.scrape(self.new_token())
        self.assertEqual(response.status_code, 200, response.text)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        families = {family.name: family for family in text_string_to_metric_families(response.text)}

        def value(name, **labels):
            return sum(
                sample.value
                for sample in families[name].samples
                if all(sample.labels.get(k) == v for k, v in labels.items()) and sample.name == name
            )

        self.assertEqual(
            value("mfg_messages_backlog", connector="EDGE-MET", flow="alarms", state="dead"), 1
        )
        self.assertEqual(
            value("mfg_messages_backlog", connector="EDGE-MET", flow="alarms", state="received"), 1
        )
        self.assertEqual(
            value("mfg_messages_backlog", connector="EDGE-MET", flow="stops", state="exception"), 1
        )
        self.assertEqual(
            value("mfg_exceptions", cause="unmapped"),
            self.env["mfg.message"].search_count(
                [("state", "=", "exception"), ("missing_mappings", "!=", False)]
            ),
        )
        self.assertEqual(
            value("mfg_messages_received_window", connector="EDGE-MET", flow="alarms"), 3
        )
        self.assertEqual(value("mfg_messages_done_window", connector="EDGE-MET", flow="alarms"), 1)
        latency = families["mfg_message_latency_seconds"]
        count = [
            s
            for s in latency.samples
            if s.name == "mfg_message_latency_seconds_count" and s.labels["direction"] == "in"
        ]
        self.assertGreaterEqual(count[0].value, 1)
        self.assertEqual(value("mfg_edge_buffer_depth", connector="EDGE-MET"), 42)
        self.assertGreater(value("mfg_edge_last_seen_seconds", connector="EDGE-MET"), 0)
        self.assertIn("mfg_queue_jobs", families)
        self.assertGreaterEqual(value("mfg_queue_jobs", state="pending"), 1, "the ingest's jobs")
