# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import ast
import secrets
from datetime import timedelta
from urllib.parse import urlparse

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.fields import Domain

from odoo.addons.mfg_integration.services import access
from odoo.addons.mfg_integration.services.backoff import RetryPolicy

# Message states a subscription can be triggered by, with the flag field of each.
TRIGGER_FIELDS = {
    "done": "trigger_on_done",
    "exception": "trigger_on_exception",
    "failed": "trigger_on_failed",
    "dead": "trigger_on_dead",
    "cancelled": "trigger_on_cancelled",
}
# Changing these changes which message writes are worth buffering (see mfg.message.write).
_CACHE_FIELDS = {"active", *TRIGGER_FIELDS.values()}


def _new_secret(_records=None):
    return secrets.token_urlsafe(32)


class MfgWebhookSubscription(models.Model):
    """An external URL that wants to hear about integration messages.

    When a message of the subscription's plant reaches one of its trigger states and
    matches its event types and domain, one ``mfg.webhook.delivery`` is created and sent,
    signed with the secret, on queue_job. Too many failures in a row disable it and alert
    the Integration Managers.
    """

    _name = "mfg.webhook.subscription"
    _description = "Webhook subscription"
    _inherit = ["mail.thread", "mail.activity.mixin", "mfg.secret.mixin"]
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", string="Plant", required=True, tracking=True,
                                 default=lambda self: self.env.company, index=True)
    event_type_ids = fields.Many2many(
        "mfg.webhook.event.type", string="Event types",
        help="Canonical message types to send; empty = every type.")
    message_domain = fields.Char(
        "Message filter", default="[]", tracking=True,
        help="Only messages matching this domain are sent.")
    trigger_on_done = fields.Boolean("Done", default=True, tracking=True)
    trigger_on_exception = fields.Boolean("Exception", tracking=True)
    trigger_on_failed = fields.Boolean("Failed (retry scheduled)", tracking=True)
    trigger_on_dead = fields.Boolean("Dead letter", tracking=True)
    trigger_on_cancelled = fields.Boolean("Cancelled", tracking=True)
    target_url = fields.Char("Target URL", required=True, tracking=True)
    # Stored encrypted in secret_enc (mfg.secret.mixin); code reads _mfg_secret("secret").
    secret = fields.Char(
        required=True, default=_new_secret, copy=False,
        groups="mfg_integration.group_mfg_manager",
        compute="_compute_mfg_secrets", inverse="_inverse_mfg_secrets", readonly=False,
        help="Deliveries carry X-Mfg-Signature: sha256=HMAC-SHA256(secret, "
        "'<X-Mfg-Timestamp>.<body>').")
    secret_enc = fields.Char(groups="mfg_integration.group_mfg_manager", copy=False)
    timeout_s = fields.Float("Timeout (s)", default=10.0, tracking=True)
    max_attempts = fields.Integer(default=5, required=True, tracking=True,
                                  help="Attempts before a delivery is dead.")
    backoff_base_s = fields.Float("Backoff base (s)", default=10.0, tracking=True)
    backoff_factor = fields.Float(default=2.0, tracking=True)
    backoff_cap_s = fields.Float("Backoff cap (s)", default=3600.0, tracking=True)
    backoff_jitter = fields.Boolean("Jitter", default=True, tracking=True)
    max_consecutive_failures = fields.Integer(
        "Disable after failures", default=10, required=True, tracking=True,
        help="Failed attempts in a row (any delivery) after which the subscription is "
        "disabled and the Integration Managers are alerted. 0 = never.")
    consecutive_failures = fields.Integer(readonly=True, copy=False, default=0)
    last_success_at = fields.Datetime(readonly=True, copy=False)
    last_failure_at = fields.Datetime(readonly=True, copy=False)
    disabled_at = fields.Datetime("Auto-disabled at", readonly=True, copy=False)
    disabled_reason = fields.Text(readonly=True, copy=False)
    delivery_ids = fields.One2many("mfg.webhook.delivery", "subscription_id")
    delivery_count = fields.Integer(compute="_compute_delivery_counts")
    dead_delivery_count = fields.Integer(compute="_compute_delivery_counts")

    @api.constrains("target_url")
    def _check_target_url(self):
        for subscription in self:
            parsed = urlparse(subscription.target_url or "")
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ValidationError(_("Target URL %s must be an http:// or https:// URL.",
                                        subscription.target_url))

    @api.constrains("max_attempts", "max_consecutive_failures", "timeout_s", "backoff_base_s",
                    "backoff_factor", "backoff_cap_s")
    def _check_numbers(self):
        for subscription in self:
            if subscription.max_attempts < 1 or subscription.max_consecutive_failures < 0 \
                    or subscription.timeout_s <= 0 or subscription.backoff_base_s < 0 \
                    or subscription.backoff_factor < 1 or subscription.backoff_cap_s < 0:
                raise ValidationError(_(
                    "Check the numbers of %s: at least 1 attempt, a positive timeout, "
                    "backoff factor >= 1, no negative delays or failure counts.",
                    subscription.name))

    @api.constrains("message_domain")
    def _check_message_domain(self):
        for subscription in self:
            domain = subscription._parsed_domain()
            try:
                self.env["mfg.message"].sudo()._search(domain)
            except Exception as exc:  # noqa: BLE001 - any bad leaf: say which domain
                raise ValidationError(_("Message filter %(domain)s is not valid: %(error)s",
                                        domain=subscription.message_domain, error=exc)) from exc

    def _parsed_domain(self):
        self.ensure_one()
        try:
            domain = ast.literal_eval(self.message_domain or "[]")
        except (ValueError, SyntaxError) as exc:
            raise ValidationError(_("Message filter %(domain)s is not a literal domain: %(error)s",
                                    domain=self.message_domain, error=exc)) from exc
        if not isinstance(domain, list):
            raise ValidationError(
                _("Message filter must be a list, e.g. [('source', '=', 'MES1')]."))
        return domain

    def _compute_delivery_counts(self):
        Delivery = self.env["mfg.webhook.delivery"]
        totals = dict(Delivery._read_group([("subscription_id", "in", self.ids)],
                                           ["subscription_id"], ["__count"]))
        dead = dict(Delivery._read_group([("subscription_id", "in", self.ids),
                                          ("state", "=", "dead")],
                                         ["subscription_id"], ["__count"]))
        for subscription in self:
            subscription.delivery_count = totals.get(subscription, 0)
            subscription.dead_delivery_count = dead.get(subscription, 0)

    # ------------------------------------------------------------- triggering
    @api.model_create_multi
    def create(self, vals_list):
        # The secret is a computed field (stored encrypted): its default is not applied by
        # the ORM, so a subscription created without one gets a fresh one here.
        vals_list = [vals if vals.get("secret") else dict(vals, secret=_new_secret())
                     for vals in vals_list]
        subscriptions = super().create(vals_list)
        # A subscription sends every matching message of its plant to its URL.
        access.ensure_companies_allowed(self.env, subscriptions.company_id,
                                        _("A webhook subscription"))
        self.env.registry.clear_cache()
        return subscriptions

    def write(self, vals):
        if vals.get("active"):
            # Re-enabled by a person: start counting failures afresh.
            vals = dict(vals, consecutive_failures=0, disabled_at=False, disabled_reason=False)
        result = super().write(vals)
        if "company_id" in vals:
            access.ensure_companies_allowed(self.env, self.company_id,
                                            _("A webhook subscription"))
        if _CACHE_FIELDS & set(vals):
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    @api.model
    @tools.ormcache()
    def _active_trigger_states(self):
        """Message states any active subscription listens to (cached per worker).

        mfg.message.write consults this on every state change, so it must cost a dict
        lookup, not a query; with no subscription it is empty and nothing is buffered.
        """
        columns = ", ".join(f"bool_or({column})" for column in TRIGGER_FIELDS.values())
        # columns come from the constant TRIGGER_FIELDS, never from input.
        self.env.cr.execute(f"SELECT {columns} FROM mfg_webhook_subscription WHERE active")  # pylint: disable=sql-injection
        flags = self.env.cr.fetchone() or ()
        return frozenset(state for state, flag in zip(TRIGGER_FIELDS, flags, strict=False) if flag)

    def _trigger_states(self):
        self.ensure_one()
        return [state for state, column in TRIGGER_FIELDS.items() if self[column]]

    def _matching_messages(self, message_ids):
        """Messages among ``message_ids`` this subscription must send: one query."""
        self.ensure_one()
        states = self._trigger_states()
        if not states:
            return self.env["mfg.message"]
        domain = [("id", "in", list(message_ids)), ("state", "in", states),
                  ("company_id", "=", self.company_id.id)]
        if self.event_type_ids:
            domain.append(("canonical_type", "in", self.event_type_ids.mapped("name")))
        domain = Domain.AND([Domain(domain), Domain(self._parsed_domain())])
        return self.env["mfg.message"].sudo().search(domain, order="id")

    def _retry_delay(self, attempt):
        self.ensure_one()
        return timedelta(seconds=RetryPolicy.of(self).delay_seconds(attempt))

    # ------------------------------------------------------------ health
    def _record_results(self, success_seen, trailing_failures):
        """Update the failure streak after a delivery job, atomically in SQL.

        Concurrent jobs of one subscription only add to the counter; a success in this
        job restarts it at the failures that followed that success.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        self.env.cr.execute("""
            UPDATE mfg_webhook_subscription
               SET consecutive_failures = CASE WHEN %(reset)s THEN %(trailing)s
                                          ELSE COALESCE(consecutive_failures, 0) + %(trailing)s END,
                   last_success_at = CASE WHEN %(reset)s THEN %(now)s ELSE last_success_at END,
                   last_failure_at = CASE WHEN %(trailing)s > 0 THEN %(now)s
                                     ELSE last_failure_at END
             WHERE id = %(id)s
         RETURNING consecutive_failures
        """, {"reset": success_seen, "trailing": trailing_failures, "now": now, "id": self.id})
        streak = self.env.cr.fetchone()[0]
        self.invalidate_recordset(["consecutive_failures", "last_success_at", "last_failure_at"])
        if self.active and self.max_consecutive_failures and \
                streak >= self.max_consecutive_failures:
            self._auto_disable(streak)

    def _integration_managers(self):
        group = self.env.ref("mfg_integration.group_mfg_manager")
        return group.all_user_ids.filtered(
            lambda user: user.active and not user.share and self.company_id in user.company_ids)

    def _auto_disable(self, streak):
        self.ensure_one()
        reason = _("Disabled automatically after %(n)s consecutive failed deliveries to "
                   "%(url)s. Fix the receiver, then re-activate the subscription and requeue "
                   "its dead deliveries.", n=streak, url=self.target_url)
        self.write({"active": False, "disabled_at": fields.Datetime.now(),
                    "disabled_reason": reason})
        managers = self._integration_managers()
        self.message_post(body=reason, subject=_("Webhook subscription %s disabled", self.name),
                          partner_ids=managers.partner_id.ids, message_type="comment",
                          subtype_xmlid="mail.mt_comment")
        for manager in managers:
            self.activity_schedule("mail.mail_activity_data_todo", user_id=manager.id,
                                   summary=_("Webhook %s disabled", self.name), note=reason)

    # ------------------------------------------------------------- actions
    def action_view_deliveries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mfg_integration_webhook.action_mfg_webhook_delivery")
        action["domain"] = [("subscription_id", "=", self.id)]
        action["context"] = {"search_default_subscription_id": self.id}
        return action

    def action_view_dead_deliveries(self):
        action = self.action_view_deliveries()
        action["domain"] = [("subscription_id", "=", self.id), ("state", "=", "dead")]
        return action
