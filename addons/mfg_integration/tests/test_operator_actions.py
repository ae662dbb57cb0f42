# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
from datetime import datetime

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import MfgTestCase, envelope

SCRAP = {"product": "NOPE", "qty": 1, "uom": "EA", "reason_code": "R", "order_ref": "MO-9"}


@tagged("post_install", "-at_install")
class TestOperatorActions(MfgTestCase):
    def _exception_message(self, key):
        self.Message.ingest([envelope(key, type_name="production.scrap", payload=SCRAP)])
        self.run_jobs()
        message = self.message(key)
        self.assertEqual(message.state, "exception")
        return message

    def test_bulk_requeue_and_cancel(self):
        messages = self._exception_message("e1") | self._exception_message("e2")
        messages.with_user(self.operator).action_requeue()
        self.assertEqual(set(messages.mapped("state")), {"received"})
        self.assertIn("Requeued by", messages[0].message_ids[0].body)
        messages.with_user(self.operator).action_cancel()
        self.assertEqual(set(messages.mapped("state")), {"cancelled"})
        with self.assertRaises(UserError):
            self.message("e1").with_user(self.operator).action_retry_now()

    def test_read_only_user_cannot_act_on_messages(self):
        message = self._exception_message("e3")
        for action in ("action_requeue", "action_cancel", "action_edit_payload"):
            with self.assertRaises(AccessError):
                getattr(message.with_user(self.user), action)()

    def test_edit_payload_and_replay_is_audited(self):
        message = self._exception_message("e4")
        product = self.env["product.product"].create({"name": "Known"})
        self.env["mfg.mapping"].create([
            {"mapping_type": "product", "external_code": "MAT-1", "product_id": product.id},
            {"mapping_type": "uom", "external_code": "EA",
             "uom_id": self.env.ref("uom.product_uom_unit").id},
            {"mapping_type": "scrap_reason", "external_code": "R",
             "scrap_reason_tag_id": self.env["stock.scrap.reason.tag"].create({"name": "R"}).id},
        ])
        wizard_form = Form(self.env["mfg.message.edit"].with_user(self.operator).with_context(
            default_message_id=message.id))
        wizard_form.payload_text = json.dumps(dict(SCRAP, product="MAT-1"))
        wizard_form.reason = "MES sent the old material number"
        wizard_form.save().action_apply()
        self.assertTrue(message.edited)
        self.assertEqual(message.original_payload["product"], "NOPE")
        audit = message.message_ids.filtered(lambda m: "MES sent the old material" in m.body)
        self.assertTrue(audit, "the edit is in the chatter with its reason")
        self.assertIn("mfg_operator", audit.author_id.user_ids.login)
        self.run_jobs()
        self.assertEqual(message.state, "done")

    def test_edit_rejects_payload_breaking_the_schema(self):
        message = self._exception_message("e5")
        wizard = self.env["mfg.message.edit"].with_user(self.operator).create({
            "message_id": message.id, "payload_text": json.dumps({"qty": "many"}),
            "reason": "typo"})
        with self.assertRaisesRegex(UserError, "does not match schema"):
            wizard.action_apply()
        self.assertEqual(message.payload["product"], "NOPE", "nothing half-written")

    def test_replay_flow_time_range(self):
        inside = self._exception_message("r1")
        self.Message.ingest([envelope("r2", type_name="production.scrap", payload=SCRAP,
                                      occurred_at="2026-01-01T00:00:00Z")])
        self.run_jobs()
        outside = self.message("r2")
        wizard = self.env["mfg.flow.replay"].with_user(self.operator).create({
            "flow_id": self.flow_scrap.id, "date_from": datetime(2026, 11, 23),
            "date_to": datetime(2026, 11, 24)})
        self.assertEqual(wizard.message_count, 1)
        wizard.action_replay()
        self.assertEqual(inside.state, "received")
        self.assertEqual(outside.state, "exception")
        self.assertIn("replayed 1 message", self.flow_scrap.message_ids[0].body)
