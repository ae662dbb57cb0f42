# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class StockWarehouseOrderpoint(models.Model):
    _inherit = "stock.warehouse.orderpoint"

    mfg_forecast_managed = fields.Boolean(
        "Fed by demand forecasts", copy=False,
        help="Min/max are recomputed from the imported demand forecasts. Untick to set "
        "them by hand again (forecasts then leave this rule alone).")
