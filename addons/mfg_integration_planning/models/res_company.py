# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    mfg_forecast_shift_pct = fields.Float(
        "Demand shift threshold (%)", default=20.0,
        help="A forecast that changes by more than this versus the previous forecast of the "
        "same product and period is a demand shift: material availability is re-checked "
        "and the planner gets an activity.")
    mfg_forecast_review_days = fields.Integer(
        "Forecast review period (days)", default=7,
        help="Reordering rules fed by forecasts: max = min + forecast demand over this "
        "period after the lead time.")
    mfg_planner_user_id = fields.Many2one(
        "res.users", "Demand planner",
        help="Receives the activities of demand shifts (default: the product's responsible).")
