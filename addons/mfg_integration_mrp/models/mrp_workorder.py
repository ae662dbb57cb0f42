# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class MrpWorkorder(models.Model):
    _inherit = "mrp.workorder"

    def _mfg_apply_event(self, event):
        """A shop-floor event reported before the quantities of a confirmation: start or
        resume, or pause, as the operator's buttons would. No work order: nothing to do."""
        if not self:
            return
        if event in ("start", "resume") and self.state not in ("done", "progress"):
            self.button_start()
        elif event == "pause" and self.state == "progress":
            self.button_pending()

    def _mfg_apply_completion(self):
        """The shop floor completed the operation (after its quantities are recorded)."""
        if self and self.state != "done":
            self.button_finish()
