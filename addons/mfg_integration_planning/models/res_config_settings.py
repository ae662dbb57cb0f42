# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mfg_forecast_shift_pct = fields.Float(related="company_id.mfg_forecast_shift_pct",
                                          readonly=False)
    mfg_forecast_review_days = fields.Integer(related="company_id.mfg_forecast_review_days",
                                              readonly=False)
    mfg_planner_user_id = fields.Many2one(related="company_id.mfg_planner_user_id",
                                          readonly=False)
