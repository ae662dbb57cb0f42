# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from odoo.addons.mfg_integration.models.mfg_connector import archive_removed_type

from .mfg_rest_endpoint import REST_TYPES


class MfgConnector(models.Model):
    _inherit = "mfg.connector"

    connector_type = fields.Selection(selection_add=[("mes_rest", "MES REST")],
                                      ondelete={"mes_rest": archive_removed_type})
    is_rest = fields.Boolean(compute="_compute_is_rest")
    rest_endpoint_ids = fields.One2many("mfg.rest.endpoint", "connector_id",
                                        string="REST endpoints")

    @api.depends("connector_type")
    def _compute_is_rest(self):
        for connector in self:
            connector.is_rest = connector.connector_type in REST_TYPES

    @api.model
    def _mfg_connection_tests(self):
        return {**super()._mfg_connection_tests(), "mes_rest": "_test_http_connection"}

    @api.model
    def _mfg_push_types(self):
        # A MES speaking REST also pushes its events (to /mfg/in/<code>, with the webhook
        # addon installed).
        return super()._mfg_push_types() | {"mes_rest"}
