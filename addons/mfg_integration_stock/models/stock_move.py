# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

from ..services import stock_events


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_done(self, cancel_backorder=False):
        """Validated stock documents go out to the connectors that book them too
        (services/stock_events): receipts, deliveries, internal transfers, adjustments."""
        done = super()._action_done(cancel_backorder=cancel_backorder)
        stock_events.publish_done_moves(done)
        # A receipt prepared from another plant's shipment notice closes its transfer.
        received = done.picking_id.filtered(lambda p: p.state == "done")
        if received:
            self.env["mfg.interplant.transfer"].sudo().search([
                ("picking_id", "in", received.ids), ("state", "=", "in_transit")])._mfg_close()
        return done
