# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Hostile values over the wire: JSON-2 and legacy /jsonrpc never answer 5xx for input.

Each value of issue 8 (tests/common.py) is sent as its JSON text inside a batch of ten;
JSON-2 also gets bodies that cannot be parsed at all (400 with the reason) and a few
generated batches.
"""
import gzip
import json
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import HOSTILE_VALUES, batch_with_hostile, envelope


@tagged("post_install", "-at_install")
class TestHostileHttp(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connector = cls.env["mfg.connector"].create({
            "name": "Edge HTTP", "code": "EDGE-T1", "connector_type": "edge"})
        cls.env["mfg.flow"].create({"name": "alarms", "connector_id": cls.connector.id,
                                    "canonical_type": "machine.alarm"})
        cls.api_user = new_test_user(cls.env, "edge_hostile",
                                     groups="mfg_integration.group_mfg_ingest")
        cls.connector.ingest_user_ids = [(4, cls.api_user.id)]
        cls.api_key = cls.env["res.users.apikeys"].with_user(cls.api_user).sudo()._generate(
            scope="rpc", name="edge", expiration_date=datetime.now() + timedelta(days=1))

    def post_json2(self, raw):
        return self.url_open("/json/2/mfg.message/ingest", data=raw, headers={
            "Content-Type": "application/json", "Authorization": f"bearer {self.api_key}",
            "X-Odoo-Database": self.env.cr.dbname})

    def post_jsonrpc(self, envelopes_text):
        db = self.env.cr.dbname
        head = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw",
            "args": [db, self.api_user.id, self.api_key, "mfg.message", "ingest", [],
                     {"envelopes": "@@"}]}})
        raw = head.replace('{"envelopes": "@@"}', envelopes_text)
        return self.url_open("/jsonrpc", data=raw.encode(),
                             headers={"Content-Type": "application/json"})

    def stored_keys(self, prefix):
        return sorted(self.env["mfg.message"].search([("key", "=like", f"{prefix}-%")])
                      .mapped("key"))

    def assert_only_bad_rejected(self, hostile, answer, prefix):
        self.assertEqual((answer["accepted"], answer["duplicates"]), (9, 0), hostile.name)
        self.assertEqual([r["index"] for r in answer["rejected"]], [4], hostile.name)
        self.assertIn(hostile.reason, answer["rejected"][0]["error"], hostile.name)
        self.assertEqual(self.stored_keys(prefix),
                         sorted(f"{prefix}-{i}" for i in range(10) if i != 4), hostile.name)

    def test_json2_rejects_each_hostile_value_alone_and_stores_the_nine_others(self):
        for number, hostile in enumerate(HOSTILE_VALUES):
            with self.subTest(hostile.name):
                prefix = f"j2h{number}"
                _envelopes, body = batch_with_hostile(hostile, prefix)
                response = self.post_json2(body.encode())
                self.assertEqual(response.status_code, 200, (hostile.name, response.text[:300]))
                self.assert_only_bad_rejected(hostile, response.json(), prefix)

    def test_json2_unparseable_bodies_are_400_with_a_reason(self):
        cases = [
            (b'{"envelopes": [{"key": "caf\xe9"}]}', "not valid UTF-8"),
            (b'{"envelopes": [', "malformed JSON"),
            (b"[" * 100_000 + b"]" * 100_000, "must be a JSON object"),
            (b'{"envelopes": ' + b"[" * 5_000, "malformed JSON"),
            (b'{"envelopes": [' + b"1" * 5000 + b"]}", "malformed JSON"),
            (gzip.compress(b'{"envelopes": []}'), "could not parse the body as json"),
        ]
        for raw, reason in cases:
            with self.subTest(raw[:30]):
                response = self.post_json2(raw)
                self.assertEqual(response.status_code, 400, response.text[:300])
                self.assertIn(reason, response.json()["message"])

    def test_json2_body_over_the_upload_limit_is_413_before_it_is_read(self):
        self.env["ir.config_parameter"].sudo().set_param("web.max_file_upload_size", 1000)
        _envelopes, body = batch_with_hostile(HOSTILE_VALUES[0], "big")
        response = self.post_json2(body.encode())
        self.assertEqual(response.status_code, 413, response.text[:300])
        self.assertIn("exceeds the maximum of 1000 bytes", response.json()["message"])
        self.assertEqual(self.stored_keys("big"), [])

    def test_json2_hostile_context_is_422_with_the_reason(self):
        good = json.dumps(envelope("ctx-1"))
        cases = [
            ('{"lang": "en_US\\u0000"}', 422, "context.lang: NUL character not allowed"),
            ('{"lang": "\\ud800"}', 422, "context.lang: invalid Unicode"),
            ('{"x": ' + "[" * 5000 + "]" * 5000 + "}", 422, "nested deeper than 32 levels"),
            ("[1]", 422, "'context' must be a JSON object"),
            ('{"tz": "' + "x" * 100 + '", "lang": "zz_ZZ"}', 422, "Invalid language code"),
        ]
        for context_text, status, reason in cases:
            with self.subTest(context_text[:30]):
                body = f'{{"envelopes": [{good}], "context": {context_text}}}'
                response = self.post_json2(body.encode())
                self.assertEqual(response.status_code, status, response.text[:300])
                self.assertIn(reason, response.json()["message"])
        self.assertEqual(self.env["mfg.message"].search_count([("key", "=", "ctx-1")]), 0)

    def test_json2_batch_nested_100000_levels_rejects_per_envelope(self):
        deep = b"[" * 100_000 + b"]" * 100_000
        body = b'{"envelopes": [' + json.dumps(envelope("deep-ok")).encode() + b", " + deep + b"]}"
        response = self.post_json2(body)
        self.assertEqual(response.status_code, 200, response.text[:300])
        answer = response.json()
        self.assertEqual(answer["accepted"], 1)
        self.assertEqual([r["index"] for r in answer["rejected"]], [1])

    def test_jsonrpc_rejects_each_hostile_value_alone_and_stores_the_nine_others(self):
        for number, hostile in enumerate(HOSTILE_VALUES):
            with self.subTest(hostile.name):
                prefix = f"rpch{number}"
                _envelopes, body = batch_with_hostile(hostile, prefix)
                if "nested" in hostile.name:
                    # Odoo's JSON-RPC dispatcher parses the whole body with json.loads before
                    # any addon code runs: past the recursion limit the request fails as a
                    # whole. JSON-RPC reports it in an error object (HTTP 200), not a 5xx,
                    # and stores nothing; clients are told to use JSON-2 (README).
                    with mute_logger("odoo.http"):
                        response = self.post_jsonrpc(body)
                    self.assertEqual(response.status_code, 200)
                    self.assertIn("error", response.json())
                    self.assertEqual(self.stored_keys(prefix), [])
                    continue
                response = self.post_jsonrpc(body)
                self.assertEqual(response.status_code, 200, response.text[:300])
                self.assertIn("result", response.json(), response.text[:500])
                self.assert_only_bad_rejected(hostile, response.json()["result"], prefix)

    @settings(max_examples=8, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(hostiles=st.lists(st.sampled_from([h for h in HOSTILE_VALUES
                                              if "100,000" not in h.name]),
                             min_size=1, max_size=3),
           junk=st.binary(max_size=40))
    def test_json2_generated_bodies_never_answer_5xx(self, hostiles, junk):
        texts = []
        for number, hostile in enumerate(hostiles):
            texts.append(batch_with_hostile(hostile, f"gen{number}", size=3,
                                            bad_index=number % 3)[1][len('{"envelopes": ['):-2])
        body = ('{"envelopes": [' + ", ".join(texts) + "]}").encode()
        for raw in (body, junk, body[:len(body) // 2] + junk):
            response = self.post_json2(raw)
            self.assertLess(response.status_code, 500, (raw[:80], response.text[:300]))
