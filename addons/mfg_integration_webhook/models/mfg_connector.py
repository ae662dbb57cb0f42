# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

# Connector types that may push to /mfg/in/<code>; SAP connectors are polled or called
# by Odoo, so a push claiming to be one is refused (403).
INBOUND_TYPES = ("webhook_in", "mes_rest", "generic_rest", "edge")


class MfgConnector(models.Model):
    _inherit = "mfg.connector"

    inbound_auth = fields.Selection(
        [("api_key", "API key"), ("hmac", "HMAC signature"),
         ("api_key_hmac", "API key and HMAC signature")],
        string="Inbound authentication", default="api_key", required=True, tracking=True,
        help="How pushes to /mfg/in/<code> authenticate. API key: 'Authorization: Bearer "
        "<key>' or 'X-Api-Key'. HMAC: X-Mfg-Timestamp (Unix seconds, at most 5 minutes "
        "old) and X-Mfg-Signature: sha256=HMAC-SHA256(HMAC secret, '<timestamp>.<body>'). "
        "With 'API key', a signature that is sent is checked too.")
    inbound_api_key = fields.Char(
        "Inbound API key", groups="mfg_integration.group_mfg_manager",
        compute="_compute_mfg_secrets", inverse="_inverse_mfg_secrets", readonly=False,
        help="Key expected on /mfg/in/<code>; empty = the connector's API key / token.")
    inbound_api_key_enc = fields.Char(groups="mfg_integration.group_mfg_manager", copy=False)
    inbound_path = fields.Char("Inbound endpoint", compute="_compute_inbound_path")

    @api.depends("code")
    def _compute_inbound_path(self):
        for connector in self:
            connector.inbound_path = f"/mfg/in/{connector.code}" if connector.code else False

    def _inbound_expected_key(self):
        """Key the endpoint compares against (read with sudo: credentials)."""
        self.ensure_one()
        return self._mfg_secret("inbound_api_key") or self._mfg_secret("api_key") or ""

    def _inbound_hmac_secret(self):
        self.ensure_one()
        return self._mfg_secret("hmac_secret") or ""

    def _inbound_ingest_env_user(self):
        """User the pushed messages are stored as: the first bound API user, so create_uid
        says which machine account the push belongs to; OdooBot when none is bound."""
        self.ensure_one()
        return self.ingest_user_ids.filtered("active")[:1] or self.env.ref("base.user_root")

    def _inbound_accepts_pushes(self):
        self.ensure_one()
        return self.active and self.connector_type in INBOUND_TYPES
