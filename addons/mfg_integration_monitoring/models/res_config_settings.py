# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..controllers.metrics import TOKEN_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mfg_monitoring_failure_amber_pct = fields.Float(
        "Failure rate: amber from (%)", default=5.0,
        config_parameter="mfg_integration_monitoring.failure_amber_pct",
        help="A flow whose failure rate over the dashboard period reaches this is amber.")
    mfg_monitoring_failure_red_pct = fields.Float(
        "Failure rate: red from (%)", default=20.0,
        config_parameter="mfg_integration_monitoring.failure_red_pct",
        help="A flow whose failure rate over the dashboard period reaches this is red.")
    mfg_monitoring_alert_user_id = fields.Many2one(
        "res.users", string="Alert responsible",
        config_parameter="mfg_integration_monitoring.alert_user_id",
        domain=lambda self: [("all_group_ids", "in",
                              self.env.ref("mfg_integration.group_mfg_manager").id)],
        help="Integration Manager who gets the alert activities (dead-letter growth, stale "
        "queue). Empty: the first manager of the flow's plant. All managers are notified.")

    mfg_monitoring_metrics_enabled = fields.Boolean(
        "Prometheus metrics enabled", compute="_compute_mfg_monitoring_metrics_enabled")

    def _compute_mfg_monitoring_metrics_enabled(self):
        enabled = bool(self.env["ir.config_parameter"].sudo().get_param(TOKEN_PARAM))
        for settings in self:
            settings.mfg_monitoring_metrics_enabled = enabled

    def action_mfg_generate_metrics_token(self):
        return self.env["mfg.message.stats"].action_generate_metrics_token()

    def action_mfg_disable_metrics(self):
        return self.env["mfg.message.stats"].action_disable_metrics()

    @api.constrains("mfg_monitoring_failure_amber_pct", "mfg_monitoring_failure_red_pct")
    def _check_failure_thresholds(self):
        for settings in self:
            amber = settings.mfg_monitoring_failure_amber_pct
            red = settings.mfg_monitoring_failure_red_pct
            if not 0 <= amber <= red <= 100:
                raise ValidationError(_("Failure-rate thresholds must satisfy "
                                        "0 <= amber <= red <= 100 (%)."))
