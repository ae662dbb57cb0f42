# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models

DEFAULT_LATE_HOURS = 48


class MfgInterplantTransfer(models.Model):
    """A shipment another plant announced (shipment.notice), its receipt here and the
    difference between them: the reconciliation of goods in transit between plants."""

    _name = "mfg.interplant.transfer"
    _description = "Transfer between plants"
    _inherit = ["mail.thread"]
    _order = "shipped_at desc, id desc"
    _check_company_auto = True

    name = fields.Char("Shipment", required=True, readonly=True)
    connector_id = fields.Many2one("mfg.connector", "From", required=True, readonly=True,
                                   check_company=True, index=True)
    company_id = fields.Many2one("res.company", "Plant", required=True, readonly=True,
                                 index=True)
    picking_id = fields.Many2one("stock.picking", "Receipt", readonly=True, check_company=True)
    message_id = fields.Many2one("mfg.message", "Notice", readonly=True)
    shipped_at = fields.Datetime(readonly=True)
    received_at = fields.Datetime(readonly=True)
    state = fields.Selection([("in_transit", "In transit"), ("received", "Received"),
                              ("mismatch", "Received with differences")],
                             default="in_transit", required=True, readonly=True,
                             tracking=True, index=True)
    shipped_lines = fields.Json(readonly=True)
    difference = fields.Text(readonly=True)
    is_late = fields.Boolean("Late", readonly=True, index=True,
                             help="Still in transit after the configured number of hours "
                             "(mfg_integration_stock.transit_alert_hours, default 48).")

    _shipment_uniq = models.Constraint("unique(connector_id, name)",
                                       "A shipment is announced once per sending plant.")

    def _mfg_close(self):
        """The receipt was validated: compare it with the notice, per product and lot."""
        for transfer in self:
            shipped = {(line["product_id"], line.get("lot") or ""): line["qty"]
                       for line in transfer.shipped_lines or []}
            received = {}
            for line in transfer.picking_id.move_line_ids.filtered(lambda ml: ml.picked):
                key = (line.product_id.id, line.lot_id.name or "")
                received[key] = received.get(key, 0.0) + line.quantity
            names = self.env["product.product"].browse({key[0] for key in shipped | received})
            names = {product.id: product.display_name for product in names}
            differences = [
                self.env._("%(product)s%(lot)s: shipped %(shipped)s, received %(received)s",
                           product=names.get(key[0], key[0]),
                           lot=f" lot {key[1]}" if key[1] else "",
                           shipped=shipped.get(key, 0.0), received=received.get(key, 0.0))
                for key in sorted(set(shipped) | set(received), key=str)
                if abs(shipped.get(key, 0.0) - received.get(key, 0.0)) > 1e-6]
            transfer.write({"state": "mismatch" if differences else "received",
                            "difference": "\n".join(differences) or False,
                            "received_at": fields.Datetime.now(), "is_late": False})

    @api.model
    def _cron_flag_late(self):
        """Flag the transfers still in transit after the configured delay."""
        hours = float(self.env["ir.config_parameter"].sudo().get_param(
            "mfg_integration_stock.transit_alert_hours", DEFAULT_LATE_HOURS) or
            DEFAULT_LATE_HOURS)
        limit = fields.Datetime.now() - timedelta(hours=hours)
        transit = self.sudo().search([("state", "=", "in_transit")])
        late = transit.filtered(lambda t: t.shipped_at and t.shipped_at < limit)
        late.filtered(lambda t: not t.is_late).is_late = True
        (transit - late).filtered("is_late").is_late = False
        return len(late)
