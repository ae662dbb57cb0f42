# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re
import time

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..services import access
from ..services.transport import PeerRejected, TransportError, forget_oauth2_token, send_with_auth
from .mfg_secret_mixin import MANAGER

# Fields whose change invalidates a cached OAuth2 token.
CREDENTIAL_FIELDS = {"auth_method", "username", "password", "api_key", "client_id",
                     "client_secret", "token_url", "endpoint_url"}


def _secret(string=None, **kwargs):
    """The plaintext side of a secret (see mfg.secret.mixin): managers only, masked."""
    return fields.Char(string, compute="_compute_mfg_secrets", inverse="_inverse_mfg_secrets",
                       readonly=False, groups=MANAGER, **kwargs)

# The types the core implements itself: "edge" pushes through the JSON-2 ingest and
# edge_heartbeat (controllers/json2_ingest.py), "generic_rest" is the core's outbound POST
# of the signed envelope (mfg.message._mfg_send_envelope) and its GET connection test.
# Every other type is added by the addon implementing it, with selection_add and an entry
# in the registries (see registry.py and docs/extending.md).
CONNECTOR_TYPES = [
    ("edge", "Edge device"),
    ("generic_rest", "Generic REST"),
]
AUTH_METHODS = [
    ("none", "None"),
    ("basic", "Basic (user/password)"),
    ("api_key", "API key header"),
    ("bearer", "Bearer token"),
    ("oauth2_cc", "OAuth2 client credentials"),
    ("hmac", "HMAC signature"),
]
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def archive_removed_type(connectors):
    """``ondelete`` policy of the connector types added by addons: when the addon is
    uninstalled its connectors are archived (nothing is sent or accepted for them any
    more) and fall back to the core's type, instead of being deleted with their history."""
    connectors.write({"active": False, "connector_type": "generic_rest"})


class MfgConnector(models.Model):
    """An external system (or edge device) that exchanges canonical messages with Odoo.

    Its ``code`` is the ``source`` of every envelope it sends, so the code is what binds
    API users, mappings and flows to a system.
    """

    _name = "mfg.connector"
    _description = "Integration Connector"
    _inherit = ["mail.thread", "mail.activity.mixin", "mfg.secret.mixin"]
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Unique code; envelopes from this system carry it as their 'source'.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    connector_type = fields.Selection(
        CONNECTOR_TYPES, string="Type", required=True, default="generic_rest", tracking=True
    )
    company_id = fields.Many2one(
        "res.company",
        string="Plant",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
        help="Plant (company) whose data this connector exchanges.",
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        tracking=True,
        check_company=True,
        domain="[('company_id', '=', company_id)]",
        help="Optional warehouse when a plant has several.",
    )
    endpoint_url = fields.Char("Endpoint", tracking=True)
    timeout_s = fields.Float("Timeout (s)", default=10.0)
    message_format = fields.Selection(
        [("canonical", "Canonical envelope (JSON)"), ("b2mml_xml", "B2MML V0701 (XML)"),
         ("b2mml_json", "B2MML V0701 (B2MML-JSON)")],
        "Outbound format", default="canonical", required=True, tracking=True,
        help="What messages posted to this connector's endpoint look like. B2MML: orders as "
        "OperationsSchedule, confirmations as OperationsPerformance, lots as MaterialLot; a "
        "type without a B2MML form goes to exception with that reason.")
    verify_tls = fields.Boolean("Verify TLS", default=True, tracking=True)
    auth_method = fields.Selection(AUTH_METHODS, default="none", required=True, tracking=True)
    # Credentials: field-level groups keep them out of read/search_read/export for
    # everybody but Integration Managers; forms show them with the password widget.
    # Secrets are stored encrypted in the *_enc columns (mfg.secret.mixin); code reads
    # them with _mfg_secret().
    username = fields.Char(groups=MANAGER)
    password = _secret("Password")
    password_enc = fields.Char(groups=MANAGER)
    api_key = _secret("API key / token")
    api_key_enc = fields.Char(groups=MANAGER)
    client_id = fields.Char("OAuth2 client id", groups=MANAGER)
    client_secret = _secret("Client secret")
    client_secret_enc = fields.Char(groups=MANAGER)
    token_url = fields.Char("OAuth2 token URL", groups=MANAGER)
    hmac_secret = _secret("HMAC secret")
    hmac_secret_enc = fields.Char(groups=MANAGER)
    has_credentials = fields.Boolean(compute="_compute_has_credentials", compute_sudo=True)
    channel_id = fields.Many2one(
        "queue.job.channel",
        string="Job channel",
        readonly=True,
        copy=False,
        help="queue_job channel of this connector; its capacity is set in the Odoo "
        "configuration ([queue_job] channels = root:4,root.mfg.<code>:1).",
    )
    channel_name = fields.Char(related="channel_id.complete_name", string="Channel")
    rate_limit_per_min = fields.Integer(
        "Rate limit (msg/min)", default=0, tracking=True, help="0 = unlimited."
    )
    ingest_user_ids = fields.Many2many(
        "res.users",
        "mfg_connector_ingest_user_rel",
        "connector_id",
        "user_id",
        string="API users",
        help="Users allowed to submit envelopes with this connector's code as source.",
    )
    flow_ids = fields.One2many("mfg.flow", "connector_id", string="Flows")
    flow_count = fields.Integer(compute="_compute_counts")
    message_count = fields.Integer(compute="_compute_counts")
    dead_count = fields.Integer(compute="_compute_counts")
    last_test_result = fields.Text(readonly=True, copy=False)
    last_test_ok = fields.Boolean(readonly=True, copy=False)
    last_test_at = fields.Datetime(readonly=True, copy=False)
    # Edge devices report in through edge_heartbeat().
    last_seen_at = fields.Datetime(readonly=True, copy=False)
    remote_version = fields.Char(readonly=True, copy=False)
    remote_buffer_depth = fields.Integer(readonly=True, copy=False)
    remote_oldest_pending = fields.Char(readonly=True, copy=False)
    remote_rejected_count = fields.Integer(readonly=True, copy=False)
    note = fields.Html()

    _code_uniq = models.Constraint("UNIQUE(code)", "The connector code must be unique.")

    @api.constrains("code")
    def _check_code(self):
        for connector in self:
            if not CODE_PATTERN.match(connector.code or ""):
                raise ValidationError(
                    _("Connector code %(code)r may only contain letters, digits, '_', '.', '-' "
                      "(max 64 characters).", code=connector.code)
                )

    def _compute_has_credentials(self):
        for connector in self:
            connector.has_credentials = bool(
                connector.password_enc or connector.api_key_enc or connector.client_secret_enc
                or connector.hmac_secret_enc
            )

    def _compute_counts(self):
        Message = self.env["mfg.message"]
        totals = dict(Message._read_group([("connector_id", "in", self.ids)],
                                          ["connector_id"], ["__count"]))
        dead = dict(Message._read_group([("connector_id", "in", self.ids), ("state", "=", "dead")],
                                        ["connector_id"], ["__count"]))
        for connector in self:
            connector.flow_count = len(connector.flow_ids)
            connector.message_count = totals.get(connector, 0)
            connector.dead_count = dead.get(connector, 0)

    # ---------------------------------------------------------------- channels
    def _channel_leaf_name(self):
        self.ensure_one()
        return re.sub(r"[^a-z0-9_]", "_", self.code.lower())

    def _ensure_channel(self):
        parent = self.env.ref("mfg_integration.channel_mfg")
        Channel = self.env["queue.job.channel"].sudo()
        for connector in self:
            name = connector._channel_leaf_name()
            channel = Channel.search([("name", "=", name), ("parent_id", "=", parent.id)], limit=1)
            if not channel:
                channel = Channel.create({"name": name, "parent_id": parent.id})
            if connector.channel_id != channel:
                connector.sudo().channel_id = channel

    @api.model_create_multi
    def create(self, vals_list):
        connectors = super().create(vals_list)
        access.ensure_companies_allowed(self.env, connectors.company_id, _("A connector"))
        connectors._ensure_channel()
        return connectors

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals:
            access.ensure_companies_allowed(self.env, self.company_id, _("A connector"))
        if "code" in vals:
            self._ensure_channel()
        if CREDENTIAL_FIELDS & set(vals):
            for connector in self:
                forget_oauth2_token(connector)
        return result

    # ---------------------------------------------------------- test connection
    def action_test_connection(self):
        """Call the connector's endpoint with its credentials (Integration Managers)."""
        self.ensure_one()
        if not self.env.user.has_group("mfg_integration.group_mfg_manager"):
            raise AccessError(_("Only Integration Managers can test connections."))
        # The id comes from the caller: a connector of another plant must not be contacted
        # with its credentials on his behalf.
        self.check_access("write")
        ok, result = self.sudo()._test_connection()
        self.sudo().write({
            "last_test_ok": ok,
            "last_test_result": result,
            "last_test_at": fields.Datetime.now(),
        })
        self.message_post(body=_("Connection test: %s", result))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Connection OK") if ok else _("Connection failed"),
                "message": result,
                "type": "success" if ok else "danger",
                "sticky": not ok,
            },
        }

    @api.model
    def _mfg_connection_tests(self):
        """{connector type: name of the method testing a connector of that type, returning
        (ok, human readable result)}; the addon adding a type extends this (super())."""
        return {"edge": "_test_inbound_connection", "generic_rest": "_test_http_connection"}

    @api.model
    def _mfg_push_types(self):
        """Connector types whose peers push messages to Odoo over HTTP (the inbound
        endpoint of mfg_integration_webhook refuses a push to any other type with a 403:
        e.g. SAP connectors are polled or called by Odoo). The addon adding a type that
        pushes extends this set (``super()._mfg_push_types() | {"my_type"}``)."""
        return frozenset({"edge", "generic_rest"})

    def _test_connection(self):
        """Return (ok, human readable result), by the test registered for the type."""
        method = self._mfg_connection_tests().get(self.connector_type)
        if not method:
            return False, _("No transport for type %s is installed.", self.connector_type)
        return getattr(self, method)()

    def _test_inbound_connection(self):
        """Connectors that push to Odoo: they need an API user; tell when last seen."""
        if not self.ingest_user_ids:
            return False, _("No API user is bound to this connector: it cannot push messages.")
        seen = self.last_seen_at and fields.Datetime.to_string(self.last_seen_at)
        return True, _("Inbound connector with %(n)s API user(s); last seen: %(seen)s",
                       n=len(self.ingest_user_ids), seen=seen or _("never"))

    def _test_http_connection(self):
        """A GET of the endpoint with the connector's credentials."""
        if not self.endpoint_url:
            return False, _("No endpoint URL configured.")
        started = time.monotonic()
        try:
            response = send_with_auth(self, "GET", self.endpoint_url)
        except (PeerRejected, UserError) as exc:
            # a redirect to another host, a refused token request, an unreadable secret
            return False, exc.args[0] if exc.args else str(exc)
        except TransportError as exc:
            return False, _("%(url)s unreachable: %(error)s", url=self.endpoint_url, error=exc)
        elapsed_ms = (time.monotonic() - started) * 1000
        ok = response.status_code < 400
        return ok, _("HTTP %(status)s from %(url)s in %(ms).0f ms",
                     status=response.status_code, url=self.endpoint_url, ms=elapsed_ms)

    # ---------------------------------------------------------------- heartbeat
    @api.model
    def edge_heartbeat(self, code, version=None, buffer_depth=0, oldest_pending=None,
                       rejected_count=0):
        """Called by edge bridges: records that the device is alive and its buffer state."""
        connector = self.sudo().search([("code", "=", code)], limit=1)
        if not connector:
            raise UserError(_("Unknown connector code %r", code))
        self.env["mfg.message"]._check_ingest_rights(connector)
        connector.write({
            "last_seen_at": fields.Datetime.now(),
            "remote_version": version,
            "remote_buffer_depth": int(buffer_depth or 0),
            "remote_oldest_pending": oldest_pending or False,
            "remote_rejected_count": int(rejected_count or 0),
        })
        return {"ok": True, "connector": connector.code}

    # ---------------------------------------------------------------- actions
    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mfg_integration.action_mfg_message")
        action["domain"] = [("connector_id", "=", self.id)]
        action["context"] = {"default_connector_id": self.id}
        return action

    def action_view_dead(self):
        action = self.action_view_messages()
        action["domain"] = [("connector_id", "=", self.id), ("state", "=", "dead")]
        return action

    def action_view_flows(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mfg_integration.action_mfg_flow")
        action["domain"] = [("connector_id", "=", self.id)]
        action["context"] = {"default_connector_id": self.id}
        return action
