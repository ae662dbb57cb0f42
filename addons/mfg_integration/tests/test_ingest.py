# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import MfgTestCase, envelope


@tagged("post_install", "-at_install")
class TestIngest(MfgTestCase):
    def test_batch_with_duplicates_and_rejects(self):
        self.Message.ingest([envelope("a1")])
        batch = [
            envelope("a1"),                                   # already stored -> duplicate
            envelope("a2"),                                   # accepted
            envelope("a2"),                                   # duplicate inside the batch
            envelope("a3", payload={"asset": "P", "code": "X", "severity": "loud",
                                    "active": True}),         # bad enum -> rejected
            envelope("a4"),                                   # accepted after a reject
        ]
        result = self.Message.ingest(batch)
        self.assertEqual(result["accepted"], 2)
        self.assertEqual(result["duplicates"], 2)
        self.assertEqual([r["index"] for r in result["rejected"]], [3])
        self.assertEqual(result["rejected"][0]["key"], "a3")
        self.assertIn("payload", result["rejected"][0]["error"])
        self.assertEqual(result["accepted"] + result["duplicates"] + len(result["rejected"]),
                         len(batch))
        self.assertEqual(len(self.message("a2")), 1)
        self.assertFalse(self.message("a3"), "a rejected envelope is never stored")
        stored = self.message("a4")
        self.assertEqual(stored.state, "received")
        self.assertEqual(stored.flow_id, self.flow_alarm)
        self.assertEqual(stored.company_id, self.plant)
        self.assertEqual(stored.payload["code"], "E42")
        self.assertEqual(str(stored.occurred_at), "2026-11-23 07:00:00", "stored in UTC")

    def test_each_bad_envelope_gets_its_reason_and_the_rest_is_stored(self):
        good = envelope("ok-1")
        missing = envelope("m-1")
        del missing["occurred_at"]
        wrong_type = envelope("w-1", schema_version="1")
        unknown_type = envelope("u-1", type_name="machine.teleport")
        unknown_version = envelope("v-1", schema_version=7)
        naive_time = envelope("t-1", occurred_at="2026-11-23T08:00:00")
        unknown_source = envelope("s-1", source="NOPE")
        too_long_key = envelope("k" * 201)
        result = self.Message.ingest([good, missing, wrong_type, unknown_type, unknown_version,
                                      naive_time, unknown_source, too_long_key, "not an object"])
        errors = {r["index"]: r["error"] for r in result["rejected"]}
        self.assertEqual(result["accepted"], 1)
        self.assertIn("occurred_at", errors[1])
        self.assertIn("schema_version must be integer", errors[2])
        self.assertIn("unknown type 'machine.teleport'", errors[3])
        self.assertIn("unsupported schema_version 7", errors[4])
        self.assertIn("occurred_at", errors[5])
        self.assertIn("unknown source 'NOPE'", errors[6])
        self.assertIn("key", errors[7])
        self.assertIn("must be a JSON object", errors[8])
        self.assertEqual(self.Message.search_count([("source", "=", "EDGE-T1")]), 1)

    def test_non_list_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "must be a JSON array"):
            self.Message.ingest({"key": "x"})

    def test_oversized_batch_is_refused_whole(self):
        self.env["ir.config_parameter"].sudo().set_param("mfg_integration.ingest_max_batch", 3)
        with self.assertRaisesRegex(UserError, "exceeds the maximum of 3") as caught:
            self.Message.ingest([envelope(f"o{i}") for i in range(4)])
        self.assertEqual(caught.exception.http_status, 413)
        self.assertFalse(self.Message.search([("key", "like", "o%"), ("source", "=", "EDGE-T1")]))

    def test_type_without_flow_is_stored_as_exception(self):
        result = self.Message.ingest([envelope("d1", type_name="machine.counter", payload={
            "asset": "PRESS-1", "counter": "cycles", "delta": 4,
            "window_start": "2026-11-23T08:00:00Z", "window_end": "2026-11-23T08:01:00Z"})])
        self.assertEqual(result["accepted"], 1)
        stored = self.message("d1")
        self.assertEqual(stored.state, "exception")
        self.assertIn("No active inbound flow for type machine.counter", stored.last_error)
        # Creating the flow and reprocessing finishes the message.
        self._flow("machine.counter")
        stored.with_user(self.operator).action_requeue()
        self.run_jobs()
        self.assertEqual(stored.state, "done")

    def test_ten_thousand_envelopes_in_one_call(self):
        batch = [envelope(f"bulk-{i}", occurred_at=f"2026-11-23T08:{i % 60:02d}:00Z")
                 for i in range(10000)]
        batch += batch[:1000]
        result = self.Message.ingest(batch)
        self.assertEqual((result["accepted"], result["duplicates"], result["rejected"]),
                         (10000, 1000, []))
        jobs = self.pending_jobs()
        self.assertEqual(len(jobs), 20, "500 messages per job, not one job per message")
        self.assertEqual(set(jobs.mapped("channel")), {"root.mfg.edge_t1"})

    def test_messages_sharing_an_ordering_key_stay_in_one_job(self):
        self.flow_scrap.batch_size = 2
        payload = {"product": "P-1", "qty": 1, "uom": "PCE", "reason_code": "R1"}
        batch = [envelope(f"o{i}", type_name="production.scrap",
                          payload=dict(payload, order_ref="MO-1" if i < 3 else f"MO-{i}"))
                 for i in range(5)]
        self.Message.ingest(batch)
        jobs = self.pending_jobs()
        sizes = sorted(len(job.records) for job in jobs)
        self.assertEqual(sizes, [2, 3], "the three MO-1 messages are never split")


V2_ALARM = {"alarm_id": "PRESS-1/E42", "equipment_id": {"value": "PRESS-1", "scheme": "PLC"},
            "code": "E42", "severity": 900, "active": True, "acknowledged": False}


@tagged("post_install", "-at_install")
class TestIngestVersions(MfgTestCase):
    """Envelope v2 is stored with its B2MML fields; a type takes no newer version than its
    handler reads (mrp tests), and Odoo sends no version it cannot build."""

    def test_v2_envelope_is_stored_with_its_envelope_fields_and_round_trips(self):
        result = self.Message.ingest([envelope(
            "v2-1", schema_version=2, payload=V2_ALARM, verb="Notify",
            created_at="2026-11-23T08:00:02+01:00", receiver="ODOO",
            hierarchy_scope={"equipment_id": "PLANT-1", "level": "Site",
                             "child": {"equipment_id": "PRESS-1", "level": "WorkUnit"}})])
        self.assertEqual(result["accepted"], 1, result)
        stored = self.message("v2-1")
        self.assertEqual((stored.schema_version, stored.verb, stored.receiver),
                         (2, "Notify", "ODOO"))
        self.assertEqual(str(stored.created_at), "2026-11-23 07:00:02", "stored in UTC")
        self.assertEqual(stored.hierarchy_scope["child"]["level"], "WorkUnit")
        self.assertEqual(stored.as_envelope()["verb"], "Notify")
        self.assertEqual(stored.as_envelope()["created_at"], "2026-11-23T07:00:02+00:00")
        self.run_jobs()
        self.assertEqual(stored.state, "done", stored.last_error)

    def test_a_type_only_recorded_takes_every_version_it_has_a_schema_for(self):
        result = self.Message.ingest([
            envelope("v2-2", schema_version=2, payload=V2_ALARM, verb="Notify"),
            envelope("v1-2"),
            envelope("v3-2", schema_version=3, payload=V2_ALARM, verb="Notify"),
            envelope("v2-3", schema_version=2, payload=V2_ALARM)])
        self.assertEqual(result["accepted"], 2, result)
        self.assertEqual([r["key"] for r in result["rejected"]], ["v3-2", "v2-3"])
        self.assertIn("unsupported schema_version 3", result["rejected"][0]["error"])
        self.assertIn("verb", result["rejected"][1]["error"])
        self.assertEqual(self.message("v2-2").flow_id, self.flow_alarm,
                         "the flow's own version (1) is what it builds, not a limit")

    def test_outbound_flows_send_only_versions_odoo_builds(self):
        flow = self._flow("machine.alarm", direction="out")
        with self.assertRaisesRegex(ValidationError, "builds outbound machine.alarm payloads "
                                                     "in version 1"):
            flow.schema_version = 2
        with self.assertRaisesRegex(ValidationError, "has no schema version 3"):
            self.flow_alarm.schema_version = 3
