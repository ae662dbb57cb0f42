# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The extension contract: this addon adds a transport and an inbound handler, one file
each, and the core's pipeline (validation, ordering, batching, retries, done values)
applies to them unchanged."""
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import MfgTestCase, Receiver, envelope


@tagged("post_install", "-at_install")
class TestExtensionContract(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flow_lot = cls._flow("material.lot", schema_version=2)
        cls.peer = cls.env["mfg.connector"].create({
            "name": "Sister plant", "code": "BATCH-1", "connector_type": "batch_json",
            "endpoint_url": "http://127.0.0.1:9/unused", "timeout_s": 5})
        cls.flow_out = cls._flow("production.order", connector=cls.peer, direction="out",
                                 ordering_key_field="order_ref", max_attempts=3)
        product = cls.env["product.product"].create({"name": "Resin", "is_storable": True,
                                                     "tracking": "lot"})
        cls.lot = cls.env["stock.lot"].create({"name": "LOT-42", "product_id": product.id})

    def lot_message(self, key, lot_name):
        self.Message.ingest([envelope(key, "material.lot", schema_version=2, verb="Sync",
                                      payload={"id": lot_name,
                                               "material_definition_id": {"value": "MAT-1"}})])
        self.run_jobs()
        return self.message(key)

    def outbound(self, *order_refs):
        messages = self.Message.browse()
        for index, order_ref in enumerate(order_refs):
            messages |= self.Message.create_outbound(
                self.peer, "production.order",
                {"order_ref": order_ref, "product": "BRKT", "qty": 5, "uom": "EA"},
                f"out-{index}-{order_ref}")
        return messages

    def test_a_new_inbound_type_is_applied_by_the_handler_its_addon_registers(self):
        message = self.lot_message("lot-1", "LOT-42")
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual((message.result_model, message.result_ids),
                         ("stock.lot", self.lot.ids))

    def test_a_handler_business_error_leaves_the_message_in_exception_with_its_reason(self):
        message = self.lot_message("lot-2", "LOT-NOPE")
        self.assertEqual(message.state, "exception")
        self.assertIn("Unknown lot LOT-NOPE", message.last_error)

    def test_a_new_transport_gets_a_jobs_messages_in_one_request(self):
        with Receiver() as receiver:
            self.peer.endpoint_url = receiver.url
            messages = self.outbound("MO-1", "MO-2", "MO-3")
            messages._job_process()
            self.assertEqual(len(receiver.requests), 1, "one POST for the three messages")
            sent = receiver.requests[0]["json"]["envelopes"]
            self.assertEqual([e["key"] for e in sent], messages.mapped("key"))
            self.run_jobs()  # the jobs create_outbound queued find the messages done
            self.assertEqual(len(receiver.requests), 1, "nothing is sent twice")
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertIn("batch of 3", messages[0].result_summary)

    def test_messages_of_one_ordering_key_go_in_successive_requests(self):
        with Receiver() as receiver:
            self.peer.endpoint_url = receiver.url
            messages = self.outbound("MO-7", "MO-7", "MO-8")
            messages._job_process()
            keys = [[e["key"] for e in request["json"]["envelopes"]]
                    for request in receiver.requests]
        self.assertEqual(keys, [[messages[0].key, messages[2].key], [messages[1].key]])
        self.assertEqual(set(messages.mapped("state")), {"done"})

    def test_the_peers_5xx_is_a_retry_and_its_4xx_an_exception_for_every_message(self):
        with Receiver(statuses=[503]) as receiver:
            self.peer.endpoint_url = receiver.url
            retried = self.outbound("MO-1", "MO-2")
            retried._job_process()
        self.assertEqual(set(retried.mapped("state")), {"failed"})
        self.assertEqual(retried.mapped("attempts"), [1, 1])
        self.assertIn("HTTP 503", retried[0].last_error)
        with Receiver(statuses=[422]) as receiver:
            self.peer.endpoint_url = receiver.url
            refused = self.outbound("MO-3", "MO-4")
            refused._job_process()
        self.assertEqual(set(refused.mapped("state")), {"exception"})
        self.assertIn("HTTP 422", refused[0].last_error)

    def test_the_connection_test_of_the_new_type_is_the_registered_one(self):
        with Receiver() as receiver:
            self.peer.endpoint_url = receiver.url
            ok, result = self.peer._test_connection()
        self.assertTrue(ok, result)
        self.assertIn("HTTP 200", result)
