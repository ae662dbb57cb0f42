# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""/mfg/in/<code> under hostile input (issue 8): per-envelope rejects, bounded body reads,
rate limit before parsing, inbound keys only, key rotation with an expiry."""
import contextlib
import json
import select
import socket
import time
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME

from odoo.addons.mfg_integration.tests.common import HOSTILE_VALUES, batch_with_hostile

from .common import envelope

KEY = "in-key-hardening-1"


@tagged("post_install", "-at_install")
class TestInboundHardening(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connector = cls.env["mfg.connector"].create({
            "name": "MES push", "code": "MES-H", "connector_type": "webhook_in",
            "inbound_api_key": KEY, "api_key": "outbound-only-key"})
        cls.env["mfg.flow"].create({"name": "alarms", "connector_id": cls.connector.id,
                                    "canonical_type": "machine.alarm"})
        cls.manager = new_test_user(cls.env, "mes_h_manager",
                                    groups="mfg_integration.group_mfg_manager")
        cls.operator = new_test_user(cls.env, "mes_h_operator",
                                     groups="mfg_integration.group_mfg_operator")

    def post(self, raw, key=KEY, code="MES-H"):
        headers = {"Content-Type": "application/json", "X-Odoo-Database": self.env.cr.dbname}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return self.url_open(f"/mfg/in/{code}", data=raw, headers=headers, method="POST")

    def stored_keys(self, prefix):
        return sorted(self.env["mfg.message"].search([("key", "=like", f"{prefix}-%")])
                      .mapped("key"))

    # ------------------------------------------------------------------ hostile values
    def test_each_hostile_value_is_rejected_alone_and_the_nine_others_are_stored(self):
        for number, hostile in enumerate(HOSTILE_VALUES):
            with self.subTest(hostile.name):
                prefix = f"inh{number}"
                _envelopes, body = batch_with_hostile(hostile, prefix, source="MES-H")
                response = self.post(body.encode())
                self.assertEqual(response.status_code, 202, (hostile.name, response.text[:300]))
                answer = response.json()
                self.assertEqual((answer["accepted"], answer["duplicates"]), (9, 0))
                self.assertEqual([r["index"] for r in answer["rejected"]], [4])
                self.assertIn(hostile.reason, answer["rejected"][0]["error"])
                self.assertEqual(self.stored_keys(prefix),
                                 sorted(f"{prefix}-{i}" for i in range(10) if i != 4))

    def test_foreign_source_reject_echoes_a_hostile_key_safely(self):
        good = json.dumps(envelope("ok-echo", source="MES-H"))
        hostile = json.dumps(envelope("@@", source="ELSEWHERE")).replace('"@@"', '"\\udc00x"')
        raw = f'{{"envelopes": [{good}, {hostile}]}}'
        response = self.post(raw.encode())
        self.assertEqual(response.status_code, 202, response.text[:300])
        self.assertEqual(response.json()["rejected"][0]["key"], "\\udc00x")
        self.assertEqual(self.stored_keys("ok"), ["ok-echo"])

    def test_connector_code_with_a_nul_or_bad_utf8_is_401_like_an_unknown_code(self):
        for code in ("MES%00-H", "MES%FF-H", "%ED%A0%80"):
            with self.subTest(code):
                response = self.post(json.dumps(envelope("code-1")).encode(), code=code)
                self.assertEqual(response.status_code, 401, response.text[:300])
                self.assertEqual(response.json()["error"], "invalid API key")

    def test_idempotency_key_with_a_nul_is_400(self):
        body = json.dumps(envelope("idem-nul", source="MES-H")).encode()
        with self.raw_connection("Idempotency-Key: a\x00b", f"Content-Length: {len(body)}",
                                 "Connection: close") as sock:
            sock.sendall(body)
            answer = b""
            while data := sock.recv(65536):
                answer += data
        self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer[:300])
        self.assertIn(b"Idempotency-Key must be printable ASCII", answer)
        self.assertFalse(self.stored_keys("idem"))

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(body=st.one_of(
        st.binary(max_size=200),
        st.sampled_from(HOSTILE_VALUES[:-1]).map(
            lambda hostile: batch_with_hostile(hostile, "fz", size=3, bad_index=1,
                                               source="MES-H")[1].encode())),
        headers=st.dictionaries(
            st.sampled_from(["Idempotency-Key", "X-Mfg-Timestamp", "X-Mfg-Signature",
                             "X-Api-Key", "Content-Type"]),
            # \x85 and \xa0 are whitespace: requests refuses a header value starting with
            # one before anything is sent, which says nothing about the server.
            st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF,
                                  exclude_characters="\x85\xa0"), max_size=40),
            max_size=3))
    def test_generated_bodies_and_headers_never_answer_5xx(self, body, headers):
        response = self.url_open("/mfg/in/MES-H", data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Odoo-Database": self.env.cr.dbname,
            "Authorization": f"Bearer {KEY}", **headers})
        self.assertLess(response.status_code, 500, (body[:80], headers, response.text[:300]))

    def test_deep_or_undecodable_bodies_are_400_with_a_reason(self):
        cases = [
            (b"[" * 100_000 + b"]" * 100_000, "must be one envelope object"),
            (b'{"envelopes": ' + b"[" * 100_000, "malformed JSON"),
            (b'{"key": "caf\xe9"}', "not valid UTF-8"),
        ]
        for raw, reason in cases:
            with self.subTest(raw[:20]):
                response = self.post(raw)
                self.assertEqual(response.status_code, 400, response.text[:300])
                self.assertIn(reason, response.json()["error"])
        alone = json.dumps(envelope("deep-alone", source="MES-H", payload={
            "asset": "P", "code": "E", "severity": "info", "active": True, "deep": "@@"}))
        raw = alone.replace('"@@"', '{"n": ' * 5000 + "1" + "}" * 5000).encode()
        response = self.post(raw)
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertIn("nested deeper than 32 levels", response.json()["rejected"][0]["error"])

    # ------------------------------------------------------------------ body size
    def test_chunked_oversize_body_is_refused_before_it_is_read_whole(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "mfg_integration_webhook.inbound_max_bytes", 256 * 1024)
        total_chunks, chunk = 3200, b"x" * 65536  # 200 MiB offered, cap 256 KiB
        # A raw socket: requests would send the whole body before reading any answer.
        with self.raw_connection("Transfer-Encoding: chunked") as sock:
            sent, answer = self.send_chunked(sock, total_chunks, chunk)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:200])
        # The answer came while the client was still sending: what it managed to send is the
        # cap plus the kernel's socket buffers (47 chunks here), far from the 200 MiB offered.
        self.assertLess(sent, total_chunks // 4, f"the answer came only after {sent} chunks "
                                                 "of 64 KiB, for a body capped at 256 KiB")
        self.assertFalse(self.stored_keys("chunked"))

    @contextlib.contextmanager
    def raw_connection(self, *header_lines):
        """A socket to the test server with the request line and headers of a push sent."""
        self.env.flush_all()
        with self.allow_requests():
            cookie = self.opener.cookies[TEST_CURSOR_COOKIE_NAME]
            sock = socket.create_connection(("127.0.0.1", self.http_port()), timeout=10)
            self.addCleanup(sock.close)
            head = [
                "POST /mfg/in/MES-H HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
                f"Authorization: Bearer {KEY}", f"X-Odoo-Database: {self.env.cr.dbname}",
                f"Cookie: {TEST_CURSOR_COOKIE_NAME}={cookie}", *header_lines]
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            yield sock

    def send_chunked(self, sock, total_chunks, chunk):
        """Send a chunked body, stopping as soon as the server answers; return (chunks
        sent, the start of the answer)."""
        sock.settimeout(0.5)
        sent = 0
        while sent < total_chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered while we were still sending
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except TimeoutError:
                continue  # the server stopped reading: its answer is on the way
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
        sock.settimeout(10)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return sent, answer

    # ------------------------------------------------------------------ rate limit
    def wait_for_fresh_minute_window(self):
        if time.time() % 60 > 50:
            time.sleep(61 - time.time() % 60)

    def test_rate_limit_answers_429_before_parsing_the_body(self):
        self.wait_for_fresh_minute_window()
        self.connector.rate_limit_per_min = 2
        body = {"envelopes": [envelope("rl-1", source="MES-H"), envelope("rl-2", source="MES-H")]}
        self.assertEqual(self.post(json.dumps(body).encode()).status_code, 202)
        response = self.post(b"{not json at all")
        self.assertEqual(response.status_code, 429, response.text)
        self.assertIn("rate limit of 2", response.json()["error"])

    def test_unparseable_bodies_spend_the_budget_too(self):
        self.wait_for_fresh_minute_window()
        self.connector.rate_limit_per_min = 1
        self.assertEqual(self.post(b"{junk").status_code, 400)
        response = self.post(json.dumps(envelope("rl-3", source="MES-H")).encode())
        self.assertEqual(response.status_code, 429, response.text)
        self.assertFalse(self.stored_keys("rl"))

    # ------------------------------------------------------------------ keys
    def test_inbound_key_never_falls_back_to_the_outbound_api_key(self):
        response = self.post(json.dumps(envelope("out-1", source="MES-H")).encode(),
                             key="outbound-only-key")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"], "invalid API key")
        self.connector.inbound_api_key = False
        response = self.post(json.dumps(envelope("out-2", source="MES-H")).encode(),
                             key="outbound-only-key")
        self.assertEqual(response.status_code, 401, "no inbound key: pushes are refused")
        self.assertFalse(self.stored_keys("out"))

    def rotate(self, grace_days=7, user=None):
        wizard = self.env["mfg.inbound.key.rotate"].with_user(user or self.manager).create(
            {"connector_id": self.connector.id, "grace_days": grace_days})
        wizard.action_rotate()
        return wizard.new_key

    def test_rotation_keeps_both_keys_valid_until_the_old_one_expires(self):
        new_key = self.rotate(grace_days=7)
        self.assertTrue(new_key and new_key != KEY)
        self.assertEqual(self.connector.inbound_api_key, new_key)
        expires = self.connector.inbound_api_key_previous_expires_at
        self.assertAlmostEqual(expires, fields.Datetime.now() + timedelta(days=7),
                               delta=timedelta(minutes=5))
        for index, key in enumerate((new_key, KEY)):
            response = self.post(json.dumps(envelope(f"rot-{index}", source="MES-H")).encode(),
                                 key=key)
            self.assertEqual(response.status_code, 202, response.text)
        # Both keys live only as ciphertext in the database (the wizard stores none).
        self.env.flush_all()
        self.env.cr.execute("SELECT inbound_api_key_enc, inbound_api_key_previous_enc "
                            "FROM mfg_connector WHERE id = %s", [self.connector.id])
        stored = " ".join(self.env.cr.fetchone())
        self.assertNotIn(new_key, stored)
        self.assertNotIn(KEY, stored)
        self.assertFalse(self.env["mfg.inbound.key.rotate"]._fields["new_key"].store)
        note = self.connector.message_ids[0]
        self.assertIn("Inbound API key rotated by", note.body)
        self.assertNotIn(new_key, note.body)
        self.assertNotIn(KEY, note.body)
        # Time passes: the previous key has expired.
        self.connector.inbound_api_key_previous_expires_at = \
            fields.Datetime.now() - timedelta(seconds=1)
        old = self.post(json.dumps(envelope("rot-2", source="MES-H")).encode(), key=KEY)
        self.assertEqual(old.status_code, 401)
        self.assertIn("API key expired", old.json()["error"])
        new = self.post(json.dumps(envelope("rot-3", source="MES-H")).encode(), key=new_key)
        self.assertEqual(new.status_code, 202, new.text)
        self.assertEqual(self.stored_keys("rot"), ["rot-0", "rot-1", "rot-3"])

    def test_rotation_with_zero_grace_stops_the_old_key_at_once(self):
        new_key = self.rotate(grace_days=0)
        old = self.post(json.dumps(envelope("zero-1", source="MES-H")).encode(), key=KEY)
        self.assertEqual(old.status_code, 401)
        new = self.post(json.dumps(envelope("zero-2", source="MES-H")).encode(), key=new_key)
        self.assertEqual(new.status_code, 202)

    def test_rotation_wizard_form_shows_the_expiry_and_then_the_new_key(self):
        action = self.connector.with_user(self.manager).action_rotate_inbound_key()
        self.assertEqual(action["res_model"], "mfg.inbound.key.rotate")
        Wizard = self.env[action["res_model"]].with_user(self.manager).with_context(
            **action["context"])
        with Form(Wizard) as form:
            form.grace_days = 3
            self.assertAlmostEqual(form.previous_expires_at,
                                   fields.Datetime.now() + timedelta(days=3),
                                   delta=timedelta(minutes=5))
        wizard = form.record
        shown = wizard.action_rotate()
        self.assertEqual((shown["res_model"], shown["res_id"]), (wizard._name, wizard.id))
        self.assertEqual(wizard.state, "done")
        self.assertEqual(wizard.new_key, self.connector.inbound_api_key)
        self.assertEqual(self.connector.inbound_api_key_previous, KEY)
        with self.assertRaises(UserError):
            wizard.action_rotate()

    def test_first_key_set_by_rotation_leaves_no_previous_key(self):
        self.connector.inbound_api_key = False
        new_key = self.rotate()
        self.assertEqual(self.connector.inbound_api_key, new_key)
        self.assertFalse(self.connector.inbound_api_key_previous)
        self.assertFalse(self.connector.inbound_api_key_previous_expires_at)
        self.assertIn("Inbound API key set by", self.connector.message_ids[0].body)

    def test_only_managers_rotate_or_read_inbound_keys(self):
        with self.assertRaises(AccessError):
            self.rotate(user=self.operator)
        with self.assertRaises(AccessError):
            self.connector.with_user(self.operator).action_rotate_inbound_key()
        with self.assertRaises(AccessError):
            self.connector.with_user(self.operator).read(["inbound_api_key_previous"])
        self.assertEqual(self.connector.inbound_api_key, KEY)
