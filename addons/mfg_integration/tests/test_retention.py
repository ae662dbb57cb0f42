# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Retention counts from the final state, keeps audited edits and referenced messages."""
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import MfgTestCase, envelope


@tagged("post_install", "-at_install")
class TestRetention(MfgTestCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param(
            "mfg_integration.done_retention_days", 30)
        self.now = fields.Datetime.now()

    def _message(self, key, state, received_days_ago, final_days_ago, **values):
        self.Message.ingest([envelope(key)])
        message = self.message(key)
        stamps = {"done": "done_at", "cancelled": "cancelled_at"}
        message.sudo().write(dict({
            "state": state,
            "received_at": self.now - timedelta(days=received_days_ago),
            stamps[state]: self.now - timedelta(days=final_days_ago)}, **values))
        return message

    def purge(self):
        self.env.flush_all()
        return self.Message._cron_purge_done()

    def test_old_reception_but_recent_final_state_is_kept(self):
        done = self._message("r1", "done", received_days_ago=400, final_days_ago=2)
        cancelled = self._message("r2", "cancelled", received_days_ago=400, final_days_ago=2)
        self.purge()
        self.assertTrue(done.exists())
        self.assertTrue(cancelled.exists())

    def test_messages_final_longer_than_the_retention_are_purged(self):
        done = self._message("r3", "done", received_days_ago=400, final_days_ago=31)
        cancelled = self._message("r4", "cancelled", received_days_ago=40, final_days_ago=31)
        self.assertEqual(self.purge(), 2)
        self.assertFalse(done.exists())
        self.assertFalse(cancelled.exists())

    def test_a_message_with_an_audited_edit_is_never_purged(self):
        edited = self._message("r5", "done", received_days_ago=400, final_days_ago=300,
                               edited=True)
        self.assertEqual(self.purge(), 0)
        self.assertTrue(edited.exists())

    def test_cancelling_stamps_the_time_of_cancellation(self):
        self.Message.ingest([envelope("r6")])
        message = self.message("r6")
        message.sudo().received_at = self.now - timedelta(days=400)
        message.with_user(self.operator).action_cancel()
        self.assertEqual(message.state, "cancelled")
        self.assertGreaterEqual(message.cancelled_at, self.now)
        self.purge()
        self.assertTrue(message.exists(), "cancelled today: kept for the retention period")

    def test_rows_without_final_stamp_fall_back_to_their_last_change(self):
        message = self._message("r7", "cancelled", received_days_ago=400, final_days_ago=1)
        self.env.flush_all()
        self.env.cr.execute("UPDATE mfg_message SET cancelled_at = NULL, write_date = %s "
                            "WHERE id = %s", (self.now - timedelta(days=1), message.id))
        self.assertEqual(self.purge(), 0)
        self.env.cr.execute("UPDATE mfg_message SET write_date = %s WHERE id = %s",
                            (self.now - timedelta(days=60), message.id))
        self.assertEqual(self.purge(), 1)

    def test_unfinished_messages_are_never_purged(self):
        self.Message.ingest([envelope("r8")])
        message = self.message("r8")
        message.sudo().write({"state": "exception",
                              "received_at": self.now - timedelta(days=400)})
        self.env.flush_all()
        self.env.cr.execute("UPDATE mfg_message SET write_date = %s WHERE id = %s",
                            (self.now - timedelta(days=400), message.id))
        self.assertEqual(self.purge(), 0)
