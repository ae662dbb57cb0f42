# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
import time

import psycopg2

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..services import access, partitioning

_logger = logging.getLogger(__name__)

INT4_MAX = 2**31 - 1
MAINTENANCE_LOCK = 0x6D66676D61696E  # "mfgmain": the advisory lock of the maintenance
# Records of the chatter and attachments of a message, deleted with it: (table, model column).
_THREAD_TABLES = (("mail_message", "model"), ("mail_followers", "res_model"),
                  ("mail_activity", "res_model"))


class MfgMessagePartition(models.Model):
    """One PostgreSQL partition of the message table, as the maintenance last saw it.

    The database catalog is the truth (services/partitioning.py); these records show it to
    managers: which id range, which days, how many rows, how big, what the retention did.
    Written only by the maintenance (cron ``Integration: maintain message partitions``).
    """

    _name = "mfg.message.partition"
    _description = "Message table partition"
    _order = "id_from desc"

    name = fields.Char("Table", required=True, readonly=True)
    id_from = fields.Integer("First id", readonly=True)
    id_to = fields.Integer("Last id", readonly=True, help="Last id of the range (inclusive).")
    state = fields.Selection([
        ("ready", "Ready"),
        ("filling", "Filling"),
        ("closed", "Closed"),
        ("expired", "Expired (kept rows only)"),
        ("overflow", "Overflow (default partition)"),
    ], readonly=True, required=True, default="ready")
    received_from = fields.Datetime("First received", readonly=True)
    received_to = fields.Datetime("Last received", readonly=True)
    row_estimate = fields.Integer("Rows (estimate)", readonly=True,
                                  help="PostgreSQL's estimate after its last ANALYZE.")
    size_mb = fields.Float("Size (MB)", readonly=True, digits=(16, 1),
                           help="Table, indexes and TOAST.")
    kept_count = fields.Integer("Kept at expiry", readonly=True,
                                help="Rows the retention kept: unfinished, edited, still "
                                     "referenced or finished within the retention period.")
    expired_at = fields.Datetime("Expired on", readonly=True)

    # ----------------------------------------------------------------- maintenance
    @api.model
    def _cron_maintain(self):
        return self._maintain(commit=True)

    def action_maintain_now(self):
        """Run the maintenance now (Integration Managers), e.g. after changing the width."""
        access.ensure_group(self.env, access.MANAGER, _("maintain the message partitions"))
        _logger.info("message partition maintenance requested by %s", self.env.user.login)
        self.sudo()._maintain(commit=False)
        return True

    @api.model
    def _maintain(self, commit=False):
        """Partitions ready ahead, overflow rows moved, expired partitions compacted, their keys
        and chatter forgotten; each partition in its own transaction when ``commit``.

        Returns the number of messages dropped. One maintenance at a time (the cron and the
        button could otherwise create the same partition twice): a session lock, released
        at the end whatever happens; a second run meanwhile does nothing."""
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_lock(%s)", (MAINTENANCE_LOCK,))
        if not cr.fetchone()[0]:
            _logger.info("message partitions: another maintenance is running, skipped")
            return 0
        try:
            return self._maintain_locked(commit)
        finally:
            cr.execute("SELECT pg_advisory_unlock(%s)", (MAINTENANCE_LOCK,))

    def _maintain_locked(self, commit):
        width = self.env["mfg.message"]._partition_width()
        self._in_step(lambda: partitioning.ensure_headroom(self.env.cr, width), commit)
        dropped = 0
        limit = self._retention_limit()
        if limit:
            closed_below = partitioning.next_id(self.env.cr)
            for part in partitioning.partitions(self.env.cr):
                if part.id_to > closed_below:
                    break
                dropped += self._in_step(lambda part=part: self._expire(part, limit), commit) or 0
        self._in_step(self._sync_from_database, commit)
        return dropped

    def _in_step(self, step, commit):
        """Run ``step`` in a savepoint (in its own transaction when ``commit``); a lock not
        obtained in time is retried at the next run instead of failing the others."""
        try:
            with self.env.cr.savepoint():
                result = step()
        except psycopg2.errors.LockNotAvailable:
            _logger.warning("message partitions: lock not obtained, retried at the next run")
            return None
        if commit:
            # The cron's own transaction: each partition is done (or not) on its own.
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return result

    @api.model
    def _retention_limit(self):
        try:
            days = int(self.env["ir.config_parameter"].sudo().get_param(
                "mfg_integration.done_retention_days", 90) or 0)
        except ValueError:
            days = 90
        if days <= 0:
            return None
        return fields.Datetime.subtract(fields.Datetime.now(), days=days)

    @api.model
    def _expire(self, part, limit):
        """Compact ``part`` when everything in it was received before ``limit``.

        Kept (same ids, same rows): unfinished messages, audited edits (evidence), messages
        another record points at, and messages that reached their final state within the
        retention period (it counts from done/cancelled, not from reception)."""
        cr = self.env.cr
        first, last, has_rows = partitioning.received_span(cr, part)
        if not has_rows or last >= limit:
            return 0
        self.env.flush_all()
        cr.execute(SQL("""
            SELECT id FROM %(part)s
             WHERE state NOT IN ('done', 'cancelled') OR edited
                OR COALESCE(CASE WHEN state = 'done' THEN done_at ELSE cancelled_at END,
                            write_date) >= %(limit)s
        """, part=SQL.identifier(part.name), limit=limit))
        keep = {row[0] for row in cr.fetchall()}
        keep |= self.env["mfg.message"]._referenced_ids_between(part.id_from, part.id_to)
        cr.execute(SQL("SELECT count(*) FROM %s", SQL.identifier(part.name)))
        rows = cr.fetchone()[0]
        if len(keep) >= rows:
            return 0
        started = time.monotonic()
        dropped = partitioning.compact(cr, part, keep, rows)
        compacted = time.monotonic()
        keys = partitioning.forget_keys(cr, part, keep)
        self._forget_threads(part)
        _logger.info("partition %s expired: %s messages dropped (%.1f s), %s kept, %s keys "
                     "forgotten (%.1f s)", part.name, dropped, compacted - started, len(keep),
                     keys, time.monotonic() - compacted)
        self.env.invalidate_all()
        record = self.search([("name", "=", part.name)], limit=1) or self.create({
            "name": part.name, "id_from": part.id_from, "id_to": min(part.id_to - 1, INT4_MAX)})
        record.write({"state": "expired", "kept_count": len(keep),
                      "expired_at": fields.Datetime.now()})
        return dropped

    @api.model
    def _forget_threads(self, part):
        """Chatter, followers, activities and attachments of the messages dropped."""
        cr = self.env.cr
        gone = SQL("res_id >= %s AND res_id < %s AND NOT EXISTS "
                   "(SELECT 1 FROM mfg_message m WHERE m.id = res_id)", part.id_from, part.id_to)
        for table, model_column in _THREAD_TABLES:
            cr.execute(SQL("DELETE FROM %s WHERE %s = 'mfg.message' AND %s",
                           SQL.identifier(table), SQL.identifier(model_column), gone))
        cr.execute(SQL("SELECT id FROM ir_attachment WHERE res_model = 'mfg.message' AND %s",
                       gone))
        attachments = [row[0] for row in cr.fetchall()]
        if attachments:
            self.env["ir.attachment"].sudo().browse(attachments).unlink()

    # -------------------------------------------------------------------- display
    @api.model
    def _sync_from_database(self):
        cr = self.env.cr
        next_id = partitioning.next_id(cr)
        seen = set()
        parts = partitioning.partitions(cr) + [
            partitioning.Partition(partitioning.DEFAULT_PARTITION, None, None)]
        for part in parts:
            seen.add(part.name)
            first, last, _has_rows = partitioning.received_span(cr, part)
            cr.execute("SELECT c.reltuples, pg_total_relation_size(c.oid) FROM pg_class c "
                       "WHERE c.relname = %s", (part.name,))
            tuples, size = cr.fetchone()
            values = {
                "received_from": first, "received_to": last,
                "row_estimate": max(int(tuples), 0), "size_mb": size / 1048576.0,
                "id_from": min(part.id_from, INT4_MAX) if part.id_from is not None else False,
                "id_to": min(part.id_to - 1, INT4_MAX) if part.id_to is not None else False,
            }
            record = self.search([("name", "=", part.name)], limit=1)
            state = self._state_of(part, next_id, record)
            values["state"] = state
            if record:
                record.write(values)
            else:
                self.create(dict(values, name=part.name))
        self.search([("name", "not in", list(seen))]).unlink()

    @api.model
    def _state_of(self, part, next_id, record):
        if part.id_from is None:
            return "overflow"
        if record.state == "expired":
            return "expired"
        if part.id_to <= next_id:
            return "closed"
        return "filling" if part.id_from < next_id else "ready"
