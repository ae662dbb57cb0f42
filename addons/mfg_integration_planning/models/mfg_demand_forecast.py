# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.services import access

from ..services import replenishment


class MfgDemandForecast(models.Model):
    """Accepted forecast quantity of a product for a period at a stock location.

    One record per (product, location, period): a newer forecast for the same period
    replaces the quantity and keeps the previous one, which is what a demand shift is
    measured against. Forecasts feed a reordering rule per product and location (see
    services/replenishment.py for the min/max formula).
    """

    _name = "mfg.demand.forecast"
    _description = "Demand Forecast"
    _inherit = ["mail.thread"]
    _order = "date_start, product_id"
    _check_company_auto = True

    product_id = fields.Many2one("product.product", required=True, index=True, readonly=True,
                                 check_company=True)
    product_tmpl_id = fields.Many2one(related="product_id.product_tmpl_id")
    uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    company_id = fields.Many2one("res.company", string="Plant", required=True, readonly=True,
                                 index=True)
    warehouse_id = fields.Many2one("stock.warehouse", required=True, readonly=True,
                                   check_company=True)
    location_id = fields.Many2one("stock.location", required=True, readonly=True,
                                  check_company=True)
    date_start = fields.Date("Period start", required=True, readonly=True)
    date_end = fields.Date("Period end", required=True, readonly=True)
    qty = fields.Float("Forecast", digits="Product Unit", readonly=True, tracking=True)
    previous_qty = fields.Float("Previous forecast", digits="Product Unit", readonly=True)
    shift_pct = fields.Float("Change (%)", readonly=True, aggregator=False,
                             help="Change versus the previous forecast of this period.")
    demand_shift = fields.Boolean(readonly=True,
                                  help="The last change exceeded the plant's threshold.")
    source_message_id = fields.Many2one("mfg.message", string="Source message", readonly=True,
                                        ondelete="set null", check_company=True)
    orderpoint_id = fields.Many2one("stock.warehouse.orderpoint", string="Reordering rule",
                                    readonly=True, ondelete="set null", check_company=True)

    _period_uniq = models.Constraint(
        "UNIQUE(company_id, product_id, location_id, date_start, date_end)",
        "There is one forecast per product, location and period.")

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals:
            # The record rule only saw the plant before the write.
            access.ensure_companies_allowed(self.env, self.company_id, _("A forecast"))
        return result

    @api.depends("product_id", "date_start", "date_end")
    def _compute_display_name(self):
        for forecast in self:
            forecast.display_name = f"{forecast.product_id.display_name} " \
                f"{forecast.date_start} - {forecast.date_end}"

    # ------------------------------------------------------------------ apply
    @api.model
    def _apply_message(self, message):
        """Inbound handler of demand.forecast (mapping already resolved by the core)."""
        values, payload = message.mapped_values or {}, message.payload or {}
        product = self.env["product.product"].browse(values["product"]).exists()
        uom = self.env["uom.uom"].browse(values["uom"]).exists()
        if not product or not uom:
            raise MfgBusinessError(_("The mapped product or unit no longer exists."))
        company = message.company_id
        location, warehouse = self._stock_location(message, values.get("location"))
        self._check_replenishable(product, company)
        start = date.fromisoformat(payload["period_start"])
        end = date.fromisoformat(payload["period_end"]) if payload.get("period_end") else start
        if end < start:
            raise MfgBusinessError(_("period_end %(end)s is before period_start %(start)s.",
                                     end=end, start=start))
        qty = uom._compute_quantity(float(payload["qty"]), product.uom_id, round=False)
        forecast = self.search([("company_id", "=", company.id),
                                ("product_id", "=", product.id),
                                ("location_id", "=", location.id),
                                ("date_start", "=", start), ("date_end", "=", end)])
        previous = forecast.qty if forecast else None
        shift = replenishment.shift_pct(previous, qty)
        is_shift = shift is not None and abs(shift) > company.mfg_forecast_shift_pct
        values = {"qty": qty, "source_message_id": message.id, "shift_pct": shift or 0.0,
                  "demand_shift": is_shift}
        if forecast:
            forecast.write(dict(values, previous_qty=previous))
        else:
            forecast = self.create(dict(values, product_id=product.id, company_id=company.id,
                                        warehouse_id=warehouse.id, location_id=location.id,
                                        date_start=start, date_end=end))
        forecast._update_orderpoint()
        if is_shift:
            forecast._on_demand_shift()
        return forecast

    @api.model
    def _stock_location(self, message, location_id):
        """(internal location, warehouse) the forecast applies to."""
        Warehouse = self.env["stock.warehouse"]
        location = self.env["stock.location"].browse(location_id).exists() if location_id \
            else self.env["stock.location"]
        if location:
            warehouse = location.warehouse_id
            if location.usage != "internal" or not warehouse:
                raise MfgBusinessError(_("Location %s is not an internal location of a "
                                         "warehouse: forecasts need a stock location.",
                                         location.display_name))
            return location, warehouse
        warehouse = message.connector_id.warehouse_id or Warehouse.search(
            [("company_id", "=", message.company_id.id)], limit=1)
        if not warehouse:
            raise MfgBusinessError(_("Plant %s has no warehouse.", message.company_id.name))
        return warehouse.lot_stock_id, warehouse

    @api.model
    def _check_replenishable(self, product, company):
        """Forecasts of items Odoo can neither make nor buy stop here, for a planner."""
        if self._bom(product, company) or self._sellers(product, company):
            return
        raise MfgBusinessError(_(
            "%(product)s has neither an active bill of materials nor a supplier: Odoo cannot "
            "replenish it, so the forecast is not used. Add a BoM or a vendor on the product, "
            "then requeue this message.", product=product.display_name))

    @api.model
    def _bom(self, product, company):
        return self.env["mrp.bom"]._bom_find(product, company_id=company.id)[product]

    @api.model
    def _sellers(self, product, company):
        return product.seller_ids.filtered(
            lambda s: (not s.product_id or s.product_id == product)
            and (not s.company_id or s.company_id == company))

    def _lead_days(self):
        """Manufactured: the BoM's manufacturing lead time plus days to prepare the MO;
        bought: the fastest vendor's delivery lead time. At least one day."""
        self.ensure_one()
        bom = self._bom(self.product_id, self.company_id)
        if bom:
            days = bom.produce_delay + bom.days_to_prepare_mo
        else:
            days = min(self._sellers(self.product_id, self.company_id).mapped("delay") or [0])
        return max(1, days)

    def _update_orderpoint(self):
        """Create or update the forecast-fed reordering rule of this product/location."""
        self.ensure_one()
        Orderpoint = self.env["stock.warehouse.orderpoint"].with_context(active_test=False)
        today = fields.Date.context_today(self)
        upcoming = self.search([("company_id", "=", self.company_id.id),
                                ("product_id", "=", self.product_id.id),
                                ("location_id", "=", self.location_id.id),
                                ("date_end", ">=", today)])
        low, high = replenishment.min_max(
            [(f.qty, f.date_start, f.date_end) for f in upcoming], today, self._lead_days(),
            self.company_id.mfg_forecast_review_days or 0)
        uom = self.product_id.uom_id
        values = {"product_min_qty": uom.round(low, rounding_method="UP"),
                  "product_max_qty": uom.round(high, rounding_method="UP")}
        orderpoint = Orderpoint.search([("product_id", "=", self.product_id.id),
                                        ("location_id", "=", self.location_id.id),
                                        ("company_id", "=", self.company_id.id)], limit=1)
        if orderpoint and not orderpoint.mfg_forecast_managed:
            # A rule a person maintains by hand is theirs: link it, never overwrite it.
            upcoming.orderpoint_id = orderpoint
            return orderpoint
        if orderpoint:
            orderpoint.write(dict(values, active=True))
        else:
            orderpoint = Orderpoint.create(dict(
                values, product_id=self.product_id.id, location_id=self.location_id.id,
                warehouse_id=self.warehouse_id.id, company_id=self.company_id.id,
                trigger="manual", mfg_forecast_managed=True))
        upcoming.orderpoint_id = orderpoint
        return orderpoint

    def _on_demand_shift(self):
        """Re-check material availability and tell the planner."""
        self.ensure_one()
        product = self.product_id
        productions = self.env["mrp.production"].search([
            ("company_id", "=", self.company_id.id), ("state", "in", ("confirmed", "progress")),
            ("reservation_state", "!=", "assigned"),
            "|", ("product_id", "=", product.id), ("move_raw_ids.product_id", "=", product.id)])
        if productions:
            try:
                productions.action_assign()
            except UserError:  # pylint: disable=except-pass
                pass  # nothing reservable now: the activity below still reaches the planner
        planner = self.company_id.mfg_planner_user_id or product.responsible_id \
            or self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user
        product.product_tmpl_id.activity_schedule(
            "mail.mail_activity_data_todo", user_id=planner.id,
            summary=_("Demand shift %(pct)+.0f%% for %(start)s - %(end)s", pct=self.shift_pct,
                      start=self.date_start, end=self.date_end),
            note=_("The forecast of %(product)s at %(location)s for %(start)s - %(end)s "
                   "changed from %(old)s to %(new)s %(uom)s. Reordering rule min/max: "
                   "%(min)s / %(max)s. Availability re-checked for %(n)s manufacturing "
                   "order(s).", product=product.display_name,
                   location=self.location_id.display_name, start=self.date_start,
                   end=self.date_end, old=self.previous_qty, new=self.qty,
                   uom=product.uom_id.name, min=self.orderpoint_id.product_min_qty,
                   max=self.orderpoint_id.product_max_qty, n=len(productions)))
