# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

ODOO_REMOTE = "odoo_remote"
ODOO_LOCAL = "odoo_local"


class MfgConnector(models.Model):
    _inherit = "mfg.connector"

    connector_type = fields.Selection(
        selection_add=[(ODOO_REMOTE, "Odoo (remote, JSON-2)"),
                       (ODOO_LOCAL, "Odoo plant in this database")],
        ondelete={ODOO_REMOTE: "set default", ODOO_LOCAL: "set default"})
    mfg_target_source = fields.Char(
        "Known there as", tracking=True,
        help="Odoo to Odoo: the code of the connector that stands for this plant on the "
        "receiving side; the envelopes are sent with it as their source.")
    mfg_odoo_database = fields.Char(
        "Remote database", tracking=True,
        help="Odoo (remote): the database name (X-Odoo-Database), when the server hosts "
        "several. Authentication: Bearer token = an API key of the remote ingest user.")
    mfg_plant_partner_id = fields.Many2one(
        "res.partner", "Receiving plant (partner)", tracking=True,
        help="Deliveries to this partner are announced to this connector as "
        "shipment.notice (an outbound flow of that type is needed).")
