# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mfg_ingest_max_batch = fields.Integer(
        "Max envelopes per ingest call",
        config_parameter="mfg_integration.ingest_max_batch",
        default=50000,
    )
    mfg_done_retention_days = fields.Integer(
        "Keep done messages (days)",
        config_parameter="mfg_integration.done_retention_days",
        default=90,
        help="Done and cancelled messages older than this are deleted by a daily job. "
        "0 keeps them forever.",
    )
