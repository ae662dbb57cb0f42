# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, timedelta
from unittest.mock import patch

from lxml import etree

from odoo import fields
from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from ..models.mfg_message_processing import _lock_id
from .common import MfgTestCase, Receiver, envelope

# BOX-7: no UN/ECE Rec 20 unit, so it needs a mapping whichever payload version is read.
SCRAP = {"product": "MAT-7", "qty": 2, "uom": "BOX-7", "reason_code": "BURR",
         "order_ref": "MO-7"}


def mapped_ids(mapped_values):
    """Every Odoo id in mapped values, whether the handler reads v1 (field: id) or v2
    (path: {code: id})."""
    ids = set()
    for value in (mapped_values or {}).values():
        ids |= set(value.values()) if isinstance(value, dict) else {value}
    return ids


@tagged("post_install", "-at_install")
class TestProcessing(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mes = cls.env["mfg.connector"].create({
            "name": "MES", "code": "MES-T", "connector_type": "generic_rest",
            "endpoint_url": "http://127.0.0.1:9/unused", "timeout_s": 5,
        })
        cls.flow_out = cls._flow("production.order", connector=cls.mes, direction="out",
                                 ordering_key_field="order_ref", max_attempts=3,
                                 backoff_base_s=10, backoff_factor=3, backoff_cap_s=60)
        cls.product = cls.env["product.product"].create({"name": "Bracket", "is_storable": True})

    def outbound(self, key, order_ref="MO-1", minute=0):
        occurred = datetime(2026, 11, 23, 8, minute)
        return self.Message.create_outbound(
            self.mes, "production.order",
            {"order_ref": order_ref, "product": "BRKT", "qty": 5, "uom": "EA", "seq": key},
            key, occurred_at=occurred)

    def test_alarm_goes_received_validated_mapped_done(self):
        # A warning: a critical alarm would skip the queue (test_priority_lane.py).
        self.Message.ingest([envelope("p1", payload={"asset": "PRESS-1", "code": "E42",
                                                     "severity": "warning", "active": True})])
        message = self.message("p1")
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertTrue(message.validated_at and message.mapped_at and message.done_at)
        self.assertGreaterEqual(message.latency_ms, 0)
        self.assertTrue(message.job_id, "the message links the queue job that processed it")

    def test_backoff_then_dead_letter_after_max_attempts(self):
        with Receiver(statuses=[503]) as receiver:
            self.mes.endpoint_url = receiver.url
            message = self.outbound("o1")
            before = fields.Datetime.now()
            self.run_jobs()
            self.assertEqual((message.state, message.attempts), ("failed", 1))
            self.assertIn("HTTP 503", message.last_error)
            delay = (message.next_retry_at - before).total_seconds()
            self.assertTrue(9 <= delay <= 12, f"first retry after base=10s, got {delay}")
            retry_job = self.pending_jobs()
            self.assertEqual(len(retry_job), 1)
            self.assertEqual(retry_job.eta, message.next_retry_at)
            self.assertEqual(self.run_jobs(), 0, "the retry waits for its eta")
            self.run_jobs(ignore_eta=True)
            self.assertEqual((message.state, message.attempts), ("failed", 2))
            delay = (message.next_retry_at - message.failed_at).total_seconds()
            self.assertEqual(round(delay), 30, "second retry after base*factor")
            self.run_jobs(ignore_eta=True)
            self.assertEqual((message.state, message.attempts), ("dead", 3))
            self.assertFalse(message.next_retry_at)
            self.assertFalse(self.pending_jobs(), "no retry after the dead letter")
            self.assertEqual(len(receiver.requests), 3)
            # The peer recovers: requeue from the dead letter delivers it.
            receiver.statuses = [200]
            message.with_user(self.operator).action_requeue()
            self.run_jobs()
            self.assertEqual(message.state, "done")
            self.assertEqual(message.attempts, 0)
            self.assertEqual(receiver.requests[-1]["json"]["key"], "o1")

    def test_peer_refusal_is_an_exception_not_a_retry(self):
        with Receiver(statuses=[422]) as receiver:
            self.mes.endpoint_url = receiver.url
            message = self.outbound("o2")
            self.run_jobs()
            self.assertEqual(message.state, "exception")
            self.assertIn("HTTP 422", message.last_error)
            self.assertFalse(self.pending_jobs())

    def test_unmapped_code_exception_then_mapping_and_reprocess(self):
        self.Message.ingest([envelope("s1", type_name="production.scrap", payload=SCRAP)])
        message = self.message("s1")
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("product 'MAT-7'", message.last_error)
        self.assertIn("scrap_reason 'BURR'", message.last_error)
        self.assertEqual(len(message.missing_mappings), 3)
        action = message.with_user(self.operator).action_create_missing_mappings()
        self.assertEqual(action["context"]["default_external_code"], "MAT-7")
        Mapping = self.env["mfg.mapping"].with_user(self.operator)
        mappings = Mapping.create({"mapping_type": "product", "external_code": "MAT-7",
                                   "product_id": self.product.id})
        mappings |= Mapping.create({"mapping_type": "uom", "external_code": "BOX-7",
                                    "uom_id": self.env.ref("uom.product_uom_unit").id})
        reason = self.env["stock.scrap.reason.tag"].create({"name": "Burr"})
        mappings |= Mapping.create({"mapping_type": "scrap_reason", "external_code": "BURR",
                                    "scrap_reason_tag_id": reason.id})
        mappings.action_reprocess_waiting()
        self.assertEqual(message.state, "received")
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertLessEqual({self.product.id, reason.id}, mapped_ids(message.mapped_values))

    def test_connector_specific_mapping_wins_over_plant_wide(self):
        other = self.env["product.product"].create({"name": "Other"})
        Mapping = self.env["mfg.mapping"]
        Mapping.create({"mapping_type": "product", "external_code": "X", "product_id": other.id})
        Mapping.create({"mapping_type": "product", "external_code": "X",
                        "product_id": self.product.id, "connector_id": self.connector.id})
        lookup = Mapping._lookup_cache()
        self.assertEqual(lookup(self.connector.id, self.plant.id, "product", "X"), self.product.id)
        self.assertEqual(lookup(self.mes.id, self.plant.id, "product", "X"), other.id)
        self.assertIsNone(lookup(self.mes.id, self.plant_b.id, "product", "X"))

    def test_same_ordering_key_is_processed_in_occurred_at_order(self):
        with Receiver(statuses=[200]) as receiver:
            self.mes.endpoint_url = receiver.url
            # Created (and queued) in reverse order of occurrence, in separate jobs.
            for minute, key in ((30, "c"), (20, "b"), (10, "a")):
                self.outbound(key, minute=minute)
            self.assertEqual(len(self.pending_jobs()), 3)
            self.run_jobs()
            delivered = [r["json"]["key"] for r in receiver.requests]
            self.assertEqual(delivered, ["a", "b", "c"])

    def test_failed_message_blocks_later_ones_of_its_key_only(self):
        with Receiver(statuses=[503, 200]) as receiver:
            self.mes.endpoint_url = receiver.url
            first = self.outbound("k1", order_ref="MO-A", minute=1)
            second = self.outbound("k2", order_ref="MO-A", minute=2)
            other = self.outbound("k3", order_ref="MO-B", minute=3)
            self.run_jobs()
            self.assertEqual(first.state, "failed")
            self.assertEqual(second.state, "received", "waits behind the failed MO-A message")
            self.assertEqual(other.state, "done", "another order is not blocked")
            self.run_jobs(ignore_eta=True)
            self.assertEqual((first.state, second.state), ("done", "done"))
            keys = [r["json"]["key"] for r in receiver.requests]
            self.assertLess(keys.index("k1", 1), keys.index("k2"))

    def test_ordering_key_held_by_another_transaction_requeues_the_job(self):
        message = self.outbound("lock-1", order_ref="MO-LOCK")
        lock = _lock_id(f"out:{self.mes.id}:MO-LOCK")  # outbound keys are per connector
        with self.env.registry.cursor() as other_cr:
            other_cr.execute("SELECT pg_advisory_lock(%s)", (lock,))
            try:
                with self.assertRaises(RetryableJobError):
                    message._job_process()
            finally:
                other_cr.execute("SELECT pg_advisory_unlock(%s)", (lock,))
        self.assertEqual(message.state, "received", "nothing was done while locked")

    def test_one_peer_down_does_not_hold_up_another_peers_messages_of_the_order(self):
        """Outbound ordering is per connector: the MES being down delays the MES's messages
        of MO-A only; the planning board gets its own, in order."""
        with Receiver(statuses=[503]) as down, Receiver(statuses=[200]) as board:
            self.mes.endpoint_url = down.url
            planning = self.env["mfg.connector"].create({
                "name": "Board", "code": "BOARD-T", "connector_type": "generic_rest",
                "endpoint_url": board.url, "timeout_s": 5})
            self._flow("production.order", connector=planning, direction="out",
                       ordering_key_field="order_ref")
            to_mes = self.outbound("m-1", order_ref="MO-A", minute=1)
            to_board = [self.Message.create_outbound(
                planning, "production.order", {"order_ref": "MO-A", "product": "BRKT",
                                               "qty": 5, "uom": "EA", "seq": key}, key,
                occurred_at=datetime(2026, 11, 23, 8, minute))
                for key, minute in (("b-1", 2), ("b-2", 3))]
            self.run_jobs()
            self.assertEqual(to_mes.state, "failed")
            self.assertEqual([m.state for m in to_board], ["done", "done"])
            self.assertEqual([r["json"]["key"] for r in board.requests], ["b-1", "b-2"])

    def test_connector_rate_limit_defers_deliveries_without_using_attempts(self):
        with Receiver(statuses=[200]) as receiver:
            self.mes.write({"endpoint_url": receiver.url, "rate_limit_per_min": 2})
            messages = [self.outbound(f"rl-{i}", order_ref=f"MO-R{i}", minute=i) for i in range(3)]
            self.run_jobs()
            self.assertEqual([m.state for m in messages], ["done", "done", "received"])
            self.assertEqual(len(receiver.requests), 2)
            deferred = self.pending_jobs()
            self.assertEqual(len(deferred), 1)
            self.assertGreater(deferred.eta, fields.Datetime.now() + timedelta(seconds=30))
            self.run_jobs(ignore_eta=True)  # a minute later
            self.assertEqual(messages[2].state, "done")
            self.assertEqual(messages[2].attempts, 0, "waiting for the limit is not a failure")
            self.assertEqual(len(receiver.requests), 3)

    def test_outbound_payload_with_an_unstorable_value_is_kept_in_exception(self):
        hostile = self.Message.create_outbound(
            self.mes, "production.order", {"order_ref": "MO-NAN", "product": "BRKT",
                                           "qty": float("nan"), "uom": "EA\x00"}, "nan-1")
        fine = self.outbound("fine-1", order_ref="MO-FINE")
        self.assertEqual(hostile.state, "exception")
        self.assertIn("payload.", hostile.last_error)
        self.assertEqual((hostile.payload["qty"], hostile.payload["order_ref"]), (None, "MO-NAN"))
        self.assertEqual(fine.state, "received", "the next one is not affected")
        with Receiver() as receiver:
            self.mes.endpoint_url = receiver.url
            self.run_jobs()
        self.assertEqual((hostile.state, fine.state), ("exception", "done"),
                         "not sent until a person corrects it")
        self.assertEqual(len(receiver.requests), 1)

    def test_outbound_in_b2mml_xml_and_json(self):
        """A connector whose peer speaks B2MML gets OperationsSchedules, not envelopes; a
        type without a B2MML form is an exception naming it."""
        with Receiver() as receiver:
            self.mes.write({"endpoint_url": receiver.url, "message_format": "b2mml_xml"})
            message = self.outbound("b1")
            self.run_jobs()
            self.assertEqual(message.state, "done", message.last_error)
            request = receiver.requests[-1]
            self.assertEqual(request["headers"]["Content-Type"], "application/xml")
            root = etree.fromstring(request["body"])
            self.assertEqual(etree.QName(root).localname, "ProcessOperationsSchedule")
            namespace = {"b": "http://www.mesa.org/xml/B2MML"}
            self.assertEqual(root.findtext("b:ApplicationArea/b:BODID", namespaces=namespace),
                             "b1")
            self.assertEqual(root.findtext(".//b:OperationsRequest/b:ID", namespaces=namespace),
                             "MO-1")
            self.mes.message_format = "b2mml_json"
            message = self.outbound("b2", minute=1)
            self.run_jobs()
            self.assertEqual(message.state, "done", message.last_error)
            self.assertIn("ProcessOperationsSchedule", receiver.requests[-1]["json"])
            flow = self._flow("machine.alarm", connector=self.mes, direction="out")
            alarm = self.Message.create_outbound(self.mes, "machine.alarm", {
                "asset": "P1", "code": "E1", "severity": "info", "active": True}, "b3")
            self.assertEqual(alarm.flow_id, flow)
            self.run_jobs()
            self.assertEqual(alarm.state, "exception")
            self.assertIn("B2MML: type 'machine.alarm' has no B2MML form", alarm.last_error)

    def test_outbound_retry_does_not_block_inbound_of_the_same_order(self):
        with Receiver(statuses=[503]) as receiver:
            self.mes.endpoint_url = receiver.url
            release = self.outbound("rel-1", order_ref="MO-77")
            self.run_jobs()
            self.assertEqual(release.state, "failed")
        self._flow("production.order", connector=self.connector, ordering_key_field="order_ref")
        self.env["mfg.mapping"].create([
            {"mapping_type": "product", "external_code": "BRKT", "product_id": self.product.id},
            {"mapping_type": "uom", "external_code": "EA",
             "uom_id": self.env.ref("uom.product_uom_unit").id}])
        self.Message.ingest([envelope("in-1", type_name="production.order", payload={
            "order_ref": "MO-77", "product": "BRKT", "qty": 5, "uom": "EA"})])
        self.run_jobs()
        self.assertEqual(self.message("in-1").ordering_key, "MO-77")
        self.assertNotIn(self.message("in-1").state, ("received", "failed"),
                         "inbound of MO-77 is processed while the release to the MES waits")

    def test_micro_batch_flow_queues_one_job_per_window(self):
        self.flow_alarm.write({"sync_mode": "micro_batch", "batch_window_s": 30})
        self.Message.ingest([envelope("mb1")])
        self.Message.ingest([envelope("mb2")])
        window_jobs = self.pending_jobs(model="mfg.flow", method="_job_process_window")
        self.assertEqual(len(window_jobs), 1, "identity key: one job per flow window")
        self.assertGreater(window_jobs.eta, fields.Datetime.now() + timedelta(seconds=20))
        self.run_jobs(model="mfg.flow", ignore_eta=True)
        self.run_jobs()
        self.assertEqual(set((self.message("mb1") | self.message("mb2")).mapped("state")), {"done"})

    def test_scheduled_flow_waits_for_its_cron(self):
        self.flow_alarm.write({"sync_mode": "scheduled", "schedule_interval_min": 15})
        self.Message.ingest([envelope("sc1")])
        self.assertFalse(self.pending_jobs())
        self.env["mfg.flow"]._cron_run_scheduled_flows()
        self.run_jobs()
        self.assertEqual(self.message("sc1").state, "done")
        self.assertGreater(self.flow_alarm.next_run_at, fields.Datetime.now())

    def test_a_connector_type_without_a_registered_transport_is_an_exception(self):
        # As if the addon of a connector's type were gone: its type has no transport any more
        # (the core registers one for every type it defines, the pull transport for "edge").
        self._flow("production.order", direction="out")
        message = self.Message.create_outbound(
            self.connector, "production.order",
            {"order_ref": "MO-9", "product": "BRKT", "qty": 5, "uom": "EA"}, "edge-out")
        registry_class = type(self.env["mfg.message"])
        with patch.object(registry_class, "_mfg_transports", lambda model: {}):
            self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("No outbound transport for connector type edge", message.last_error)
