# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""POST /mfg/in/<code> over real HTTP: every answer of docs/inbound-endpoint.md."""
import json
import time

from odoo.tests import HttpCase, new_test_user, tagged

from .common import envelope, expected_signature

KEY = "in-key-5b1d0c7e"
HMAC_SECRET = "in-hmac-9f8e7d"


def alarm(key, **values):
    return envelope(key, source="MES-IN", **values)


@tagged("post_install", "-at_install")
class TestInboundEndpoint(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Connector = cls.env["mfg.connector"]
        cls.connector = Connector.create({
            "name": "MES push", "code": "MES-IN", "connector_type": "webhook_in",
            "inbound_api_key": KEY, "hmac_secret": HMAC_SECRET})
        cls.signed = Connector.create({
            "name": "MES signed", "code": "MES-SIG", "connector_type": "generic_rest",
            "inbound_auth": "hmac", "hmac_secret": HMAC_SECRET})
        cls.archived = Connector.create({
            "name": "Old MES", "code": "MES-OLD", "connector_type": "webhook_in",
            "inbound_api_key": KEY, "active": False})
        cls.sap = Connector.create({
            "name": "SAP", "code": "SAP-1", "connector_type": "sap_odata", "api_key": KEY,
            "inbound_api_key": KEY})
        for connector in (cls.connector, cls.signed):
            cls.env["mfg.flow"].create({"name": f"alarms {connector.code}",
                                        "connector_id": connector.id,
                                        "canonical_type": "machine.alarm"})
        cls.api_user = new_test_user(cls.env, "mes_push",
                                     groups="mfg_integration.group_mfg_ingest")
        cls.connector.ingest_user_ids = [(4, cls.api_user.id)]

    def post(self, code="MES-IN", body=None, raw=None, key=KEY, headers=None):
        data = raw if raw is not None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json",
                       "X-Odoo-Database": self.env.cr.dbname}
        if key:
            all_headers["Authorization"] = f"Bearer {key}"
        all_headers.update(headers or {})
        return self.url_open(f"/mfg/in/{code}", data=data, headers=all_headers, method="POST")

    def stored(self, *keys):
        return self.env["mfg.message"].search([("key", "in", list(keys))])

    def signature_headers(self, body, timestamp=None, secret=HMAC_SECRET):
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        return {"X-Mfg-Timestamp": timestamp,
                "X-Mfg-Signature": expected_signature(secret, timestamp, body)}

    # ------------------------------------------------------------------ 202
    def test_single_envelope_is_accepted_and_stored_as_the_bound_user(self):
        single = alarm("i1")
        del single["source"]  # filled in with the connector code
        response = self.post(body=single)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json(), {"accepted": 1, "duplicates": 0, "rejected": []})
        message = self.stored("i1")
        self.assertEqual((message.source, message.connector_id), ("MES-IN", self.connector))
        self.assertEqual(message.create_uid, self.api_user)

    def test_batch_reports_duplicates_and_rejects_foreign_sources(self):
        response = self.post(body={"envelopes": [
            alarm("i2"), alarm("i2"), envelope("i3", source="EDGE-OTHER"),
            alarm("i4", schema_version=9)]}, key=None, headers={"X-Api-Key": KEY})
        self.assertEqual(response.status_code, 202, response.text)
        answer = response.json()
        self.assertEqual((answer["accepted"], answer["duplicates"]), (1, 1))
        self.assertEqual([(r["index"], r["key"]) for r in answer["rejected"]],
                         [(2, "i3"), (3, "i4")])
        self.assertIn("does not match connector 'MES-IN'", answer["rejected"][0]["error"])
        self.assertIn("schema_version", answer["rejected"][1]["error"])
        self.assertEqual(self.stored("i2", "i3", "i4").mapped("key"), ["i2"])

    # ------------------------------------------------------------------ 400
    def test_malformed_bodies_are_400(self):
        for raw in (b"{not json", b"\xff\xfe", b"", b"[1, 2]", b'{"envelopes": {"key": 1}}',
                    b'{"envelopes": []}'):
            response = self.post(raw=raw)
            self.assertEqual(response.status_code, 400, (raw, response.text))
            self.assertTrue(response.json()["error"])

    def test_schema_errors_are_400_with_reasons_and_nothing_stored(self):
        bad_payload = alarm("i5", payload={"asset": "PRESS-1"})
        response = self.post(body={"envelopes": [bad_payload, alarm("i6", type="no.such")]})
        self.assertEqual(response.status_code, 400, response.text)
        answer = response.json()
        self.assertEqual((answer["accepted"], answer["duplicates"]), (0, 0))
        self.assertEqual([r["index"] for r in answer["rejected"]], [0, 1])
        self.assertIn("payload", answer["rejected"][0]["error"])
        self.assertIn("unknown type", answer["rejected"][1]["error"])
        self.assertFalse(self.stored("i5", "i6"))

    # ------------------------------------------------------------------ 401/403
    def test_missing_wrong_or_unknown_credentials_are_401(self):
        missing = self.post(body=alarm("i7"), key=None)
        self.assertEqual(missing.status_code, 401)
        self.assertIn("missing API key", missing.json()["error"])
        wrong = self.post(body=alarm("i7"), key="guess")
        self.assertEqual(wrong.status_code, 401)
        unknown = self.post(code="NO-SUCH", body=alarm("i7"), key="guess")
        self.assertEqual((unknown.status_code, unknown.json()), (401, wrong.json()),
                         "an unknown code looks exactly like a wrong key")
        self.assertFalse(self.stored("i7"))

    def test_hmac_signature_and_replay_window(self):
        body = json.dumps(envelope("i8", source="MES-SIG")).encode()
        good = self.post("MES-SIG", raw=body, key=None, headers=self.signature_headers(body))
        self.assertEqual(good.status_code, 202, good.text)
        other = json.dumps(envelope("i9", source="MES-SIG")).encode()
        tampered = self.post("MES-SIG", raw=other, key=None,
                             headers=self.signature_headers(body))
        self.assertEqual(tampered.status_code, 401)
        self.assertIn("invalid signature", tampered.json()["error"])
        stale = self.post("MES-SIG", raw=other, key=None,
                          headers=self.signature_headers(other, int(time.time()) - 600))
        self.assertEqual(stale.status_code, 401)
        self.assertIn("300 s", stale.json()["error"])
        unsigned = self.post("MES-SIG", raw=other, key=None)
        self.assertEqual(unsigned.status_code, 401)
        self.assertEqual(self.stored("i8", "i9").mapped("key"), ["i8"])

    def test_optional_signature_on_api_key_connector_must_be_valid(self):
        body = json.dumps(alarm("i10")).encode()
        bad = self.post(raw=body, headers=self.signature_headers(body, secret="nope"))
        self.assertEqual(bad.status_code, 401)
        good = self.post(raw=body, headers=self.signature_headers(body))
        self.assertEqual(good.status_code, 202, good.text)

    def test_push_types_are_declared_by_the_addons_that_add_the_connector_types(self):
        push_types = self.env["mfg.connector"]._mfg_push_types()
        self.assertLessEqual({"webhook_in", "generic_rest", "edge"}, push_types)
        self.assertNotIn("sap_odata", push_types)
        self.assertTrue(self.connector._inbound_accepts_pushes())
        self.assertFalse(self.sap._inbound_accepts_pushes())

    def test_archived_or_non_inbound_connector_is_403(self):
        response = self.post("MES-OLD", body=alarm("i11"))
        self.assertEqual(response.status_code, 403, response.text)
        response = self.post("SAP-1", body=envelope("i11", source="SAP-1"))
        self.assertEqual(response.status_code, 403, response.text)
        self.assertFalse(self.stored("i11"))

    # ------------------------------------------------------------------ 413/429
    def test_too_large_is_413_and_nothing_stored(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("mfg_integration_webhook.inbound_max_bytes", 300)
        body = {"envelopes": [alarm("i12"), alarm("i13")]}
        response = self.post(body=body)
        self.assertEqual(response.status_code, 413, response.text)
        params.set_param("mfg_integration_webhook.inbound_max_bytes", 100000)
        params.set_param("mfg_integration_webhook.inbound_max_envelopes", 1)
        response = self.post(body=body)
        self.assertEqual(response.status_code, 413, response.text)
        self.assertIn("maximum of 1", response.json()["error"])
        self.assertFalse(self.stored("i12", "i13"))

    def test_rate_limit_is_429_with_retry_after(self):
        if time.time() % 60 > 55:  # stay inside one fixed window
            time.sleep(61 - time.time() % 60)
        self.connector.rate_limit_per_min = 3
        first = self.post(body={"envelopes": [alarm("i14"), alarm("i15")]})
        self.assertEqual(first.status_code, 202, first.text)
        limited = self.post(body={"envelopes": [alarm("i16"), alarm("i17")]})
        self.assertEqual(limited.status_code, 429, limited.text)
        self.assertTrue(1 <= int(limited.headers["Retry-After"]) <= 60)
        self.assertEqual(sorted(self.stored("i14", "i15", "i16", "i17").mapped("key")),
                         ["i14", "i15"], "nothing of the refused request is stored")
        last = self.post(body=alarm("i18"))
        self.assertEqual(last.status_code, 202, "the rest of the budget is still usable")

    # ------------------------------------------------------------------ idempotency
    def test_idempotency_key_replays_the_stored_answer(self):
        body = {"envelopes": [alarm("i19"), alarm("i20")]}
        headers = {"Idempotency-Key": "batch-0001"}
        first = self.post(body=body, headers=headers)
        second = self.post(body=body, headers=headers)
        self.assertEqual(first.status_code, 202, first.text)
        self.assertEqual((second.status_code, second.json()), (202, first.json()))
        self.assertEqual(first.json()["accepted"], 2, "a re-ingest would say 2 duplicates")
        self.assertEqual(second.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(len(self.stored("i19", "i20")), 2)
        reused = self.post(body={"envelopes": [alarm("i21")]}, headers=headers)
        self.assertEqual(reused.status_code, 422)
        self.assertFalse(self.stored("i21"))
