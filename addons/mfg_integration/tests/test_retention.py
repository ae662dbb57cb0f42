# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Retention drops whole partitions of the message table (issue 12 §1), and still keeps what
it kept row by row before: a message finished within the retention period (it counts from the
final state, not from reception), audited edits, referenced and unfinished messages."""
from datetime import timedelta
from unittest import mock

from odoo import fields, sql_db
from odoo.tests import tagged

from ..models.mfg_message_partition import MAINTENANCE_LOCK
from ..services import partitioning
from .common import MfgTestCase, envelope

WIDTH = 1000


@tagged("post_install", "-at_install")
class TestRetention(MfgTestCase):
    def setUp(self):
        super().setUp()
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("mfg_integration.done_retention_days", 30)
        params.set_param("mfg_integration.partition_rows", WIDTH)
        self.now = fields.Datetime.now()
        self.Partition = self.env["mfg.message.partition"]
        # The messages of a test live in a partition of their own.
        partitioning.close_current(self.env.cr, WIDTH)

    def _message(self, key, state, received_days_ago, final_days_ago, **values):
        self.Message.ingest([envelope(key)])
        message = self.message(key)
        stamps = {"done": "done_at", "cancelled": "cancelled_at"}
        message.sudo().write(dict({
            "state": state,
            "received_at": self.now - timedelta(days=received_days_ago),
            stamps[state]: self.now - timedelta(days=final_days_ago)}, **values))
        return message

    def maintain(self):
        """Close the test's partition, then run the maintenance as the cron does."""
        self.env.flush_all()
        partitioning.close_current(self.env.cr, WIDTH)
        return self.Partition._maintain()

    def partition_of(self, message):
        self.env.cr.execute("SELECT tableoid::regclass::text FROM mfg_message WHERE id = %s",
                            (message.id,))
        return self.env.cr.fetchone()[0]

    def test_messages_final_longer_than_the_retention_go_with_their_partition(self):
        done = self._message("r3", "done", received_days_ago=400, final_days_ago=31)
        cancelled = self._message("r4", "cancelled", received_days_ago=40, final_days_ago=31)
        table = self.partition_of(done)
        self.assertEqual(self.maintain(), 2)
        self.assertFalse(done.exists())
        self.assertFalse(cancelled.exists())
        record = self.Partition.search([("name", "=", table)])
        self.assertEqual((record.state, record.kept_count), ("expired", 0))
        self.assertEqual(self.Message.ingest([envelope("r3")])["accepted"], 1,
                         "the key is forgotten with its message")

    def test_old_reception_but_recent_final_state_is_kept(self):
        done = self._message("r1", "done", received_days_ago=400, final_days_ago=2)
        cancelled = self._message("r2", "cancelled", received_days_ago=400, final_days_ago=2)
        gone = self._message("r1b", "done", received_days_ago=400, final_days_ago=60)
        self.assertEqual(self.maintain(), 1)
        self.assertTrue(done.exists())
        self.assertTrue(cancelled.exists())
        self.assertFalse(gone.exists())
        self.assertEqual(self.Message.ingest([envelope("r1")])["duplicates"], 1,
                         "a kept message keeps its key")

    def test_a_message_with_an_audited_edit_is_never_dropped(self):
        edited = self._message("r5", "done", received_days_ago=400, final_days_ago=300,
                               edited=True)
        self._message("r5b", "done", received_days_ago=400, final_days_ago=300)
        self.assertEqual(self.maintain(), 1)
        self.assertTrue(edited.exists())
        self.assertEqual(edited.key, "r5", "same id, same row")

    def test_a_referenced_message_is_kept(self):
        referenced = self._message("r9", "done", received_days_ago=400, final_days_ago=300)
        self._message("r9b", "done", received_days_ago=400, final_days_ago=300)
        self.env["mfg.message.edit"].create({"message_id": referenced.id,
                                             "payload_text": "{}", "reason": "evidence"})
        self.assertEqual(self.maintain(), 1)
        self.assertTrue(referenced.exists())

    def test_cancelling_stamps_the_time_of_cancellation(self):
        self.Message.ingest([envelope("r6")])
        message = self.message("r6")
        message.sudo().received_at = self.now - timedelta(days=400)
        message.with_user(self.operator).action_cancel()
        self.assertEqual(message.state, "cancelled")
        self.assertGreaterEqual(message.cancelled_at, self.now)
        self.maintain()
        self.assertTrue(message.exists(), "cancelled today: kept for the retention period")

    def test_rows_without_final_stamp_fall_back_to_their_last_change(self):
        message = self._message("r7", "cancelled", received_days_ago=400, final_days_ago=1)
        self.env.flush_all()
        self.env.cr.execute("UPDATE mfg_message SET cancelled_at = NULL, write_date = %s "
                            "WHERE id = %s", (self.now - timedelta(days=1), message.id))
        self.assertEqual(self.maintain(), 0)
        self.env.cr.execute("UPDATE mfg_message SET write_date = %s WHERE id = %s",
                            (self.now - timedelta(days=60), message.id))
        self.assertEqual(self.Partition._maintain(), 1)

    def test_unfinished_messages_are_never_dropped(self):
        self.Message.ingest([envelope("r8")])
        message = self.message("r8")
        message.sudo().write({"state": "exception",
                              "received_at": self.now - timedelta(days=400)})
        self.env.flush_all()
        self.env.cr.execute("UPDATE mfg_message SET write_date = %s WHERE id = %s",
                            (self.now - timedelta(days=400), message.id))
        self.assertEqual(self.maintain(), 0)
        self.assertTrue(message.exists())
        message.with_user(self.operator).action_requeue()
        self.assertEqual(message.state, "received", "a kept row is an ordinary message")

    def test_a_partition_with_one_recent_reception_is_left_whole(self):
        old = self._message("r10", "done", received_days_ago=400, final_days_ago=300)
        self._message("r11", "done", received_days_ago=1, final_days_ago=1)
        self.assertEqual(self.maintain(), 0)
        self.assertTrue(old.exists())

    def test_the_partition_being_filled_is_never_touched(self):
        old = self._message("r12", "done", received_days_ago=400, final_days_ago=300)
        self.env.flush_all()
        self.assertEqual(self.Partition._maintain(), 0)
        self.assertTrue(old.exists())

    def test_the_chatter_of_dropped_messages_goes_with_them(self):
        gone = self._message("r13", "done", received_days_ago=400, final_days_ago=300)
        kept = self._message("r14", "done", received_days_ago=400, final_days_ago=300,
                             edited=True)
        (gone | kept).with_user(self.operator)._log_action("note")
        ids = (gone | kept).ids
        self.maintain()
        self.env.cr.execute("SELECT res_id FROM mail_message WHERE model = 'mfg.message' "
                            "AND res_id = ANY(%s)", (ids,))
        self.assertEqual({row[0] for row in self.env.cr.fetchall()}, {kept.id})

    def test_a_failure_half_way_leaves_the_partition_whole(self):
        done = self._message("r15", "done", received_days_ago=400, final_days_ago=300)
        table = self.partition_of(done)
        self.env.flush_all()
        partitioning.close_current(self.env.cr, WIDTH)
        with mock.patch.object(partitioning, "forget_keys", side_effect=RuntimeError("killed")), \
                self.assertRaises(RuntimeError):
            self.Partition._maintain()
        self.env.invalidate_all()
        self.assertTrue(done.exists())
        self.assertEqual(self.partition_of(done), table)
        self.assertEqual(self.Partition._maintain(), 1, "the next run does it")

    def test_a_long_reader_makes_the_retention_wait_for_the_next_run_not_queue(self):
        done = self._message("r17", "done", received_days_ago=400, final_days_ago=300)
        self.env.flush_all()
        partitioning.close_current(self.env.cr, WIDTH)
        with sql_db.db_connect(self.env.cr.dbname).cursor() as reader:
            reader.execute("SET lock_timeout = '10s'")
            reader.execute("LOCK TABLE ONLY mfg_message IN ACCESS SHARE MODE")
            with self.assertLogs("odoo.addons.mfg_integration.models.mfg_message_partition",
                                 "WARNING") as logs:
                self.assertEqual(self.Partition._maintain(), 0)
            reader.rollback()
        self.assertIn("retried at the next run", logs.output[0])
        self.assertTrue(done.exists())
        self.assertEqual(self.Partition._maintain(), 1)

    def test_one_maintenance_at_a_time(self):
        done = self._message("r18", "done", received_days_ago=400, final_days_ago=300)
        self.env.flush_all()
        partitioning.close_current(self.env.cr, WIDTH)
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other:
            other.execute("SELECT pg_advisory_lock(%s)", (MAINTENANCE_LOCK,))
            self.assertEqual(self.Partition._maintain(), 0)
            self.assertTrue(done.exists())
            other.execute("SELECT pg_advisory_unlock(%s)", (MAINTENANCE_LOCK,))
        self.assertEqual(self.Partition._maintain(), 1)

    def test_no_retention_keeps_everything(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "mfg_integration.done_retention_days", 0)
        done = self._message("r16", "done", received_days_ago=400, final_days_ago=300)
        self.assertEqual(self.maintain(), 0)
        self.assertTrue(done.exists())
