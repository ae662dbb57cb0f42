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
        help="Done and cancelled messages finished longer ago than this are dropped with "
        "their partition of the message table (unfinished, edited and referenced ones are "
        "kept). 0 keeps them forever.",
    )
    mfg_partition_rows = fields.Integer(
        "Messages per partition",
        config_parameter="mfg_integration.partition_rows",
        default=1000000,
        help="Ids per new partition of the message table: aim for 20 to 40 partitions "
        "over the retention period (90 days: 2 to 4 days of messages each).",
    )
