# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from odoo.addons.mfg_integration.services import access

# What a non-manager may change on a reconciliation line: mark it resolved.
OPERATOR_FIELDS = {"resolved"}


class MfgReconciliationLine(models.Model):
    """A difference between what Odoo knows of an order and what the shop floor reported."""

    _name = "mfg.reconciliation.line"
    _description = "MO / shop-floor reconciliation mismatch"
    _order = "checked_at desc, id desc"
    _check_company_auto = True

    production_id = fields.Many2one("mrp.production", required=True, ondelete="cascade",
                                    check_company=True,
                                    index=True)
    company_id = fields.Many2one(related="production_id.company_id", store=True)
    checked_at = fields.Datetime(required=True, default=fields.Datetime.now)
    odoo_state = fields.Char("Odoo state")
    odoo_qty = fields.Float("Odoo produced", digits="Product Unit")
    reported_qty = fields.Float("Shop floor good", digits="Product Unit")
    reported_final = fields.Boolean("Shop floor says complete")
    difference = fields.Float(digits="Product Unit")
    issue = fields.Char(required=True)
    resolved = fields.Boolean(default=False)

    def write(self, vals):
        if not self.env.su and not self.env.user.has_group(access.MANAGER):
            forbidden = set(vals) - OPERATOR_FIELDS
            if forbidden:
                raise AccessError(_("Only Integration Managers can change %s of a "
                                    "reconciliation line.", ", ".join(sorted(forbidden))))
        return super().write(vals)

    @api.model
    def _cron_reconcile(self):
        """Compare every order the shop floor reported on with Odoo's view of it."""
        productions = self.env["mrp.production"].search([
            ("mfg_last_report_at", "!=", False), ("state", "!=", "cancel")])
        self.search([("resolved", "=", False)]).write({"resolved": True})
        lines = []
        for production in productions:
            odoo_qty = production.qty_produced if production.state == "done" \
                else production.qty_producing
            issues = []
            if production.mfg_reported_final and production.state != "done":
                issues.append("shop floor reported completion, order is not done")
            if production.state == "done" and not production.mfg_reported_final:
                issues.append("order done in Odoo, shop floor never reported completion")
            if abs(production.mfg_reported_good_qty - odoo_qty) > 1e-6:
                issues.append("quantity differs")
            if issues:
                lines.append({
                    "production_id": production.id, "odoo_state": production.state,
                    "odoo_qty": odoo_qty, "reported_qty": production.mfg_reported_good_qty,
                    "reported_final": production.mfg_reported_final,
                    "difference": production.mfg_reported_good_qty - odoo_qty,
                    "issue": "; ".join(issues),
                })
        return self.create(lines)

    def action_open_messages(self):
        self.ensure_one()
        return self.production_id.action_view_mfg_messages()
