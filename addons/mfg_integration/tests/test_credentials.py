# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Credentials go only to the connector's own scheme+host+port; OAuth2 tokens are cached
per database and connector; secrets are stored encrypted with the server's key."""
import base64
from datetime import datetime
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..models.mfg_secret_mixin import MfgSecretError
from ..services import secret_box, transport
from ..services.transport import ForeignHostError
from .common import MfgTestCase, ScriptedPeer


def _redirect_to(target):
    def respond(peer, method, path, headers, body):
        if path.startswith("/api"):
            return 302, {"Location": target}, {}
        return 200, {}, {"ok": True}
    return respond


@tagged("post_install", "-at_install")
class TestCredentialsStayHome(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mes = cls.env["mfg.connector"].create({
            "name": "MES", "code": "MES-CRED", "connector_type": "generic_rest",
            "endpoint_url": "http://127.0.0.1:9/api", "auth_method": "api_key",
            "api_key": "home-key-123", "timeout_s": 5,
        })
        cls.flow_out = cls._flow("production.order", connector=cls.mes, direction="out",
                                 max_attempts=3)

    def test_redirect_to_another_host_is_refused_and_the_foreign_host_sees_nothing(self):
        with ScriptedPeer() as foreign, ScriptedPeer() as home:
            home.respond = _redirect_to(f"{foreign.base_url}/steal")
            self.mes.endpoint_url = f"{home.base_url}/api"
            foreign_host = rf"127\.0\.0\.1:{foreign.server.server_port}"
            with self.assertRaisesRegex(ForeignHostError, foreign_host):
                transport.send_with_auth(self.mes, "POST", self.mes.endpoint_url, data=b"{}")
        self.assertEqual(len(home.requests), 1)
        self.assertEqual(home.requests[0]["headers"].get("X-Api-Key"), "home-key-123")
        self.assertEqual(foreign.requests, [], "nothing at all reaches the foreign host")

    def test_redirect_on_the_same_host_is_followed_with_the_credentials(self):
        with ScriptedPeer() as home:
            home.respond = _redirect_to(f"{home.base_url}/moved")
            self.mes.endpoint_url = f"{home.base_url}/api"
            response = transport.send_with_auth(self.mes, "GET", self.mes.endpoint_url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual([r["path"] for r in home.requests], ["/api", "/moved"])
        self.assertEqual(home.requests[1]["headers"].get("X-Api-Key"), "home-key-123")

    def test_same_host_on_another_port_or_scheme_is_foreign(self):
        check = transport.check_same_origin
        check(["http://sap.example:8000/x"], "http://SAP.example:8000/y?z=1")
        check(["https://sap.example/x"], "https://sap.example:443/y")
        for url in ("http://sap.example:8001/y", "https://sap.example:8000/y",
                    "http://sap.example.evil/y", "file:///etc/passwd", "//sap.example:8000/",
                    "http://sap.example:8000@evil.example/y", "not a url"):
            with self.assertRaises(ForeignHostError, msg=url):
                check(["http://sap.example:8000/x"], url)

    def test_outbound_message_redirected_elsewhere_is_a_business_error_naming_the_host(self):
        with ScriptedPeer() as foreign, ScriptedPeer() as home:
            home.respond = _redirect_to(f"{foreign.base_url}/collect")
            self.mes.endpoint_url = f"{home.base_url}/api"
            message = self.Message.create_outbound(
                self.mes, "production.order",
                {"order_ref": "MO-1", "product": "P", "qty": 1, "uom": "EA"}, "MO-1",
                occurred_at=datetime(2026, 11, 23, 8, 0))
            self.run_jobs()
        self.assertEqual(message.state, "exception", "no retry loop towards a foreign host")
        self.assertIn(f"127.0.0.1:{foreign.server.server_port}", message.last_error)
        self.assertEqual(foreign.requests, [])

    def test_connection_test_refuses_a_redirect_to_another_host(self):
        with ScriptedPeer() as foreign, ScriptedPeer() as home:
            home.respond = _redirect_to(f"{foreign.base_url}/")
            self.mes.endpoint_url = f"{home.base_url}/api"
            self.mes.with_user(self.manager).action_test_connection()
        self.assertFalse(self.mes.last_test_ok)
        self.assertIn(str(foreign.server.server_port), self.mes.last_test_result)
        self.assertEqual(foreign.requests, [])


def _token_server():
    def respond(peer, method, path, headers, body):
        if path == "/oauth/token":
            peer.issued = getattr(peer, "issued", 0) + 1
            return 200, {}, {"access_token": f"tok-{peer.issued}-{headers['Authorization']}",
                             "expires_in": 3600}
        return 200, {}, {"seen": headers.get("Authorization")}
    return respond


@tagged("post_install", "-at_install")
class TestOAuthTokenCache(MfgTestCase):
    def _oauth_connector(self, code, server, secret):
        return self.env["mfg.connector"].create({
            "name": code, "code": code, "connector_type": "generic_rest",
            "endpoint_url": f"{server.base_url}/api", "auth_method": "oauth2_cc",
            "client_id": "shared-client", "client_secret": secret,
            "token_url": f"{server.base_url}/oauth/token"})

    def test_connectors_with_the_same_token_url_and_client_id_do_not_share_a_token(self):
        with ScriptedPeer(_token_server()) as server:
            first = self._oauth_connector("OA-1", server, "secret-one")
            second = self._oauth_connector("OA-2", server, "secret-two")
            seen_first = transport.send_with_auth(first, "GET", first.endpoint_url).json()
            seen_second = transport.send_with_auth(second, "GET", second.endpoint_url).json()
            again_first = transport.send_with_auth(first, "GET", first.endpoint_url).json()
        self.assertEqual(server.issued, 2, "one token per connector, then re-used")
        self.assertNotEqual(seen_first["seen"], seen_second["seen"])
        self.assertEqual(seen_first, again_first)
        expected = base64.b64encode(b"shared-client:secret-two").decode()
        self.assertIn(expected, seen_second["seen"], "second connector's own credentials")

    def test_changing_the_client_secret_drops_the_cached_token(self):
        with ScriptedPeer(_token_server()) as server:
            connector = self._oauth_connector("OA-3", server, "old-secret")
            transport.send_with_auth(connector, "GET", connector.endpoint_url)
            connector.client_secret = "new-secret"
            seen = transport.send_with_auth(connector, "GET", connector.endpoint_url).json()
        self.assertEqual(server.issued, 2)
        self.assertIn(base64.b64encode(b"shared-client:new-secret").decode(), seen["seen"])

    def test_token_is_cached_per_database(self):
        with ScriptedPeer(_token_server()) as server:
            connector = self._oauth_connector("OA-4", server, "s")
            key = transport._token_cache_key(connector)
        self.assertEqual(key[:2], (self.env.cr.dbname, connector.id))


@tagged("post_install", "-at_install")
class TestSecretsEncryptedAtRest(MfgTestCase):
    def _raw(self, table, column, record_id):
        self.env.flush_all()
        self.env.cr.execute(f'SELECT "{column}" FROM "{table}" WHERE id = %s', (record_id,))
        return self.env.cr.fetchone()[0]

    def _row_text(self, table, record_id):
        self.env.flush_all()
        self.env.cr.execute(f'SELECT row_to_json(t)::text FROM "{table}" t WHERE id = %s',
                            (record_id,))
        return self.env.cr.fetchone()[0]

    def test_saved_secrets_are_ciphertext_in_the_database(self):
        connector = self.env["mfg.connector"].create({
            "name": "Vault", "code": "VAULT-1", "connector_type": "generic_rest",
            "auth_method": "basic", "username": "u", "password": "pw-plain-4711",
            "api_key": "key-plain-4712", "client_secret": "cs-plain-4713",
            "hmac_secret": "hm-plain-4714"})
        self.assertEqual(connector.password, "pw-plain-4711")
        connector.write({"password": "pw-plain-4715"})
        self.assertEqual(connector.password, "pw-plain-4715", "no stale plaintext in cache")
        row = self._row_text("mfg_connector", connector.id)
        for plain in ("pw-plain-4711", "pw-plain-4715", "key-plain-4712", "cs-plain-4713",
                      "hm-plain-4714"):
            self.assertNotIn(plain, row)
        self.assertTrue(self._raw("mfg_connector", "password_enc", connector.id)
                        .startswith(secret_box.PREFIX))
        self.assertEqual(connector._mfg_secret("password"), "pw-plain-4715")
        self.assertEqual(connector.with_user(self.manager).password, "pw-plain-4715",
                         "managers see it (masked) in the form as before")

    def test_connector_still_authenticates_against_a_real_peer(self):
        self.connector.write({"auth_method": "basic", "username": "odoo",
                              "password": "pa55-w0rd"})
        with ScriptedPeer() as peer:
            self.connector.endpoint_url = f"{peer.base_url}/api"
            transport.send_with_auth(self.connector, "GET", self.connector.endpoint_url)
        self.assertEqual(peer.requests[0]["headers"]["Authorization"],
                         "Basic " + base64.b64encode(b"odoo:pa55-w0rd").decode())

    def test_non_managers_read_no_secret(self):
        for user in (self.user, self.operator):
            connector = self.connector.with_user(user)
            for name in ("api_key", "api_key_enc", "password", "hmac_secret_enc"):
                with self.assertRaises(AccessError, msg=f"{user.login} {name}"):
                    connector.read([name])
        self.assertEqual(self.connector.with_user(self.manager).read(["api_key"])[0]["api_key"],
                         "s3cret-key")

    def test_saving_a_secret_without_a_key_says_how_to_configure_one(self):
        with patch.object(secret_box, "key_setting", return_value=""), \
                self.assertRaisesRegex(UserError, "mfg_secret_key"):
            self.connector.write({"api_key": "new-key"})
        self.assertEqual(self.connector._mfg_secret("api_key"), "s3cret-key")

    def test_a_secret_from_another_key_or_tampered_is_a_clear_error(self):
        with patch.object(secret_box, "key_setting",
                          return_value="another-key-" + "x" * 40):
            with self.assertRaisesRegex(MfgSecretError, "another mfg_secret_key or altered"):
                self.connector._mfg_secret("api_key")
            self.assertFalse(self.connector.with_user(self.manager).api_key,
                             "the form still opens, so the secret can be entered again")
        stored = self._raw("mfg_connector", "api_key_enc", self.connector.id)
        tampered = stored[:-6] + ("AAAAAA" if not stored.endswith("AAAAAA") else "BBBBBB")
        self.env.cr.execute("UPDATE mfg_connector SET api_key_enc = %s WHERE id = %s",
                            (tampered, self.connector.id))
        self.connector.invalidate_recordset()
        with self.assertRaisesRegex(MfgSecretError, "altered"):
            transport.build_auth_headers(self.connector)

    def test_an_unreadable_secret_puts_the_message_in_exception_not_a_retry_loop(self):
        with ScriptedPeer() as peer:
            mes = self.env["mfg.connector"].create({
                "name": "MES", "code": "MES-TAMPER", "connector_type": "generic_rest",
                "endpoint_url": f"{peer.base_url}/api", "auth_method": "api_key",
                "api_key": "k"})
            self._flow("production.order", connector=mes, direction="out")
            self.env.cr.execute("UPDATE mfg_connector SET api_key_enc = %s WHERE id = %s",
                                (secret_box.PREFIX + "garbage", mes.id))
            mes.invalidate_recordset()
            message = self.Message.create_outbound(
                mes, "production.order", {"order_ref": "MO-1", "product": "P", "qty": 1,
                                          "uom": "EA"}, "MO-T1",
                occurred_at=datetime(2026, 11, 23, 8, 0))
            self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("cannot be decrypted", message.last_error)
        self.assertEqual(peer.requests, [])

    def test_key_rotation_new_key_first_old_key_still_decrypts(self):
        old = "old-key-" + "o" * 40
        with patch.object(secret_box, "key_setting", return_value=old):
            self.connector.write({"api_key": "rotating"})
        rotated = "new-key-" + "n" * 40 + "," + old
        with patch.object(secret_box, "key_setting", return_value=rotated):
            self.assertEqual(self.connector._mfg_secret("api_key"), "rotating")

    def test_plaintext_from_before_encryption_is_encrypted_by_the_update(self):
        self.env.flush_all()
        self.env.cr.execute("UPDATE mfg_connector SET hmac_secret_enc = 'legacy-plain-99' "
                            "WHERE id = %s", (self.connector.id,))
        self.connector.invalidate_recordset()
        self.assertEqual(self.connector._mfg_secret("hmac_secret"), "legacy-plain-99",
                         "still usable until encrypted")
        self.assertGreaterEqual(self.env["mfg.connector"]._mfg_encrypt_legacy_secrets(), 1)
        self.assertNotIn("legacy-plain-99", self._row_text("mfg_connector", self.connector.id))
        self.connector.invalidate_recordset()
        self.assertEqual(self.connector._mfg_secret("hmac_secret"), "legacy-plain-99")

    def test_key_comes_from_the_server_configuration(self):
        from odoo.tools import config
        self.assertEqual(secret_box.key_setting(), config.get("mfg_secret_key").strip())
        with patch.dict("os.environ", {"MFG_SECRET_KEY": "env-key-" + "e" * 40}), \
                patch.object(config, "get", return_value=None):
            self.assertEqual(secret_box.key_setting(), "env-key-" + "e" * 40)
        with patch.object(secret_box, "key_setting", return_value="short"), \
                self.assertRaisesRegex(UserError, "too short"):
            self.connector.write({"api_key": "x"})
