# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
from datetime import timedelta

from odoo import api, fields, models

RETENTION = timedelta(hours=24)


class MfgInboundIdempotency(models.Model):
    """The answer given to an inbound push that carried an ``Idempotency-Key``.

    A client that repeats the request with the same key and body (after a timeout, say)
    gets the stored answer back instead of a second ingest. Kept 24 hours.
    """

    _name = "mfg.inbound.idempotency"
    _description = "Stored answer of an inbound webhook call"
    _log_access = False

    connector_id = fields.Many2one("mfg.connector", required=True, ondelete="cascade",
                                   index=True)
    idempotency_key = fields.Char(required=True)
    body_sha256 = fields.Char(required=True)
    status_code = fields.Integer(required=True)
    response_body = fields.Text(required=True)
    created_at = fields.Datetime(required=True, default=fields.Datetime.now, index=True)

    _key_uniq = models.Constraint("UNIQUE(connector_id, idempotency_key)",
                                  "An idempotency key is stored once per connector.")

    @api.model
    def _lookup(self, connector_id, key):
        return self.sudo().search([
            ("connector_id", "=", connector_id), ("idempotency_key", "=", key),
            ("created_at", ">", fields.Datetime.now() - RETENTION)], limit=1)

    @api.model
    def _store(self, connector_id, key, body_sha256, status_code, answer):
        """Insert, or replace an expired answer; a concurrent first request wins."""
        now = fields.Datetime.now()
        self.env.cr.execute("""
            INSERT INTO mfg_inbound_idempotency
                (connector_id, idempotency_key, body_sha256, status_code, response_body,
                 created_at)
            VALUES (%(connector)s, %(key)s, %(sha)s, %(status)s, %(body)s, %(now)s)
            ON CONFLICT (connector_id, idempotency_key) DO UPDATE
               SET body_sha256 = EXCLUDED.body_sha256, status_code = EXCLUDED.status_code,
                   response_body = EXCLUDED.response_body, created_at = EXCLUDED.created_at
             WHERE mfg_inbound_idempotency.created_at <= %(expired)s
        """, {"connector": connector_id, "key": key, "sha": body_sha256, "status": status_code,
              "body": json.dumps(answer), "now": now, "expired": now - RETENTION})

    @api.model
    def _cron_purge(self):
        """Drop expired answers and old rate-limit windows."""
        self.env.cr.execute("DELETE FROM mfg_inbound_idempotency WHERE created_at <= %s",
                            (fields.Datetime.now() - RETENTION,))
        purged = self.env.cr.rowcount
        purged += self.env["mfg.inbound.rate.window"]._purge_old()
        return purged
