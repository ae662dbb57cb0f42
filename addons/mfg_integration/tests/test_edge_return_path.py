# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The return path to edge devices: Odoo never connects to the plant, the bridge fetches
its messages (edge_fetch, with the ack of what it stored) and reports each result
(edge_report). See models/mfg_connector_edge_return.py."""
import json
from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import MfgTestCase


def order_payload(ref, qty=10.0):
    return {"order_ref": ref, "action": "release", "product": "BRK-100", "qty": qty,
            "uom": "PCE"}


@tagged("post_install", "-at_install")
class TestEdgeReturnPath(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flow_release = cls._flow("production.order", direction="out",
                                     ordering_key_field="order_ref")
        cls._flow("production.order", connector=cls.connector_b, direction="out")
        cls.Connector = cls.env["mfg.connector"]

    def release(self, ref, connector=None, qty=10.0):
        return self.Message.create_outbound(connector or self.connector, "production.order",
                                            order_payload(ref, qty), f"release-{ref}")

    def fetch(self, ack=None, limit=500, user=None, code="EDGE-T1"):
        return self.Connector.with_user(user or self.api_user).edge_fetch(code, ack=ack,
                                                                          limit=limit)

    def report(self, results, user=None):
        return self.Connector.with_user(user or self.api_user).edge_report("EDGE-T1", results)

    def test_the_queue_job_validates_and_leaves_the_message_for_the_device(self):
        message = self.release("MO/1")
        self.run_jobs()
        self.assertEqual(message.state, "mapped")
        self.assertEqual(message.result_summary, "Waiting for EDGE-T1 to fetch it")
        self.assertFalse(message.handed_over_at)

    def test_fetch_in_order_then_ack_hands_over_and_report_finishes(self):
        first, second = self.release("MO/1"), self.release("MO/2")
        answer = self.fetch()
        self.assertEqual([m["id"] for m in answer["messages"]], [first.id, second.id])
        self.assertEqual(answer["messages"][0]["envelope"]["payload"]["order_ref"], "MO/1")
        self.assertEqual(answer["messages"][0]["envelope"]["key"], "release-MO/1")
        # Not acknowledged yet (the bridge may have died before storing): fetched again.
        self.assertEqual(len(self.fetch()["messages"]), 2)
        answer = self.fetch(ack=[first.id, second.id])
        self.assertEqual(answer, {"messages": [], "handed_over": 2, "withdrawn": [], "more": False})
        self.assertTrue(first.handed_over_at and second.handed_over_at)
        # A job running now leaves handed-over messages alone.
        first._enqueue_processing(force_now=True)
        self.run_jobs()
        self.assertEqual(first.state, "mapped")
        answer = self.report([{"id": first.id, "ok": True, "detail": "written, read back"},
                              {"id": second.id, "ok": False, "detail": "PLC in manual mode"}])
        self.assertEqual(answer, {"done": 1, "exception": 1, "already": 0, "refused": []})
        self.assertEqual((first.state, first.result_summary), ("done", "written, read back"))
        self.assertEqual(second.state, "exception")
        self.assertEqual(second.last_error, "EDGE-T1 refused it: PLC in manual mode")
        # A report sent twice (the bridge died before noting the answer) changes nothing.
        again = self.report([{"id": first.id, "ok": False, "detail": "late"}])
        self.assertEqual(again["already"], 1)
        self.assertEqual(first.state, "done")

    def test_a_message_cancelled_before_the_hand_over_is_withdrawn(self):
        message = self.release("MO/1")
        fetched = [m["id"] for m in self.fetch()["messages"]]
        message.with_user(self.operator).action_cancel()
        answer = self.fetch(ack=fetched)
        self.assertEqual((answer["handed_over"], answer["withdrawn"]), (0, message.ids))
        self.assertEqual(message.state, "cancelled")

    def test_limit_and_more(self):
        messages = self.release("MO/1") | self.release("MO/2") | self.release("MO/3")
        answer = self.fetch(limit=2)
        self.assertTrue(answer["more"])
        answer = self.fetch(ack=[m["id"] for m in answer["messages"]], limit=2)
        self.assertEqual([m["id"] for m in answer["messages"]], messages[2:].ids)
        self.assertFalse(answer["more"])

    def test_requeued_after_a_refusal_the_device_gets_it_again(self):
        message = self.release("MO/1")
        self.fetch(ack=[m["id"] for m in self.fetch()["messages"]])
        self.report([{"id": message.id, "ok": False, "detail": "out of range"}])
        message.with_user(self.operator).action_requeue()
        self.assertFalse(message.handed_over_at)
        self.assertEqual([m["id"] for m in self.fetch()["messages"]], message.ids)

    def test_one_bad_message_is_not_handed_out_and_blocks_nothing(self):
        bad = self.release("MO/1")
        good = self.release("MO/2")
        bad.sudo().payload = {"order_ref": "MO/1"}      # not a production.order any more
        answer = self.fetch()
        self.assertEqual([m["id"] for m in answer["messages"]], good.ids)
        self.assertEqual(bad.state, "exception")
        self.assertIn("qty", bad.last_error)

    def test_hostile_report_items_are_refused_one_by_one(self):
        mine, theirs = self.release("MO/1"), self.release("MO/9", connector=self.connector_b)
        self.fetch(ack=[m["id"] for m in self.fetch()["messages"]])
        answer = self.report(["text", {"id": "1", "ok": True}, {"id": mine.id},
                              {"id": mine.id, "ok": True, "detail": "a\x00b"},
                              {"id": theirs.id, "ok": True}, {"id": True, "ok": True},
                              {"id": mine.id, "ok": True}])
        reasons = {entry["index"]: entry["reason"] for entry in answer["refused"]}
        self.assertEqual(sorted(reasons), [0, 1, 2, 3, 4, 5])
        self.assertEqual(reasons[0], "not an object")
        self.assertEqual(reasons[2], "ok must be true or false")
        self.assertEqual(reasons[3], "detail must be text")
        self.assertIn("not an outbound message of EDGE-T1", reasons[4])
        self.assertEqual(answer["done"], 1)
        self.assertEqual(mine.state, "done")
        self.assertEqual(theirs.state, "received", "another plant's message is untouched")
        with self.assertRaises(ValidationError):
            self.fetch(ack=["1"])
        with self.assertRaises(ValidationError):
            self.fetch(limit=10**9)
        with self.assertRaises(ValidationError):
            self.report({"id": mine.id})

    def test_only_the_bound_device_fetches_and_reports(self):
        message = self.release("MO/1")
        other_device = new_test_user(self.env, "edge_b_api",
                                     groups="mfg_integration.group_mfg_ingest")
        self.connector_b.ingest_user_ids = [(4, other_device.id)]
        for user in (other_device, self.user, self.user_b, self.operator):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.fetch(user=user)
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.report([{"id": message.id, "ok": True}], user=user)
        self.assertEqual(message.state, "received")
        self.assertFalse(message.handed_over_at)
        with self.assertRaises(UserError):
            self.fetch(code="NO-SUCH-CODE")
        rest = self.env["mfg.connector"].create({"name": "MES", "code": "MES-R",
                                                 "connector_type": "generic_rest"})
        rest.ingest_user_ids = [(4, self.api_user.id)]
        with self.assertRaisesRegex(UserError, "not fetched by its device"):
            self.fetch(code="MES-R")


@tagged("post_install", "-at_install")
class TestEdgeReturnPathHttp(HttpCase):
    """The bridge's calls over the wire: JSON-2 with its API key."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connector = cls.env["mfg.connector"].create({
            "name": "Edge HTTP", "code": "EDGE-RP", "connector_type": "edge"})
        cls.env["mfg.flow"].create({"name": "releases", "connector_id": cls.connector.id,
                                    "canonical_type": "production.order", "direction": "out"})
        cls.api_user = new_test_user(cls.env, "edge_rp", groups="mfg_integration.group_mfg_ingest")
        cls.connector.ingest_user_ids = [(4, cls.api_user.id)]
        expires = datetime.now() + timedelta(days=1)
        cls.api_key = cls.env["res.users.apikeys"].with_user(cls.api_user).sudo()._generate(
            scope="rpc", name="edge", expiration_date=expires)
        outsider = new_test_user(cls.env, "rp_outsider", groups="base.group_user")
        cls.outsider_key = cls.env["res.users.apikeys"].with_user(outsider).sudo()._generate(
            scope="rpc", name="x", expiration_date=expires)

    def call(self, method, body, key=None):
        return self.url_open(f"/json/2/mfg.connector/{method}", data=json.dumps(body), headers={
            "Content-Type": "application/json", "Authorization": f"bearer {key or self.api_key}",
            "X-Odoo-Database": self.env.cr.dbname})

    def test_fetch_ack_report_over_json2(self):
        message = self.env["mfg.message"].create_outbound(
            self.connector, "production.order", order_payload("MO/7"), "release-MO/7")
        response = self.call("edge_fetch", {"code": "EDGE-RP"})
        self.assertEqual(response.status_code, 200, response.text)
        fetched = response.json()["messages"]
        self.assertEqual([m["envelope"]["key"] for m in fetched], ["release-MO/7"])
        response = self.call("edge_fetch", {"code": "EDGE-RP", "ack": [fetched[0]["id"]]})
        self.assertEqual(response.json()["handed_over"], 1)
        response = self.call("edge_report", {"code": "EDGE-RP", "results": [
            {"id": message.id, "ok": True, "detail": "published on plant1/orders"}]})
        self.assertEqual(response.json()["done"], 1)
        self.assertEqual(message.state, "done")

    def test_wire_errors_are_4xx_with_a_reason(self):
        self.assertEqual(self.call("edge_fetch", {"code": "EDGE-RP"}, key="nope").status_code,
                         401)
        response = self.call("edge_fetch", {"code": "EDGE-RP"}, key=self.outsider_key)
        self.assertEqual(response.status_code, 403)
        response = self.call("edge_fetch", {"code": "EDGE-RP", "ack": "all"})
        self.assertEqual(response.status_code, 422, response.text)
        self.assertIn("ack must be a list", response.json()["message"])
        response = self.call("edge_report", {"code": "EDGE-RP", "results": "x"})
        self.assertEqual(response.status_code, 422)
