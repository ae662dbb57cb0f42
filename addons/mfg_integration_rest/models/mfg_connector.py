# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from .mfg_rest_endpoint import REST_TYPES


class MfgConnector(models.Model):
    _inherit = "mfg.connector"

    is_rest = fields.Boolean(compute="_compute_is_rest")
    rest_endpoint_ids = fields.One2many("mfg.rest.endpoint", "connector_id",
                                        string="REST endpoints")

    @api.depends("connector_type")
    def _compute_is_rest(self):
        for connector in self:
            connector.is_rest = connector.connector_type in REST_TYPES
