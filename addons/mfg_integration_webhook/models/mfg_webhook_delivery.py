# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import logging
import uuid
from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import split_every

from odoo.addons.mfg_integration.exceptions import MfgSecretError
from odoo.addons.mfg_integration.services.backoff import DEAD, RetryPolicy
from odoo.addons.mfg_integration.states import STATES as MESSAGE_STATES

from ..services import webhook_http

_logger = logging.getLogger(__name__)

CHANNEL = "root.mfg.webhook"
# Deliveries sent by one queue job: small, so a slow receiver holds a worker briefly.
JOB_CHUNK = 50
# Messages evaluated against the subscriptions per query.
MATCH_CHUNK = 1000
RETRY_SLOT_S = 5
DELIVERY_STATES = [
    ("pending", "Pending"),
    ("done", "Delivered"),
    ("failed", "Failed (retry scheduled)"),
    ("dead", "Dead"),
    ("cancelled", "Cancelled"),
]
SENDABLE = ("pending", "failed")
REQUEUEABLE = ("failed", "dead", "cancelled")


class MfgWebhookDelivery(models.Model):
    """One POST of one message to one subscription, with its retries and their outcome.

    The body is frozen when the delivery is created, and ``delivery_uid`` (the
    X-Mfg-Delivery header) stays the same across retries, so a receiver can de-duplicate.
    The job signs whatever body is stored, so no interactive user (managers included) may
    create, write or delete deliveries: only the delivery code and the buttons (under
    sudo() on deliveries read with the user's rights) change them; deleting the
    subscription removes its deliveries.
    """

    _name = "mfg.webhook.delivery"
    _description = "Webhook delivery"
    _order = "id desc"
    # Rows are inserted in SQL with the subscription's plant; ORM writes (the job and the
    # buttons, as superuser) are checked against the subscription and the message.
    _check_company_auto = True

    subscription_id = fields.Many2one("mfg.webhook.subscription", required=True, readonly=True,
                                      index=True, ondelete="cascade", check_company=True)
    message_id = fields.Many2one("mfg.message", readonly=True, index="btree_not_null",
                                 ondelete="set null", check_company=True)
    company_id = fields.Many2one("res.company", string="Plant", required=True, readonly=True,
                                 index=True)
    canonical_type = fields.Char("Event", readonly=True)
    trigger_state = fields.Selection(MESSAGE_STATES, string="Message state", readonly=True)
    delivery_uid = fields.Char("Delivery id", required=True, readonly=True, index=True,
                               default=lambda self: uuid.uuid4().hex)
    target_url = fields.Char(related="subscription_id.target_url")
    body = fields.Text(readonly=True)
    state = fields.Selection(DELIVERY_STATES, required=True, default="pending", readonly=True,
                             index=True)
    attempts = fields.Integer(readonly=True, default=0)
    last_attempt_at = fields.Datetime(readonly=True)
    next_retry_at = fields.Datetime(readonly=True)
    delivered_at = fields.Datetime(readonly=True)
    response_status = fields.Integer("Response code", readonly=True)
    duration_ms = fields.Float("Duration (ms)", readonly=True, digits=(16, 1), aggregator="avg")
    response_excerpt = fields.Text(readonly=True)
    error = fields.Text(readonly=True)
    job_id = fields.Many2one("queue.job", readonly=True, copy=False, ondelete="set null",
                             string="Last job")

    _trigger_uniq = models.Constraint(
        "UNIQUE(subscription_id, message_id, trigger_state)",
        "A message is delivered once per subscription and state.")

    @api.depends("subscription_id", "canonical_type", "message_id")
    def _compute_display_name(self):
        for delivery in self:
            delivery.display_name = f"{delivery.subscription_id.name or ''}: " \
                f"{delivery.canonical_type or ''} {delivery.message_id.key or ''}".strip()

    # --------------------------------------------------------------- creation
    @api.model
    def _create_for_messages(self, message_ids):
        """Deliveries for messages that reached a trigger state; called before commit.

        Cost: per chunk of MATCH_CHUNK messages, one query per active subscription;
        rows are inserted in one statement per subscription and chunk.
        """
        subscriptions = self.env["mfg.webhook.subscription"].sudo().search([])
        created = []
        if subscriptions:
            for chunk in split_every(MATCH_CHUNK, sorted(message_ids)):
                for subscription in subscriptions:
                    messages = subscription._matching_messages(chunk)
                    if messages:
                        created.extend(self._insert_rows(subscription, messages))
        deliveries = self.sudo().browse(created)
        deliveries._enqueue()
        return deliveries

    @api.model
    def _insert_rows(self, subscription, messages):
        """INSERT ... ON CONFLICT DO NOTHING: a message reaching the same state again (or
        two transactions racing) never yields a second delivery of it."""
        bodies = [json.dumps(message.as_envelope(), separators=(",", ":"), sort_keys=True)
                  for message in messages]
        now = fields.Datetime.now()
        self.env.cr.execute("""
            INSERT INTO mfg_webhook_delivery
                (subscription_id, company_id, message_id, canonical_type, trigger_state,
                 delivery_uid, body, state, attempts, create_uid, write_uid, create_date,
                 write_date)
            SELECT %(sub)s, %(company)s, m, t, s, u, b, 'pending', 0, %(uid)s, %(uid)s,
                   %(now)s, %(now)s
              FROM unnest(%(ids)s::int[], %(types)s::varchar[], %(states)s::varchar[],
                          %(uids)s::varchar[], %(bodies)s::text[]) AS x(m, t, s, u, b)
            ON CONFLICT (subscription_id, message_id, trigger_state) DO NOTHING
            RETURNING id
        """, {
            "sub": subscription.id, "company": subscription.company_id.id,
            "uid": self.env.uid, "now": now, "ids": messages.ids,
            "types": messages.mapped("canonical_type"), "states": messages.mapped("state"),
            "uids": [uuid.uuid4().hex for _message in messages], "bodies": bodies,
        })
        return [row[0] for row in self.env.cr.fetchall()]

    def _enqueue(self, eta=None):
        """One queue job per JOB_CHUNK deliveries of one subscription."""
        by_subscription = defaultdict(list)
        for delivery in self:
            by_subscription[delivery.subscription_id].append(delivery.id)
        for subscription, ids in by_subscription.items():
            for chunk in split_every(JOB_CHUNK, ids, self.browse):
                chunk.with_delay(
                    channel=CHANNEL, eta=eta,
                    description=_("Deliver %(n)s webhook(s) to %(name)s", n=len(chunk),
                                  name=subscription.name),
                )._job_deliver()

    # ---------------------------------------------------------------- the job
    def _job_deliver(self):
        """Queue job: POST each delivery, record the outcome, schedule retries.

        After a timeout or connection error, the rest of this job's deliveries to the same
        subscription are not attempted now: they wait for the same retry time (no attempt
        consumed) instead of each waiting for the timeout again.
        """
        self = self.sudo()  # noqa: PLW0642 - runs as whoever enqueued; needs the secret
        now = fields.Datetime.now()
        job = self._current_job()
        deliveries = self.exists().filtered(lambda d: d.state in SENDABLE).sorted("id")
        if job:
            deliveries.write({"job_id": job.id})
        streaks = {}        # subscription -> [success seen, failures since]
        unreachable = {}    # subscription -> retry time of its failing delivery
        retries = self.browse()
        sent = 0
        for delivery in deliveries:
            subscription = delivery.subscription_id
            if not subscription.active:
                delivery.write({"state": "cancelled", "next_retry_at": False,
                                "error": _("Subscription %s is disabled.", subscription.name)})
                continue
            if delivery.state == "failed" and delivery.next_retry_at \
                    and delivery.next_retry_at > now:
                continue  # rescheduled since this job was queued; its own job sends it
            if subscription in unreachable:
                delivery.write({"state": "failed", "next_retry_at": unreachable[subscription],
                                "error": _("Not attempted: %s was unreachable in this run.",
                                           subscription.target_url)})
                retries |= delivery
                continue
            outcome = delivery._send()
            sent += 1
            streak = streaks.setdefault(subscription, [False, 0])
            if outcome.ok:
                streak[:] = [True, 0]
            else:
                streak[1] += 1
            delivery._record_outcome(outcome, now)
            if delivery.state == "failed":
                retries |= delivery
                if outcome.unreachable:
                    unreachable[subscription] = delivery.next_retry_at
        for subscription, (success_seen, failures) in streaks.items():
            subscription.sudo()._record_results(success_seen, failures)
        retries._enqueue_retries()
        return _("sent %(sent)s of %(n)s webhook delivery(ies)", sent=sent, n=len(deliveries))

    def _enqueue_retries(self):
        """One job per retry slot: due times are rounded up to RETRY_SLOT_S, so deliveries
        failing together (with jitter) share jobs instead of getting one each."""
        slots = defaultdict(lambda: self.browse())
        for delivery in self.filtered(lambda d: d.state == "failed" and d.next_retry_at):
            due = delivery.next_retry_at.replace(microsecond=0)
            slot = due + timedelta(seconds=-due.second % RETRY_SLOT_S)
            slots[slot] |= delivery
        for eta, group in slots.items():
            group._enqueue(eta=eta)

    def _current_job(self):
        job_uuid = self.env.context.get("job_uuid")
        if not job_uuid:
            return self.env["queue.job"]
        return self.env["queue.job"].sudo().search([("uuid", "=", job_uuid)], limit=1)

    def _send(self):
        self.ensure_one()
        subscription = self.subscription_id.sudo()
        body = (self.body or "").encode()
        try:
            secret = subscription._mfg_secret("secret")
        except MfgSecretError as exc:
            # counted as a failed attempt (then dead), never a job crashing in a loop
            return webhook_http.DeliveryOutcome(False, None, 0.0, "", str(exc), False)
        headers = webhook_http.build_headers(
            self.canonical_type or "", self.delivery_uid, secret, body,
            extra={"X-Mfg-Message-State": self.trigger_state or ""})
        return webhook_http.post(subscription.target_url, body, headers,
                                 subscription.timeout_s or 10.0)

    def _record_outcome(self, outcome, now):
        self.ensure_one()
        attempts = self.attempts + 1
        values = {
            "attempts": attempts, "last_attempt_at": now,
            "response_status": outcome.status or 0, "duration_ms": outcome.duration_ms,
            "response_excerpt": outcome.excerpt or False,
        }
        if outcome.ok:
            values.update(state="done", delivered_at=now, next_retry_at=False, error=False)
        else:
            # Every failed delivery is technical (the receiver can come back): the shared
            # policy decides retry or dead, as it does for messages.
            decision = RetryPolicy.of(self.subscription_id).decide(attempts)
            if decision.action == DEAD:
                values.update(state="dead", next_retry_at=False, error=outcome.error)
                _logger.warning("webhook delivery %s to %s dead after %s attempts: %s",
                                self.id, self.subscription_id.target_url, attempts,
                                outcome.error)
            else:
                values.update(state="failed", error=outcome.error,
                              next_retry_at=now + timedelta(seconds=decision.delay_s))
        self.write(values)

    # ------------------------------------------------------- operator actions
    def _check_operator(self):
        if not self.env.user.has_group("mfg_integration.group_mfg_operator"):
            raise AccessError(_("Only Integration Operators can retry or requeue webhook "
                                "deliveries."))

    def _check_subscriptions_active(self):
        inactive = self.subscription_id.filtered(lambda s: not s.active)
        if inactive:
            raise UserError(_("Re-activate subscription(s) %s first: deliveries of a disabled "
                              "subscription are not sent.", ", ".join(inactive.mapped("name"))))

    def action_retry_now(self):
        """Send failed or pending deliveries now, keeping their attempt count (Integration
        Operators; writes as superuser on deliveries read with the user's rights)."""
        self._check_operator()
        targets = self.filtered(lambda d: d.state in SENDABLE)
        if not targets:
            raise UserError(_("Only pending or failed deliveries can be retried now; use "
                              "Requeue for dead or cancelled ones."))
        targets._check_subscriptions_active()
        targets.sudo().write({"next_retry_at": fields.Datetime.now()})
        targets.sudo()._enqueue()
        return True

    def action_requeue(self):
        """Send again from scratch (attempts reset), e.g. after the receiver was fixed
        (Integration Operators)."""
        self._check_operator()
        targets = self.filtered(lambda d: d.state in REQUEUEABLE)
        if not targets:
            raise UserError(_("Only failed, dead or cancelled deliveries can be requeued."))
        targets._check_subscriptions_active()
        targets.sudo().write({"state": "pending", "attempts": 0, "next_retry_at": False,
                              "error": False})
        targets.sudo()._enqueue()
        return True

    def action_view_message(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "mfg.message",
                "res_id": self.message_id.id, "view_mode": "form"}
