# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.mfg_integration.exceptions import MfgBusinessError

from ..services import execution_events, field_ownership, order_payload
from ..services.shopfloor import (
    ACTUALS,
    CONSUMED_USES,
    EQUIPMENT,
    MAX_WIZARD_STEPS,
    PRODUCED,
    PRODUCED_USES,
    utc_naive,
)

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
        field_ownership.check_edit(self, vals)
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
            company = production.company_id
            for flow in flows.filtered(lambda f, company=company: f.company_id == company):
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

    # ------------------------------------------ outbound: what was booked
    def _post_inventory(self, cancel_backorder=False):
        """Completion books the order's consumption and receipt: they (and the finished
        operations) go to the connectors that book them too (services/execution_events)."""
        result = super()._post_inventory(cancel_backorder=cancel_backorder)
        execution_events.publish_completion(self)
        return result

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

    # --------------------------------------------------- shop floor: the order
    @api.model
    def _mfg_apply_production_order(self, message):
        """Create, update or cancel the MO of an order owned by an external system (SAP):
        an OperationsRequest whose Produced material requirement is the product and
        quantity to make; the verb (or the request state) says release, change or
        cancel."""
        envelope = message._mfg_envelope()
        order = envelope["payload"]
        order_ref = order["id"]
        Production = self.sudo().with_context(mfg_origin_connector_id=message.connector_id.id)
        production = Production._mfg_find_order(order_ref, message.company_id)
        if envelope.get("verb") == "Cancel" or order.get("request_state") == "Cancelled":
            if not production:
                raise MfgBusinessError(self.env._("Cannot cancel unknown order %s.", order_ref))
            if production.state not in ("done", "cancel"):
                production.action_cancel()
            return production
        produced = next((r for r in order["material_requirements"] if r["use"] == "Produced"),
                        None)
        if produced is None:
            raise MfgBusinessError(self.env._(
                "Order %s has no material requirement of use Produced (what to make).",
                order_ref))
        product_id = message._mfg_mapped(f"{PRODUCED}.material_definition_id.value")
        uom_id = message._mfg_uom_of(PRODUCED, produced["quantity"])
        quantity = produced["quantity"]["value"]
        if not production:
            production = Production.create({
                "product_id": product_id,
                "product_qty": quantity,
                "product_uom_id": uom_id,
                "company_id": message.company_id.id,
                "origin": order_ref,
                "mfg_external_ref": order_ref,
                "mfg_source_connector_id": message.connector_id.id,
                "date_start": utc_naive(order.get("earliest_start")) or fields.Datetime.now(),
            })
            production.action_confirm()
            return production
        if production.state in ("done", "cancel"):
            raise MfgBusinessError(self.env._(
                "Order %(ref)s is already %(state)s in Odoo; the update was not applied.",
                ref=order_ref, state=production.state))
        if production.product_id.id != product_id:
            raise MfgBusinessError(self.env._(
                "Order %s changes product: cancel it and release a new one.", order_ref))
        owned = field_ownership.external_fields(message.flow_id)
        ignored = []
        qty = message._mfg_qty_in_uom(quantity, production.product_uom_id, uom_id)
        if abs(qty - production.product_qty) > 1e-9 and "quantity" not in owned:
            ignored.append(self.env._("quantity %s", qty))
        elif abs(qty - production.product_qty) > 1e-9:
            if production.state == "draft":
                production.product_qty = qty
            else:
                wizard = self.env["change.production.qty"].sudo().create(
                    {"mo_id": production.id, "product_qty": qty})
                wizard.with_context(
                    mfg_origin_connector_id=message.connector_id.id).change_prod_qty()
        start = utc_naive(order.get("earliest_start"))
        if start and start != production.date_start and "start" not in owned:
            ignored.append(self.env._("start %s", start))
        elif start:
            production.with_context(mfg_no_publish=True).date_start = start
        if ignored:
            message._log_action(self.env._(
                "Not applied, owned by Odoo on flow %(flow)s: %(fields)s.",
                flow=message.flow_id.display_name, fields=", ".join(ignored)))
        return production

    def _split_productions(self, amounts=False, cancel_remaining_qty=False,
                           set_consumed_qty=False):
        # Splitting off a backorder is Odoo's own booking, not a user's edit of the quantity.
        return super(MrpProduction, self.with_context(mfg_internal_write=True)
                     )._split_productions(amounts, cancel_remaining_qty, set_consumed_qty)

    # ------------------------------------------- shop floor: confirmations
    def _mfg_workorder_for(self, message, segment):
        """The work order a segment response reports on: by its segment requirement (the
        operation), then by the work center of its equipment actual."""
        equipment = ((segment.get("equipment_actuals") or [{}])[0].get("equipment_id") or {})
        workcenter_id = message._mfg_mapped(EQUIPMENT, equipment.get("value")) \
            if equipment.get("value") else None
        operation = segment.get("segment_requirement_id")
        workorders = self.workorder_ids.filtered(lambda w: w.state not in ("cancel",))
        if operation:
            named = workorders.filtered(lambda w: w.name == operation)
            workorders = named or workorders
        if workcenter_id:
            workorders = workorders.filtered(lambda w: w.workcenter_id.id == workcenter_id)
        return workorders[:1]

    def _mfg_segment_quantities(self, message, segment, mapped=None):
        """(good, scrap) Produced in a segment response, in the MO's unit."""
        good = scrap = 0.0
        for actual in segment.get("material_actuals") or []:
            if actual["use"] not in PRODUCED_USES:
                continue
            kind = actual.get("quantity_kind") or "good"
            if kind == "rework":
                raise MfgBusinessError(self.env._(
                    "%s: rework quantities are not booked by Odoo; report them as good or "
                    "scrap.", self.name))
            qty = message._mfg_qty_in_uom(
                actual["quantity"]["value"], self.product_uom_id,
                message._mfg_uom_of(ACTUALS, actual["quantity"], mapped))
            if kind == "scrap":
                scrap += qty
            else:
                good += qty
        return good, scrap

    def _mfg_record_quantities(self, good, scrap, final):
        """Add reported good/scrap quantities (in the MO's unit) to the order, once."""
        self.sudo().write({
            "mfg_reported_good_qty": self.mfg_reported_good_qty + good,
            "mfg_reported_scrap_qty": self.mfg_reported_scrap_qty + scrap,
            "mfg_last_report_at": fields.Datetime.now(),
            "mfg_reported_final": self.mfg_reported_final or final,
        })
        if good:
            self.qty_producing = self.mfg_reported_good_qty if final \
                else min(self.mfg_reported_good_qty, self.product_qty)
            self._set_qty_producing()

    def _mfg_finish(self):
        """Mark done the way a user answering Odoo's wizards would: backorder for the rest
        when the picking type allows it, accept consumption differences unless the BOM is
        strict."""
        action = self.button_mark_done()
        for _step in range(MAX_WIZARD_STEPS):
            if not isinstance(action, dict) or self.state == "done":
                break
            model = action.get("res_model")
            context = dict(self.env.context, **(action.get("context") or {}))
            if model == "mrp.consumption.warning":
                if self.consumption == "strict":
                    raise MfgBusinessError(self.env._(
                        "%s: consumption differs from the bill of materials, which is strict; "
                        "correct the component quantities in Odoo.", self.name))
                wizard = self.env[model].with_context(**context).create({})
                action = wizard.action_confirm()
            elif model == "mrp.production.backorder":
                wizard = self.env[model].with_context(**context).create({})
                action = wizard.action_backorder()
            else:
                raise MfgBusinessError(self.env._(
                    "%(mo)s needs input in Odoo to be completed (%(what)s).",
                    mo=self.name, what=action.get("name") or model))

    def _mfg_apply_quantity_batch(self, messages, mapped):
        """Apply consecutive partial quantity confirmations of this order in one go.

        Recomputing the order's component quantities dominates the cost of a confirmation;
        a burst of N partial reports needs it once, not N times. Same end state as one by
        one. ``mapped``: {message id: mapped values}.
        """
        if self.state in ("cancel", "done", "draft"):
            raise MfgBusinessError("not batchable")  # the caller falls back to one by one
        good = scrap = 0.0
        for message in messages:
            for segment in message._mfg_payload()["segment_responses"]:
                segment_good, segment_scrap = self._mfg_segment_quantities(
                    message, segment, mapped.get(message.id))
                good, scrap = good + segment_good, scrap + segment_scrap
        self._mfg_record_quantities(good, scrap, False)
        return self

    def _mfg_apply_confirmation(self, message):
        """An OperationsResponse on this order. Per segment response: the work order takes
        its state (Running: started or resumed, Paused, Completed: finished), then its
        Produced quantities (good, scrap) and Consumed material are booked. A response
        state Completed completes the order (with backorder) unless a quality hold blocks
        it."""
        response = message._mfg_payload()
        if self.state in ("cancel", "done"):
            raise MfgBusinessError(self.env._(
                "Order %(mo)s is %(state)s: confirmation rejected.",
                mo=self.name, state=self.state))
        if self.state == "draft":
            self.action_confirm()
        final = response.get("response_state") == "Completed"
        workorders = self.env["mrp.workorder"]
        for segment in response["segment_responses"]:
            workorder = self._mfg_workorder_for(message, segment)
            event = self._mfg_segment_event(segment)
            workorder._mfg_apply_event(event)
            good, scrap = self._mfg_segment_quantities(message, segment)
            self._mfg_record_quantities(good, scrap, final)
            for actual in segment.get("material_actuals") or []:
                if actual["use"] in CONSUMED_USES:
                    self._mfg_consume(message, actual)
            if event == "complete":
                workorder._mfg_apply_completion()
            workorders |= workorder
        if final:
            if self.product_uom_id.is_zero(self.qty_producing):
                raise MfgBusinessError(self.env._(
                    "%s: final confirmation without any good quantity.", self.name))
            holds = self._mfg_blocking_holds()
            if holds:
                raise MfgBusinessError(self.env._(
                    "%(mo)s is blocked by quality: %(holds)s. The confirmation is applied "
                    "automatically when released.", mo=self.name,
                    holds="; ".join(holds.mapped("display_name"))))
            self._mfg_finish()
            backorders = self.search([
                ("production_group_id", "=", self.production_group_id.id),
                ("id", "!=", self.id), ("state", "not in", ("done", "cancel"))]) \
                if self.production_group_id else self.browse()
            return self | backorders
        return workorders or self

    @api.model
    def _mfg_segment_event(self, segment):
        """The operator's button a segment state stands for."""
        state = segment.get("segment_state")
        if state == "Completed":
            return "complete"
        if state in ("Paused", "Held", "Suspended"):
            return "pause"
        if state == "Aborted":
            raise MfgBusinessError(self.env._(
                "Segment %s was aborted: cancel or rework the work order in Odoo.",
                segment["id"]))
        if state == "Running" and (segment.get("actual_start")
                                   or not segment.get("material_actuals")):
            return "start"
        return "quantity"

    # ---------------------------------------------- shop floor: consumption
    def _mfg_apply_consumption(self, message):
        """Reported component consumption (material actuals of use Consumed, optionally
        of a lot) on this order."""
        if self.state in ("cancel", "done"):
            raise MfgBusinessError(self.env._(
                "Order %(mo)s is %(state)s: consumption rejected.",
                mo=self.name, state=self.state))
        moves = self.env["stock.move"]
        for segment in message._mfg_payload()["segment_responses"]:
            for actual in segment.get("material_actuals") or []:
                if actual["use"] not in CONSUMED_USES:
                    raise MfgBusinessError(self.env._(
                        "A material.consumption reports material of use %s; only consumed "
                        "material is booked here.", actual["use"]))
                moves |= self._mfg_consume(message, actual)
        return moves

    def _mfg_consume(self, message, actual):
        """One material actual consumed by this order: on its component line (added when
        the BOM has none), on the reported lot."""
        code = (actual.get("material_definition_id") or {}).get("value")
        product_id = message._mfg_mapped(f"{ACTUALS}.material_definition_id.value", code)
        if not product_id:
            raise MfgBusinessError(self.env._("Consumed material without a known product."))
        uom_id = message._mfg_uom_of(ACTUALS, actual["quantity"])
        product = message.env["product.product"].browse(product_id)
        move = self.move_raw_ids.filtered(
            lambda m: m.product_id == product and m.state not in ("done", "cancel"))[:1]
        if not move:
            # Not in the BOM: a user would add the component line on the MO.
            self.move_raw_ids = [(0, 0, {
                "product_id": product.id,
                "product_uom_qty": 0.0,
                "product_uom": uom_id or product.uom_id.id,
                "location_id": self.location_src_id.id,
                "location_dest_id": self.production_location_id.id,
            })]
            move = self.move_raw_ids.filtered(lambda m: m.product_id == product)[-1:]
            move._action_confirm()
        qty = message._mfg_qty_in_uom(actual["quantity"]["value"], move.product_uom, uom_id)
        lot_name = actual.get("lot_id")
        if lot_name:
            lot = message.env["stock.lot"].search([("name", "=", lot_name),
                                                   ("product_id", "=", product.id)], limit=1)
            if not lot:
                raise MfgBusinessError(self.env._(
                    "Lot %(lot)s of %(product)s does not exist.",
                    lot=lot_name, product=product.display_name))
            if not (move.picked and move.manual_consumption):
                move.move_line_ids.unlink()  # drop Odoo's guess: the reported lot was used
            line = move.move_line_ids.filtered(lambda ml: ml.lot_id == lot)[:1]
            if line:
                line.quantity += qty
            else:
                move.move_line_ids = [(0, 0, {
                    "product_id": product.id, "lot_id": lot.id, "quantity": qty,
                    "product_uom_id": move.product_uom.id,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id})]
        else:
            # Until the shop floor reported on this move, its quantity is Odoo's own guess
            # (a reservation, or what starting a work order pre-fills), not a consumption.
            consumed = move.quantity if move.picked and move.manual_consumption else 0.0
            move.quantity = consumed + qty
        # Reported consumption is what Odoo calls manual consumption: completing the order
        # must not recompute it from the BOM.
        move.write({"picked": True, "manual_consumption": True})
        self.sudo().mfg_last_report_at = fields.Datetime.now()
        return move
