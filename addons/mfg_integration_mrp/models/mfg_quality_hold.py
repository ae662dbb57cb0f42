# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models

from odoo.addons.mfg_integration.services import access


class MfgQualityHold(models.Model):
    """A reason not to complete a manufacturing order: a quality hold placed by the quality
    system, or a failed inspection result. Active holds block "Produce all" / completion
    and keep an activity open for the quality team until released."""

    _name = "mfg.quality.hold"
    _description = "Quality hold on a manufacturing order or lot"
    _inherit = ["mail.thread"]
    _order = "active desc, create_date desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    kind = fields.Selection([("hold", "Quality hold"), ("failed_result", "Failed inspection")],
                            required=True, default="hold", tracking=True)
    production_id = fields.Many2one("mrp.production", index=True, ondelete="cascade",
                                    tracking=True, check_company=True)
    lot_name = fields.Char("Lot", index="btree_not_null", tracking=True)
    characteristic = fields.Char(tracking=True)
    reason = fields.Char(tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    released_at = fields.Datetime(readonly=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda s: s.env.company)
    message_id_origin = fields.Many2one("mfg.message", "Placed by message", readonly=True,
                                        check_company=True)

    @api.depends("kind", "characteristic", "reason", "production_id", "lot_name")
    def _compute_name(self):
        for hold in self:
            target = hold.production_id.name or hold.lot_name or ""
            what = hold.characteristic if hold.kind == "failed_result" else hold.reason
            hold.name = f"{target}: {what or _('quality hold')}"

    def _quality_users(self):
        group = self.env.ref("mrp.group_mrp_manager", raise_if_not_found=False)
        users = group.user_ids.filtered(lambda u: not u.share) if group else self.env.user
        return users[:1] or self.env.ref("base.user_admin")

    @api.model_create_multi
    def create(self, vals_list):
        holds = super().create(vals_list)
        for hold in holds.filtered("production_id"):
            hold.production_id.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_("Quality: %s", hold.name),
                note=_("Completion of %s is blocked until this quality hold is released.",
                       hold.production_id.name),
                user_id=hold._quality_users().id,
            )
        return holds

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals:
            # The record rule only saw the plant before the write.
            access.ensure_companies_allowed(self.env, self.company_id, _("A quality hold"))
        return result

    def action_release(self):
        """Release the holds, close their activities and retry what they blocked.

        Integration Operators and MRP managers. Operators have no write access on holds
        (so they cannot repoint one to another order or plant): the release is written as
        superuser on holds read with the user's rights.
        """
        if not self.env.user.has_group("mrp.group_mrp_manager"):
            access.ensure_group(self.env, access.OPERATOR, _("release quality holds"))
        self.check_access("read")
        open_holds = self.filtered("active")
        open_holds.sudo().write({"active": False, "released_at": fields.Datetime.now()})
        # Operators need not be MRP users: the order side runs as superuser too (still in
        # the operator's name: sudo() keeps the user).
        for hold in open_holds.sudo().filtered("production_id"):
            production = hold.production_id
            if not production._mfg_blocking_holds():
                prefix = self.env._("Quality:")
                production.activity_ids.filtered(
                    lambda a, prefix=prefix: (a.summary or "").startswith(prefix)).action_feedback(
                        feedback=_("Quality hold released"))
                blocked = self.env["mfg.message"].sudo().search([
                    ("state", "=", "exception"), ("canonical_type", "=", "production.confirmation"),
                    ("ordering_key", "in", production._mfg_order_refs()),
                    ("last_error", "ilike", "quality")])
                if blocked:
                    blocked._reset_for_processing()
                    blocked._enqueue_processing(force_now=True)
        return True

    # ------------------------------------------------- shop-floor messages
    @api.model
    def _mfg_apply_quality_result(self, message):
        """Test results of an order or lot: a failed one holds it, a pass releases the
        hold of that characteristic."""
        production, lot = message._mfg_hold_target()
        results = [self._mfg_apply_test_result(message, production, lot, test)
                   for test in message._mfg_payload()["test_results"]]
        holds = self.browse().union(*[r for r in results if not isinstance(r, str)])
        return holds or "; ".join(r for r in results if isinstance(r, str))

    @api.model
    def _mfg_apply_test_result(self, message, production, lot, test):
        Hold = self.sudo().with_context(active_test=False)
        domain = [("kind", "=", "failed_result"),
                  ("characteristic", "=", test["characteristic"]),
                  ("production_id", "=", production.id or False), ("lot_name", "=", lot or False)]
        existing = Hold.search(domain + [("active", "=", True)])
        if test["result"] == "pass":
            existing.action_release()
            return existing or self.env._("%s passed", test["characteristic"])
        if existing:
            return existing
        return Hold.create({
            "kind": "failed_result", "production_id": production.id or False, "lot_name": lot,
            "characteristic": test["characteristic"],
            "reason": test.get("reason_code") or str(test.get("value") or ""),
            "company_id": message.company_id.id, "message_id_origin": message.id,
        })

    @api.model
    def _mfg_apply_quality_hold(self, message):
        """The quality system restricts an order or lot (a hold, or its update) or lifts
        the restriction (disposition UnRestricted: release)."""
        payload = message._mfg_payload()
        production, lot = message._mfg_hold_target()
        Hold = self.sudo()
        existing = Hold.search([("kind", "=", "hold"),
                                ("production_id", "=", production.id or False),
                                ("lot_name", "=", lot or False)])
        if payload["disposition"] != "Restricted":
            existing.action_release()
            return existing or self.env._("No active hold to release")
        if existing:
            existing.reason = payload.get("reason") or existing.reason
            return existing
        return Hold.create({
            "kind": "hold", "production_id": production.id or False, "lot_name": lot,
            "reason": payload.get("reason"), "company_id": message.company_id.id,
            "message_id_origin": message.id,
        })
