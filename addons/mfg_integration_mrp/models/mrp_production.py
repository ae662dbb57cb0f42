# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import order_payload

# Changes of these fields on a released order are sent to the MES again.
RELEASE_FIELDS = {"product_qty", "date_start", "date_finished", "bom_id", "product_id"}


class MrpProduction(models.Model):
    _inherit = "mrp.production"

    mfg_external_ref = fields.Char(
        "External order ref", index="btree_not_null", copy=False, tracking=True,
        help="Order number in the system that owns the order header (e.g. SAP).")
    mfg_source_connector_id = fields.Many2one(
        "mfg.connector", "Created by connector", readonly=True, copy=False, check_company=True)
    mfg_reported_good_qty = fields.Float("Good qty reported", readonly=True, copy=False,
                                         digits="Product Unit")
    mfg_reported_scrap_qty = fields.Float("Scrap qty reported", readonly=True, copy=False,
                                          digits="Product Unit")
    mfg_reported_final = fields.Boolean("Shop floor reported completion", readonly=True,
                                        copy=False)
    mfg_last_report_at = fields.Datetime("Last shop-floor report", readonly=True, copy=False)
    mfg_hold_ids = fields.One2many("mfg.quality.hold", "production_id", string="Quality holds")
    mfg_blocking_hold_count = fields.Integer(compute="_compute_mfg_blocking_hold_count")
    mfg_message_count = fields.Integer(compute="_compute_mfg_message_count")

    @api.depends("mfg_hold_ids.active")
    def _compute_mfg_blocking_hold_count(self):
        for production in self:
            production.mfg_blocking_hold_count = len(production._mfg_blocking_holds())

    def _compute_mfg_message_count(self):
        Message = self.env["mfg.message"]
        for production in self:
            production.mfg_message_count = Message.search_count(
                [("ordering_key", "in", production._mfg_order_refs())])

    def _mfg_order_refs(self):
        self.ensure_one()
        return [ref for ref in (self.name, self.mfg_external_ref) if ref]

    def _mfg_blocking_holds(self):
        self.ensure_one()
        lots = self.lot_producing_ids.mapped("name")
        return self.env["mfg.quality.hold"].sudo().search([
            ("active", "=", True), "|", ("production_id", "=", self.id),
            "&", ("lot_name", "!=", False), ("lot_name", "in", lots or [""])])

    # ----------------------------------------------------------- quality block
    def pre_button_mark_done(self):
        for production in self:
            holds = production._mfg_blocking_holds()
            if holds:
                raise UserError(_(
                    "%(mo)s cannot be completed: quality %(what)s must be released first "
                    "(%(reasons)s).", mo=production.name,
                    what=_("hold") if len(holds) == 1 else _("holds"),
                    reasons="; ".join(holds.mapped("display_name"))))
        return super().pre_button_mark_done()

    # ------------------------------------------------------ outbound release
    def action_confirm(self):
        result = super().action_confirm()
        self._mfg_publish("release")
        return result

    def action_cancel(self):
        result = super().action_cancel()
        self.filtered(lambda p: p.state == "cancel")._mfg_publish("cancel")
        return result

    def write(self, vals):
        result = super().write(vals)
        if RELEASE_FIELDS & set(vals) and not self.env.context.get("mfg_no_publish"):
            self.filtered(lambda p: p.state in ("confirmed", "progress", "to_close")
                          )._mfg_publish("update")
        return result

    def _mfg_publish(self, action):
        """Put a production.order message in the outbox of every subscribed connector.

        The connector a change came from is skipped (no circular updates), and so is a
        connector whose flow says the external system owns the order header.
        """
        if not self:
            return
        origin = self.env.context.get("mfg_origin_connector_id")
        flows = self.env["mfg.flow"].sudo().search([
            ("canonical_type", "=", "production.order"), ("direction", "=", "out"),
            ("company_id", "in", self.company_id.ids)])
        Message = self.env["mfg.message"].sudo()
        for production in self:
            for flow in flows.filtered(lambda f: f.company_id == production.company_id):
                connector = flow.connector_id
                if connector.id == origin:
                    continue
                if flow.source_of_truth == "external" and action != "release" \
                        and production.mfg_source_connector_id == connector:
                    continue
                payload = order_payload.build(production, connector, action)
                stamp = fields.Datetime.now().strftime("%Y%m%dT%H%M%S%f")
                Message.create_outbound(connector, "production.order", payload,
                                        key=f"{production.name}:{action}:{stamp}",
                                        correlation_id=production.name)

    # ------------------------------------------------------------ navigation
    def action_view_mfg_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mfg_integration.action_mfg_message")
        action["domain"] = [("ordering_key", "in", self._mfg_order_refs())]
        return action

    @api.model
    def _mfg_find_order(self, order_ref, company):
        """The MO a shop-floor message talks about: by name or by external reference."""
        return self.search([("company_id", "=", company.id), "|", ("name", "=", order_ref),
                            ("mfg_external_ref", "=", order_ref)], limit=1)
