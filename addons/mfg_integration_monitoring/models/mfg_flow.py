# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from markupsafe import Markup

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from odoo.addons.mfg_integration.states import DEAD

from ..services.dashboard_sql import PENDING_STATES

_logger = logging.getLogger(__name__)

ALERT_ACTIVITY_TYPES = {
    "dead_letter": "mfg_integration_monitoring.mail_activity_type_dead_letter_growth",
    "stale_queue": "mfg_integration_monitoring.mail_activity_type_stale_queue",
}


class MfgFlow(models.Model):
    """Alerting on flows: dead-letter growth and stale queues reach Integration Managers
    as an activity (one open at a time per cause) and a message in the flow's chatter."""

    _name = "mfg.flow"
    _inherit = ["mfg.flow", "mail.activity.mixin"]

    stale_after_min = fields.Integer(
        "Stale after (min)", default=15, tracking=True,
        help="Alert Integration Managers when the oldest pending message of this flow has "
        "waited longer than this. 0 disables the stale-queue alert.")
    alert_dead_seen = fields.Integer(
        "Dead letters at last check", readonly=True, copy=False,
        help="Dead-letter count seen by the last alert check; more than this is growth.")

    @api.constrains("stale_after_min")
    def _check_stale_after_min(self):
        for flow in self:
            if flow.stale_after_min < 0:
                raise ValidationError(_("Stale after (min) must be 0 (off) or more."))

    # ----------------------------------------------------------------- cron
    @api.model
    def _cron_check_alerts(self):
        """Every few minutes: alert managers of flows whose dead letters grew since the
        last check or whose queue is stale. Returns {"dead_letter": n, "stale_queue": n}
        of alerts actually raised (deduplicated ones not counted)."""
        now = fields.Datetime.now()
        health = self._alert_health()
        raised = {"dead_letter": 0, "stale_queue": 0}
        flows = self.sudo().with_context(active_test=False).search(
            ["|", ("active", "=", True), ("alert_dead_seen", ">", 0)])
        for flow in flows:
            dead, oldest = health.get(flow.id, (0, None))
            if dead > flow.alert_dead_seen:
                raised["dead_letter"] += flow._raise_alert(
                    "dead_letter",
                    _("Dead letters growing on %s", flow.display_name),
                    _("The dead-letter queue of flow %(flow)s grew from %(before)s to %(now)s "
                      "message(s). Fix the cause, then requeue them.",
                      flow=flow.display_name, before=flow.alert_dead_seen, now=dead))
            if dead != flow.alert_dead_seen:
                flow.alert_dead_seen = dead
            if flow.active and flow.stale_after_min and oldest:
                waited_min = (now - oldest).total_seconds() / 60
                if waited_min > flow.stale_after_min:
                    raised["stale_queue"] += flow._raise_alert(
                        "stale_queue",
                        _("Stale queue on %s", flow.display_name),
                        _("The oldest pending message of flow %(flow)s has waited %(age)s "
                          "minutes (threshold %(limit)s). Check the connector and the queue "
                          "job runner.", flow=flow.display_name, age=int(waited_min),
                          limit=flow.stale_after_min))
        return raised

    @api.model
    def _alert_health(self):
        """{flow id: (dead-letter count, oldest pending received_at)} in one query over
        the state index (done messages are not read)."""
        self.env["mfg.message"].flush_model(["flow_id", "state", "received_at"])
        self.env.cr.execute(SQL(
            """SELECT flow_id,
                      COUNT(*) FILTER (WHERE state = 'dead'),
                      MIN(received_at) FILTER (WHERE state IN %(pending)s)
                 FROM mfg_message
                WHERE flow_id IS NOT NULL AND state IN %(states)s
             GROUP BY flow_id""",
            pending=PENDING_STATES, states=PENDING_STATES + (DEAD,)))
        return {flow_id: (dead, oldest) for flow_id, dead, oldest in self.env.cr.fetchall()}

    # ---------------------------------------------------------------- alerts
    def _alert_managers(self):
        """Integration Managers (people, not OdooBot) who can see this flow's plant."""
        self.ensure_one()
        group = self.env.ref("mfg_integration.group_mfg_manager")
        return self.env["res.users"].sudo().with_context(active_test=True).search([
            ("all_group_ids", "in", group.id), ("share", "=", False),
            ("id", "!=", SUPERUSER_ID),
            ("company_ids", "in", self.company_id.id)], order="id")

    def _alert_responsible(self, managers):
        """The user configured in Settings if they manage this plant, else the first manager."""
        param = self.env["ir.config_parameter"].sudo().get_param(
            "mfg_integration_monitoring.alert_user_id")
        configured = managers.filtered(lambda user: str(user.id) == (param or ""))
        return configured or managers[:1]

    def _raise_alert(self, kind, summary, text):
        """Schedule the activity and notify the managers, unless an activity of this kind
        is still open on the flow (the alert is already with someone). Returns 1 if
        raised, 0 if deduplicated or nobody can receive it."""
        self.ensure_one()
        activity_type = self.env.ref(ALERT_ACTIVITY_TYPES[kind])
        open_activity = self.env["mail.activity"].sudo().search_count([
            ("res_model", "=", self._name), ("res_id", "=", self.id),
            ("activity_type_id", "=", activity_type.id), ("active", "=", True)], limit=1)
        if open_activity:
            return 0
        managers = self._alert_managers()
        if not managers:
            _logger.warning("Integration alert on flow %s but no manager for plant %s: %s",
                            self.id, self.company_id.name, text)
            return 0
        self.sudo().activity_schedule(
            act_type_xmlid=ALERT_ACTIVITY_TYPES[kind], summary=summary, note=text,
            user_id=self._alert_responsible(managers).id)
        self.sudo().message_post(
            body=Markup("<p>%s</p>") % text, subject=summary,
            partner_ids=managers.partner_id.ids,
            author_id=self.env.ref("base.partner_root").id,
            message_type="comment", subtype_xmlid="mail.mt_comment")
        return 1
