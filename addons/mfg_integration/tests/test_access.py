# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 8, access findings: operators act only through the audited buttons, nobody crosses
a plant boundary with an id of another plant, elevated actions need their group."""
import json
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler

from odoo.exceptions import AccessError, UserError
from odoo.service.model import get_public_method
from odoo.tests import HttpCase, new_test_user, tagged

from .common import LocalHttpServer, MfgTestCase, envelope

SCRAP = {"product": "NOPE", "qty": 1, "uom": "EA", "reason_code": "R", "order_ref": "MO-9"}


class GetRecorder(LocalHttpServer):
    """A real HTTP peer that records the headers of every GET (connection tests)."""

    def __init__(self):
        self.headers = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                peer.headers.append(dict(self.headers))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._serve(Handler)


@tagged("post_install", "-at_install")
class TestAccessHardening(MfgTestCase):
    def _exception_message(self, key):
        self.Message.ingest([envelope(key, type_name="production.scrap", payload=SCRAP)])
        self.run_jobs()
        message = self.message(key)
        self.assertEqual(message.state, "exception")
        return message

    # ------------------------------------------------ finding 1: raw writes by operators
    def test_operator_cannot_rewrite_any_message_field(self):
        message = self._exception_message("w1")
        forged = {
            "payload": {"product": "OTHER", "qty": 99},
            "company_id": self.plant_b.id,
            "connector_id": self.connector_b.id,
            "flow_id": self.flow_b.id,
            "received_at": datetime(2000, 1, 1),
            "state": "cancelled",
        }
        for field, value in forged.items():
            with self.subTest(field=field), self.assertRaises(AccessError):
                message.with_user(self.operator).write({field: value})
        self.assertEqual(message.payload, SCRAP, "payload untouched")
        self.assertEqual((message.company_id, message.connector_id, message.state),
                         (self.plant, self.connector, "exception"))

    def test_message_cannot_be_moved_to_a_connector_of_another_plant(self):
        """Even a manager's raw write keeps connector, flow and plant consistent."""
        message = self._exception_message("w2")
        with self.assertRaises(UserError):
            message.write({"connector_id": self.connector_b.id})
        with self.assertRaises(UserError):
            message.write({"flow_id": self.flow_b.id})

    def test_operator_buttons_still_work_without_write_access(self):
        failed, dead, other = (self._exception_message(k) for k in ("b1", "b2", "b3"))
        failed.sudo().write({"state": "failed", "attempts": 1})
        dead.sudo().write({"state": "dead"})
        failed.with_user(self.operator).action_retry_now()
        self.assertEqual(failed.state, "failed", "retried with its attempt count")
        self.assertIn("Retry requested by", failed.message_ids[0].body)
        dead.with_user(self.operator).action_requeue()
        self.assertEqual(dead.state, "received")
        other.with_user(self.operator).action_cancel()
        self.assertEqual(other.state, "cancelled")
        self.assertIn("mfg_operator", other.message_ids[0].author_id.user_ids.login)
        wizard = self.env["mfg.message.edit"].with_user(self.operator).create({
            "message_id": dead.id, "payload_text": json.dumps(dict(SCRAP, qty=2)),
            "reason": "qty typo"})
        wizard.action_apply()
        self.assertEqual((dead.payload["qty"], dead.edited), (2, True))
        replay = self.env["mfg.flow.replay"].with_user(self.operator).create({
            "flow_id": self.flow_scrap.id, "date_from": datetime(2026, 11, 23),
            "date_to": datetime(2026, 11, 24)})
        replay.action_replay()
        self.assertEqual(other.state, "received")

    def test_operator_posts_notes_but_read_only_user_does_not(self):
        message = self._exception_message("n1")
        message.with_user(self.operator).message_post(body="Called the line lead",
                                                      message_type="comment",
                                                      subtype_xmlid="mail.mt_note")
        self.assertIn("Called the line lead", message.message_ids[0].body)
        with self.assertRaises(AccessError):
            message.with_user(self.user).message_post(body="hello", message_type="comment",
                                                      subtype_xmlid="mail.mt_note")

    def test_edit_wizard_refuses_a_message_of_another_plant(self):
        self.Message.ingest([envelope("fb1", source="EDGE-B1")])
        foreign = self.message("fb1", source="EDGE-B1")
        wizard = self.env["mfg.message.edit"].with_user(self.operator).create({
            "message_id": foreign.id, "payload_text": "{}", "reason": "take over"})
        with self.assertRaises(AccessError):
            wizard.action_apply()
        self.assertFalse(foreign.edited)

    def test_replay_wizard_refuses_a_flow_of_another_plant(self):
        wizard = self.env["mfg.flow.replay"].with_user(self.operator).create({
            "flow_id": self.flow_b.id, "date_from": datetime(2026, 1, 1),
            "date_to": datetime(2026, 12, 31)})
        with self.assertRaises(AccessError):
            wizard.action_replay()

    # ------------------------------------------------ mappings stay in their plant
    def test_operator_maintains_mappings_but_cannot_move_them_to_another_plant(self):
        Mapping = self.env["mfg.mapping"].with_user(self.operator)
        uom = self.env.ref("uom.product_uom_unit")
        mapping = Mapping.create({"mapping_type": "uom", "external_code": "EA",
                                  "uom_id": uom.id, "connector_id": self.connector.id})
        mapping.external_label = "each"  # ordinary maintenance is allowed
        with self.assertRaises(AccessError):
            mapping.write({"company_id": self.plant_b.id, "connector_id": False})
        with self.assertRaises(UserError):
            mapping.write({"connector_id": self.connector_b.id})
        with self.assertRaises(AccessError):
            Mapping.create({"mapping_type": "uom", "external_code": "EA-B", "uom_id": uom.id,
                            "company_id": self.plant_b.id})
        self.assertEqual((mapping.company_id, mapping.connector_id),
                         (self.plant, self.connector))

    def test_mapping_connector_must_belong_to_the_mapping_plant(self):
        """Even for a user allowed in both plants (check_company)."""
        with self.assertRaises(UserError):
            self.env["mfg.mapping"].create({
                "mapping_type": "uom", "external_code": "EA",
                "uom_id": self.env.ref("uom.product_uom_unit").id,
                "company_id": self.plant.id, "connector_id": self.connector_b.id})

    # ------------------------------------------------ finding 2: foreign ids
    def test_manager_ingests_only_for_connectors_of_his_plants(self):
        Message = self.Message.with_user(self.manager)
        self.assertEqual(Message.ingest([envelope("m-a")])["accepted"], 1)
        with self.assertRaisesRegex(AccessError, "EDGE-B1"):
            Message.ingest([envelope("m-b1", source="EDGE-B1"), envelope("m-a2")])
        self.assertFalse(self.message("m-b1", source="EDGE-B1"))
        self.assertFalse(self.message("m-a2"), "a refused call stores nothing")
        with self.assertRaises(AccessError):
            self.env["mfg.connector"].with_user(self.manager).edge_heartbeat("EDGE-B1")

    def test_manager_cannot_move_records_to_a_plant_he_is_not_in(self):
        with self.assertRaises(AccessError):
            self.connector.with_user(self.manager).write({"company_id": self.plant_b.id})
        self.assertEqual(self.connector.company_id, self.plant)
        with self.assertRaises(AccessError):
            self.flow_scrap.with_user(self.manager).write({"connector_id": self.connector_b.id})
        self.assertEqual(self.flow_scrap.company_id, self.plant)
        with self.assertRaises(AccessError):
            self.env["mfg.flow"].with_user(self.manager).create({
                "name": "into B", "connector_id": self.connector_b.id,
                "canonical_type": "machine.counter"})
        message = self._exception_message("mv1")
        with self.assertRaises(AccessError):
            message.with_user(self.manager).write({"company_id": self.plant_b.id,
                                                   "connector_id": self.connector_b.id,
                                                   "flow_id": False})
        self.assertEqual(message.company_id, self.plant)

    def test_operator_buttons_refuse_messages_of_another_plant(self):
        self.Message.ingest([envelope("fb2", source="EDGE-B1")])
        foreign = self.message("fb2", source="EDGE-B1")
        foreign.write({"state": "dead"})
        for action in ("action_requeue", "action_cancel", "action_retry_now"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(foreign.with_user(self.operator), action)()
        self.assertEqual(foreign.state, "dead")

    def test_manager_cannot_test_the_connection_of_another_plant(self):
        with GetRecorder() as peer:
            self.connector_b.write({"connector_type": "generic_rest", "auth_method": "api_key",
                                    "api_key": "plant-b-key", "endpoint_url": peer.base_url})
            with self.assertRaises(AccessError):
                self.connector_b.with_user(self.manager).action_test_connection()
            self.assertEqual(peer.headers, [], "plant B's endpoint was not called with its key")
            self.connector.write({"connector_type": "generic_rest",
                                  "endpoint_url": peer.base_url})
            self.connector.with_user(self.manager).action_test_connection()
            self.assertEqual(len(peer.headers), 1, "his own plant's connector is tested")

    # ------------------------------------------------ finding 3: elevated actions
    def test_read_only_user_cannot_run_a_flow_now(self):
        self.Message.ingest([envelope("run-1")])
        with self.assertRaises(AccessError):
            self.flow_alarm.with_user(self.user).action_run_now()
        with self.assertRaises(AccessError):
            self.flow_b.with_user(self.operator).action_run_now()
        self.flow_alarm.with_user(self.operator).action_run_now()

    def test_read_only_user_cannot_requeue_through_mappings(self):
        mapping = self.env["mfg.mapping"].create({
            "mapping_type": "uom", "external_code": "EA",
            "uom_id": self.env.ref("uom.product_uom_unit").id})
        with self.assertRaises(AccessError):
            mapping.with_user(self.user).action_reprocess_waiting()

    def test_demo_populate_refused_for_a_plain_user(self):
        plain = new_test_user(self.env, "plain_employee", groups="base.group_user")
        for user in (plain, self.user, self.operator):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["mfg.demo"].with_user(user).populate()
        self.assertFalse(self.Message.search([("key", "like", "demo-")]))

    def test_internal_helpers_are_not_callable_over_rpc(self):
        for model, name in (("mfg.message", "create_outbound"), ("mfg.message", "as_envelope"),
                            ("mfg.flow", "retry_delay"), ("mfg.flow", "ordering_key_of")):
            with self.subTest(method=name), self.assertRaises(AccessError):
                get_public_method(self.env[model], name)

    # ------------------------------------------------ API (ingest-only) users
    def test_api_user_can_only_submit(self):
        self.Message.with_user(self.api_user).ingest([envelope("api-x")])
        stored = self.message("api-x")
        for model, _operation in (("mfg.message", "read"), ("mfg.mapping", "read"),
                                 ("mfg.connector", "read"), ("mfg.flow", "read")):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.api_user).search([])
        with self.assertRaises(AccessError):
            stored.with_user(self.api_user).write({"payload": {}})
        with self.assertRaises(AccessError):
            stored.with_user(self.api_user).action_requeue()
        with self.assertRaises(AccessError):
            self.env["mfg.mapping"].with_user(self.api_user).create({
                "mapping_type": "uom", "external_code": "X",
                "uom_id": self.env.ref("uom.product_uom_unit").id})


# Every stored field of a message: the envelope, the state machine and the links.
FORGED_MESSAGE_VALUES = {
    "key": "forged-key", "source": "EDGE-B1", "canonical_type": "machine.counter",
    "schema_version": 2, "plant_code": "B", "occurred_at": datetime(2000, 1, 1),
    "correlation_id": "forged", "payload": {"product": "OTHER", "qty": 99},
    "original_payload": {"forged": True}, "edited": True, "direction": "out",
    "ordering_key": "MO-FORGED", "state": "cancelled", "attempts": 0,
    "next_retry_at": datetime(2000, 1, 1), "last_error": False, "last_traceback": False,
    "missing_mappings": False, "mapped_values": {"x": 1},
    "received_at": datetime(2000, 1, 1), "validated_at": datetime(2000, 1, 1),
    "mapped_at": datetime(2000, 1, 1), "done_at": datetime(2000, 1, 1),
    "failed_at": datetime(2000, 1, 1), "dead_at": datetime(2000, 1, 1), "latency_ms": 1.0,
    "job_id": False, "result_model": "res.partner", "result_ids": [1],
    "result_summary": "forged", "name": "forged",
}


@tagged("post_install", "-at_install")
class TestManagerActsThroughActions(MfgTestCase):
    """Managers too change messages only through the audited buttons and wizards: the
    processing code (superuser) and those actions are the only writers."""

    def _exception_message(self, key):
        self.Message.ingest([envelope(key, type_name="production.scrap", payload=SCRAP)])
        self.run_jobs()
        message = self.message(key)
        self.assertEqual(message.state, "exception")
        return message

    def test_manager_cannot_raw_write_any_message_field(self):
        message = self._exception_message("mw1")
        before = message.read(list(FORGED_MESSAGE_VALUES))[0]
        values = dict(FORGED_MESSAGE_VALUES, company_id=self.plant.id,
                      connector_id=self.connector.id, flow_id=self.flow_alarm.id)
        for field, value in values.items():
            with self.subTest(field=field), self.assertRaises(AccessError):
                message.with_user(self.manager).write({field: value})
        self.assertEqual(message.read(list(FORGED_MESSAGE_VALUES))[0], before)
        self.assertEqual((message.company_id, message.connector_id, message.flow_id),
                         (self.plant, self.connector, self.flow_scrap))

    def test_manager_cannot_create_or_delete_messages_raw(self):
        message = self._exception_message("mw2")
        message.sudo().write({"state": "cancelled", "received_at": datetime(2000, 1, 1)})
        with self.assertRaises(AccessError):
            message.with_user(self.manager).unlink()
        self.assertTrue(message.exists(), "only the retention purge deletes messages")
        with self.assertRaises(AccessError):
            self.Message.with_user(self.manager).create({
                "key": "forged", "source": "EDGE-T1", "canonical_type": "machine.alarm",
                "occurred_at": datetime(2026, 1, 1), "payload": {},
                "connector_id": self.connector.id, "company_id": self.plant.id})

    def test_manager_buttons_and_wizards_still_work(self):
        failed, dead, other, waiting = (self._exception_message(k)
                                         for k in ("mb1", "mb2", "mb3", "mb4"))
        failed.sudo().write({"state": "failed", "attempts": 1})
        dead.sudo().write({"state": "dead"})
        failed.with_user(self.manager).action_retry_now()
        self.assertIn("Retry requested by", failed.message_ids[0].body)
        dead.with_user(self.manager).action_requeue()
        self.assertEqual(dead.state, "received")
        other.with_user(self.manager).action_cancel()
        self.assertEqual(other.state, "cancelled")
        self.assertIn("mfg_manager", other.message_ids[0].author_id.user_ids.login)
        other.with_user(self.manager).message_post(body="Checked with the line",
                                                   message_type="comment",
                                                   subtype_xmlid="mail.mt_note")
        self.assertIn("Checked with the line", other.message_ids[0].body)
        wizard = self.env["mfg.message.edit"].with_user(self.manager).create({
            "message_id": dead.id, "payload_text": json.dumps(dict(SCRAP, qty=2)),
            "reason": "qty typo"})
        wizard.action_apply()
        self.assertEqual((dead.payload["qty"], dead.edited, dead.original_payload),
                         (2, True, SCRAP))
        self.assertIn("qty typo", dead.message_ids[0].body)
        replay = self.env["mfg.flow.replay"].with_user(self.manager).create({
            "flow_id": self.flow_scrap.id, "date_from": datetime(2026, 11, 23),
            "date_to": datetime(2026, 11, 24)})
        replay.action_replay()
        self.assertEqual(other.state, "received")
        # The processing of what the manager requeued runs and writes the state machine.
        self.run_jobs()
        self.assertEqual(waiting.state, "exception")
        self.assertTrue(waiting.missing_mappings)
        self.assertIn(["product", "NOPE"], [entry[:2] for entry in waiting.missing_mappings])
        mapping = self.env["mfg.mapping"].with_user(self.manager).create({
            "mapping_type": "product", "external_code": "NOPE",
            "product_id": self.env["product.product"].create({"name": "Nope"}).id})
        mapping.action_reprocess_waiting()
        self.assertEqual(waiting.state, "received")
        self.flow_scrap.with_user(self.manager).action_run_now()
        self.run_jobs()
        self.assertNotIn(["product", "NOPE"],
                         [entry[:2] for entry in waiting.missing_mappings or []],
                         "processed again by the job the manager's button queued")


@tagged("post_install", "-at_install")
class TestManagerRawWritesOverJson2(MfgTestCase, HttpCase):
    """The same over the wire: JSON-2 with a manager's API key."""

    def _call(self, method, body, key):
        return self.url_open(
            f"/json/2/mfg.message/{method}", data=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": f"bearer {key}",
                     "X-Odoo-Database": self.env.cr.dbname})

    def test_manager_raw_write_refused_but_buttons_work_over_json2(self):
        key = self.env["res.users.apikeys"].with_user(self.manager).sudo()._generate(
            scope="rpc", name="mgr", expiration_date=datetime.now() + timedelta(days=1))
        self.Message.ingest([envelope("j1", type_name="production.scrap", payload=SCRAP)])
        self.run_jobs()
        message = self.message("j1")
        self.assertEqual(message.state, "exception")
        for vals in ({"payload": {"qty": 99}}, {"state": "done"},
                     {"company_id": self.plant.id}, {"received_at": "2000-01-01 00:00:00"}):
            with self.subTest(vals=vals):
                response = self._call("write", {"ids": message.ids, "vals": vals}, key)
                self.assertEqual(response.status_code, 403, response.text)
        response = self._call("unlink", {"ids": message.ids}, key)
        self.assertEqual(response.status_code, 403, response.text)
        message.invalidate_recordset()
        self.assertEqual((message.payload, message.state), (SCRAP, "exception"))
        response = self._call("action_cancel", {"ids": message.ids}, key)
        self.assertEqual(response.status_code, 200, response.text)
        message.invalidate_recordset()
        self.assertEqual(message.state, "cancelled")
