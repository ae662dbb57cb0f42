# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The ingest contract over the wire: JSON-2 with a bearer API key and legacy /jsonrpc."""
import json
from datetime import datetime, timedelta

from odoo.tests import HttpCase, new_test_user, tagged

from .common import envelope


@tagged("post_install", "-at_install")
class TestIngestHttp(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connector = cls.env["mfg.connector"].create({
            "name": "Edge HTTP", "code": "EDGE-T1", "connector_type": "edge"})
        cls.env["mfg.flow"].create({"name": "alarms", "connector_id": cls.connector.id,
                                    "canonical_type": "machine.alarm"})
        cls.api_user = new_test_user(cls.env, "edge_http",
                                     groups="mfg_integration.group_mfg_ingest")
        cls.connector.ingest_user_ids = [(4, cls.api_user.id)]
        cls.api_key = cls.env["res.users.apikeys"].with_user(cls.api_user).sudo()._generate(
            scope="rpc", name="edge", expiration_date=datetime.now() + timedelta(days=1))
        cls.outsider = new_test_user(cls.env, "outsider", groups="base.group_user")
        cls.outsider_key = cls.env["res.users.apikeys"].with_user(cls.outsider).sudo()._generate(
            scope="rpc", name="x", expiration_date=datetime.now() + timedelta(days=1))

    def post_json2(self, body, key=None, raw=None):
        return self.url_open(
            "/json/2/mfg.message/ingest",
            data=raw if raw is not None else json.dumps(body),
            headers={"Content-Type": "application/json",
                     "Authorization": f"bearer {key or self.api_key}",
                     "X-Odoo-Database": self.env.cr.dbname},
        )

    def test_json2_ingest_with_api_key(self):
        response = self.post_json2({"envelopes": [envelope("h1"), envelope("h1"),
                                                  envelope("h2", schema_version=9)]})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {
            "accepted": 1, "duplicates": 1,
            "rejected": [{"index": 2, "key": "h2",
                          "error": "unsupported schema_version 9 for type 'machine.alarm' "
                                   "(supported: [1, 2])"}]})
        stored = self.env["mfg.message"].search([("key", "=", "h1")])
        self.assertEqual(stored.create_uid, self.api_user)

    def test_json2_errors_are_4xx_with_reasons(self):
        self.assertEqual(self.post_json2({}, key="wrong-key").status_code, 401)
        response = self.post_json2({"envelopes": {"key": "x"}})
        self.assertEqual(response.status_code, 422)
        self.assertIn("must be a JSON array", response.json()["message"])
        response = self.post_json2(None, raw="{not json")
        self.assertEqual(response.status_code, 400)
        response = self.post_json2({"envelopes": [envelope("h3")]}, key=self.outsider_key)
        self.assertEqual(response.status_code, 403)
        self.assertIn("Ingest", response.json()["message"])
        self.env["ir.config_parameter"].sudo().set_param("mfg_integration.ingest_max_batch", 2)
        response = self.post_json2({"envelopes": [envelope(f"o{i}") for i in range(3)]})
        self.assertEqual(response.status_code, 413)
        self.assertIn("exceeds the maximum of 2", response.json()["message"])
        self.assertFalse(self.env["mfg.message"].search([("key", "in", ["h3", "o0"])]))

    def test_legacy_jsonrpc_execute_kw(self):
        def call(service, method, *args):
            response = self.url_open("/jsonrpc", data=json.dumps({
                "jsonrpc": "2.0", "method": "call", "id": 1,
                "params": {"service": service, "method": method, "args": list(args)}}),
                headers={"Content-Type": "application/json"})
            return response.json()

        db = self.env.cr.dbname
        uid = call("common", "login", db, "edge_http", self.api_key)["result"]
        self.assertEqual(uid, self.api_user.id)
        answer = call("object", "execute_kw", db, uid, self.api_key, "mfg.message", "ingest", [],
                      {"envelopes": [envelope("j1"), envelope("j1")]})
        self.assertEqual(answer["result"], {"accepted": 1, "duplicates": 1, "rejected": []})

    def test_edge_heartbeat(self):
        response = self.url_open(
            "/json/2/mfg.connector/edge_heartbeat",
            data=json.dumps({"code": "EDGE-T1", "version": "0.1.0", "buffer_depth": 12,
                             "oldest_pending": "2026-11-23T08:00:00Z", "rejected_count": 1}),
            headers={"Content-Type": "application/json",
                     "Authorization": f"bearer {self.api_key}",
                     "X-Odoo-Database": self.env.cr.dbname})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self.connector.remote_buffer_depth, 12)
        self.assertEqual(self.connector.remote_version, "0.1.0")
        self.assertTrue(self.connector.last_seen_at)
