# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import time

from odoo import api, fields, models


class MfgInboundRateWindow(models.Model):
    """Envelopes accepted per connector and clock minute (fixed-window rate limit).

    One row per connector and minute, bumped with a conditional upsert in its own short
    transaction: every Odoo worker sees the count at once, and a refused or failing
    ingest still counts, so a client cannot hammer the endpoint by sending junk.
    """

    _name = "mfg.inbound.rate.window"
    _description = "Inbound webhook rate-limit window"
    _log_access = False

    connector_id = fields.Many2one("mfg.connector", required=True, ondelete="cascade")
    window_minute = fields.Integer(required=True, help="Unix time // 60")
    used = fields.Integer(required=True, default=0)

    _window_uniq = models.Constraint("UNIQUE(connector_id, window_minute)",
                                     "One counter per connector and minute.")

    @api.model
    def _consume(self, connector_id, limit, amount, now=None):
        """Take ``amount`` from this minute's budget; return (allowed, retry_after_s)."""
        now = time.time() if now is None else now
        minute = int(now // 60)
        retry_after = max(1, 60 - int(now % 60))
        if amount > limit:
            return False, retry_after
        with self.env.registry.cursor() as cr:
            cr.execute("""
                INSERT INTO mfg_inbound_rate_window AS w (connector_id, window_minute, used)
                VALUES (%s, %s, %s)
                ON CONFLICT (connector_id, window_minute)
                DO UPDATE SET used = w.used + EXCLUDED.used
                 WHERE w.used + EXCLUDED.used <= %s
                RETURNING used
            """, (connector_id, minute, amount, limit))
            allowed = cr.fetchone() is not None
        return allowed, retry_after

    @api.model
    def _spent(self, connector_id, limit, now=None):
        """(True when this minute's budget is used up, retry_after_s) - reads only."""
        now = time.time() if now is None else now
        retry_after = max(1, 60 - int(now % 60))
        with self.env.registry.cursor() as cr:
            cr.execute("SELECT used FROM mfg_inbound_rate_window "
                       "WHERE connector_id = %s AND window_minute = %s",
                       (connector_id, int(now // 60)))
            row = cr.fetchone()
        return bool(row and row[0] >= limit), retry_after

    @api.model
    def _purge_old(self):
        self.env.cr.execute("DELETE FROM mfg_inbound_rate_window WHERE window_minute < %s",
                            (int(time.time() // 60) - 60,))
        return self.env.cr.rowcount
