# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""One hostile value is its envelope's reject with the reason; the rest of the batch is stored.

In process (``mfg.message.ingest``), over every value of issue 8 (tests/common.py), with a
property-based test of generated batches, and for failures past the canonical rules (an
unexpected error while planning one envelope, a value PostgreSQL refuses).
"""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.fields import Datetime
from odoo.tests import tagged

from ..models.mfg_message import _ConnectorInfo
from ..services import ingest as ingest_service
from .common import HOSTILE_VALUES, MfgTestCase, batch_with_hostile, envelope

# Text of any code point, NUL and lone surrogates included (hypothesis leaves out
# surrogates by default).
ANY_TEXT = st.text(st.characters(exclude_categories=()), min_size=1, max_size=10)
ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.builds(lambda: 10 ** 5000)
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=12)


@tagged("post_install", "-at_install")
class TestHostileIngest(MfgTestCase):
    def assert_only_the_bad_one_rejected(self, hostile, result, prefix, bad_index=4, size=10):
        self.assertEqual(result["accepted"], size - 1, (hostile.name, result))
        self.assertEqual(result["duplicates"], 0, hostile.name)
        self.assertEqual([r["index"] for r in result["rejected"]], [bad_index], hostile.name)
        self.assertIn(hostile.reason, result["rejected"][0]["error"], hostile.name)
        stored = self.Message.search([("key", "=like", f"{prefix}-%")])
        self.assertEqual(sorted(stored.mapped("key")),
                         sorted(f"{prefix}-{i}" for i in range(size) if i != bad_index),
                         hostile.name)

    def test_every_hostile_value_is_a_reject_with_its_reason_and_the_nine_others_are_stored(self):
        for number, hostile in enumerate(HOSTILE_VALUES):
            with self.subTest(hostile.name):
                prefix = f"hv{number}"
                envelopes, _body = batch_with_hostile(hostile, prefix)
                result = self.Message.ingest(envelopes)
                self.assert_only_the_bad_one_rejected(hostile, result, prefix)

    def test_reject_echoing_a_lone_surrogate_key_is_encodable(self):
        result = self.Message.ingest([envelope("\udc00k"), envelope("fine")])
        self.assertEqual(result["accepted"], 1)
        self.assertEqual(result["rejected"][0]["key"], "\\udc00k")
        result["rejected"][0]["key"].encode("utf-8")

    def test_unexpected_error_while_planning_one_envelope_rejects_only_it(self):
        # A 5,000-digit integer passes the schema ("number") but Python refuses to turn it
        # into JSON text; before, the ValueError escaped and failed the batch with a 500.
        huge = envelope("huge", payload={"asset": "P", "code": "E", "severity": "info",
                                         "active": True, "count": 10 ** 5000})
        result = self.Message.ingest([envelope("before"), huge, envelope("after")])
        self.assertEqual(result["accepted"], 2)
        self.assertEqual([r["index"] for r in result["rejected"]], [1])
        self.assertIn("payload: cannot be stored as JSON", result["rejected"][0]["error"])
        # XML-RPC can send <base64> values (bytes): not JSON, so json.dumps raises TypeError,
        # which no rule foresees; it must still reject only its envelope, and be logged.
        binary = envelope("binary", payload={"asset": "P", "code": "E", "severity": "info",
                                             "active": True, "blob": b"\x00\x01"})
        with self.assertLogs("odoo.addons.mfg_integration.services.ingest", "WARNING"):
            result = self.Message.ingest([binary, envelope("after-binary")])
        self.assertEqual(result["accepted"], 1)
        self.assertEqual(result["rejected"], [{
            "index": 0, "key": "binary",
            "error": "could not be processed (TypeError); nothing was stored for this envelope"}])

    def test_row_refused_by_postgresql_is_rejected_alone(self):
        batch = [envelope(f"pg-{i}") for i in range(7)]
        plan = ingest_service.plan_batch(
            batch, {"EDGE-T1": _ConnectorInfo(self.connector.id, "EDGE-T1", self.plant.id)},
            {}, Datetime.now(), self.env.uid)
        payload_column = ingest_service.INSERT_COLUMNS.index("payload")
        rows = list(plan.rows)
        rows[5] = rows[5][:payload_column] + ("{not json",) + rows[5][payload_column + 1:]
        with self.assertLogs("odoo.addons.mfg_integration.services.ingest", "WARNING") as logs:
            inserted, refused = ingest_service.insert_isolating(self.env.cr, rows)
        self.assertIn("PostgreSQL refused a row", logs.output[0])
        self.assertEqual(len(inserted), 6)
        self.assertEqual([pos for pos, _error in refused], [5])
        self.assertIn("could not be stored: ", refused[0][1])
        self.assertEqual(sorted(self.Message.search([("key", "=like", "pg-%")]).mapped("key")),
                         [f"pg-{i}" for i in range(7) if i != 5])

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(batch=st.lists(st.one_of(
        # valid alarms, keys drawn from a small set so batches hold duplicates
        st.builds(envelope, st.sampled_from([f"p{i}" for i in range(12)])),
        # issue 8's hostile values at their place
        st.builds(lambda hostile, key: hostile.apply(envelope(key)),
                  st.sampled_from([h for h in HOSTILE_VALUES if "100,000" not in h.name]),
                  ANY_TEXT),
        # any text (NUL and lone surrogates included) as key / source, any JSON-ish value
        # (NaN, huge integers, nested containers) in the payload
        st.builds(lambda key, source, value: envelope(key, source=source, payload={
            "asset": "P", "code": "E", "severity": "info", "active": True, "value": value}),
            ANY_TEXT, st.sampled_from(["EDGE-T1", "EDGE-B1", "NOPE"]) | ANY_TEXT,
            ANY_VALUE),
        # any occurred_at: garbage text or any aware date-time, extreme offsets included
        st.builds(lambda key, when: envelope(key, occurred_at=when), ANY_TEXT,
                  ANY_TEXT | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())),
        # not an envelope at all
        ANY_VALUE,
    ), max_size=15))
    def test_generated_batches_add_up_and_store_exactly_what_was_accepted(self, batch):
        self.env.cr.execute("SELECT count(*) FROM mfg_message")
        before = self.env.cr.fetchone()[0]
        result = self.Message.ingest(batch)
        self.env.cr.execute("SELECT count(*) FROM mfg_message")
        after = self.env.cr.fetchone()[0]
        self.assertEqual(result["accepted"] + result["duplicates"] + len(result["rejected"]),
                         len(batch), result)
        self.assertEqual(after - before, result["accepted"], "nothing half-written")
        indexes = [r["index"] for r in result["rejected"]]
        self.assertEqual(len(indexes), len(set(indexes)))
        for rejected in result["rejected"]:
            self.assertTrue(rejected["error"])
            rejected["error"].encode("utf-8")
            if rejected["key"] is not None:
                rejected["key"].encode("utf-8")
