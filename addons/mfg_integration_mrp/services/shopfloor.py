"""Apply canonical shop-floor messages to mrp, stock and maintenance.

Each ``apply_*`` takes one mapped ``mfg.message`` and returns the Odoo records it produced.
They do what a user would do in the Odoo screens (start/pause/finish work orders, record
quantities, mark done with or without backorder, scrap, log productivity losses), so Odoo's
own rules (consumption warnings, backorders, reservations) keep applying. Problems a person
must solve raise MfgBusinessError (the message goes to `exception`, no retry).
"""
from datetime import datetime, timezone

from odoo import fields

from odoo.addons.mfg_integration.exceptions import MfgBusinessError

MAX_WIZARD_STEPS = 4


def _utc_naive(value):
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


def _already_applied(message):
    """A replayed message that already produced its records has no second effect."""
    if message.result_model and message.result_ids:
        return message.env[message.result_model].browse(message.result_ids).exists()
    return None


def _production(message, required=True):
    order_ref = message.payload.get("order_ref")
    if not order_ref:
        return message.env["mrp.production"]
    production = message.env["mrp.production"].sudo()._mfg_find_order(order_ref,
                                                                       message.company_id)
    if not production and required:
        raise MfgBusinessError(message.env._("Unknown production order %(ref)s in plant %(plant)s.",
                                 ref=order_ref, plant=message.company_id.name))
    return production


def _qty_in_uom(message, qty, to_uom, uom_id=None):
    uom_id = uom_id or message.mapped_values.get("uom")
    if not uom_id or uom_id == to_uom.id:
        return qty
    return message.env["uom.uom"].browse(uom_id)._compute_quantity(qty, to_uom)


def _origin_context(message):
    return {"mfg_origin_connector_id": message.connector_id.id, "mfg_no_publish": True}


# --------------------------------------------------------------- production.order
def apply_production_order(message):
    """Create, update or cancel the MO of an order owned by an external system (SAP)."""
    payload, values = message.payload, message.mapped_values
    Production = message.env["mrp.production"].sudo().with_context(
        mfg_origin_connector_id=message.connector_id.id)
    production = Production._mfg_find_order(payload["order_ref"], message.company_id)
    action = payload.get("action", "release")
    if action == "cancel":
        if not production:
            raise MfgBusinessError(message.env._("Cannot cancel unknown order %s.", payload["order_ref"]))
        if production.state not in ("done", "cancel"):
            production.action_cancel()
        return production
    uom_id = values.get("uom")
    if not production:
        production = Production.create({
            "product_id": values["product"],
            "product_qty": payload["qty"],
            "product_uom_id": uom_id,
            "company_id": message.company_id.id,
            "origin": payload["order_ref"],
            "mfg_external_ref": payload["order_ref"],
            "mfg_source_connector_id": message.connector_id.id,
            "date_start": _utc_naive(payload.get("date_start")) or fields.Datetime.now(),
        })
        production.action_confirm()
        return production
    if production.state in ("done", "cancel"):
        raise MfgBusinessError(message.env._("Order %(ref)s is already %(state)s in Odoo; the update was "
                                 "not applied.", ref=payload["order_ref"], state=production.state))
    if production.product_id.id != values["product"]:
        raise MfgBusinessError(message.env._("Order %s changes product: cancel it and release a new one.",
                                 payload["order_ref"]))
    qty = _qty_in_uom(message, payload["qty"], production.product_uom_id)
    if abs(qty - production.product_qty) > 1e-9:
        if production.state == "draft":
            production.product_qty = qty
        else:
            wizard = message.env["change.production.qty"].sudo().create(
                {"mo_id": production.id, "product_qty": qty})
            wizard.with_context(mfg_origin_connector_id=message.connector_id.id).change_prod_qty()
    if payload.get("date_start"):
        production.with_context(mfg_no_publish=True).date_start = _utc_naive(payload["date_start"])
    return production


# ---------------------------------------------------------- production.confirmation
def _workorder(message, production):
    workcenter_id = message.mapped_values.get("work_center")
    operation = message.payload.get("operation")
    workorders = production.workorder_ids.filtered(lambda w: w.state not in ("cancel",))
    if operation:
        named = workorders.filtered(lambda w: w.name == operation)
        workorders = named or workorders
    if workcenter_id:
        workorders = workorders.filtered(lambda w: w.workcenter_id.id == workcenter_id)
    return workorders[:1]


def _finish(production):
    """Mark done the way a user answering Odoo's wizards would: backorder for the rest when
    the picking type allows it, accept consumption differences unless the BOM is strict."""
    action = production.button_mark_done()
    for _step in range(MAX_WIZARD_STEPS):
        if not isinstance(action, dict) or production.state == "done":
            break
        model = action.get("res_model")
        context = dict(production.env.context, **(action.get("context") or {}))
        if model == "mrp.consumption.warning":
            if production.consumption == "strict":
                raise MfgBusinessError(production.env._(
                    "%s: consumption differs from the bill of materials, which is strict; "
                    "correct the component quantities in Odoo.", production.name))
            wizard = production.env[model].with_context(context).create({})
            action = wizard.action_confirm()
        elif model == "mrp.production.backorder":
            wizard = production.env[model].with_context(context).create({})
            action = wizard.action_backorder()
        else:
            raise MfgBusinessError(production.env._("%(mo)s needs input in Odoo to be completed (%(what)s).",
                                     mo=production.name, what=action.get("name") or model))


def record_quantities(production, good, scrap, final):
    """Add reported good/scrap quantities (in the MO's unit) to the order, once."""
    production.sudo().write({
        "mfg_reported_good_qty": production.mfg_reported_good_qty + good,
        "mfg_reported_scrap_qty": production.mfg_reported_scrap_qty + scrap,
        "mfg_last_report_at": fields.Datetime.now(),
        "mfg_reported_final": production.mfg_reported_final or final,
    })
    if good:
        production.qty_producing = production.mfg_reported_good_qty if final \
            else min(production.mfg_reported_good_qty, production.product_qty)
        production._set_qty_producing()


def apply_quantity_batch(messages, uoms):
    """Apply consecutive partial quantity confirmations of one order in one go.

    Recomputing the order's component quantities dominates the cost of a confirmation; a
    burst of N partial reports needs it once, not N times. Same end state as one by one.
    """
    production = _production(messages[0]).with_context(**_origin_context(messages[0]))
    if production.state in ("cancel", "done", "draft"):
        raise MfgBusinessError("not batchable")  # the caller falls back to one by one
    good = sum(_qty_in_uom(m, m.payload.get("qty_good") or 0.0, production.product_uom_id,
                           uoms.get(m.id)) for m in messages)
    scrap = sum(_qty_in_uom(m, m.payload.get("qty_scrap") or 0.0, production.product_uom_id,
                            uoms.get(m.id)) for m in messages)
    record_quantities(production, good, scrap, False)
    return production


def apply_confirmation(message):
    done = _already_applied(message)
    if done is not None:
        return done
    payload = message.payload
    production = _production(message).with_context(**_origin_context(message))
    if production.state in ("cancel", "done"):
        raise MfgBusinessError(message.env._("Order %(mo)s is %(state)s: confirmation rejected.",
                                 mo=production.name, state=production.state))
    if production.state == "draft":
        production.action_confirm()
    workorder = _workorder(message, production)
    event = payload.get("event") or ("complete" if payload.get("final") else "quantity")
    if workorder and event in ("start", "resume") and workorder.state not in ("done", "progress"):
        workorder.button_start()
    elif workorder and event == "pause" and workorder.state == "progress":
        workorder.button_pending()
    good = _qty_in_uom(message, payload.get("qty_good") or 0.0, production.product_uom_id)
    scrap = _qty_in_uom(message, payload.get("qty_scrap") or 0.0, production.product_uom_id)
    record_quantities(production, good, scrap, bool(payload.get("final")))
    if workorder and event == "complete" and workorder.state != "done":
        workorder.button_finish()
    if payload.get("final"):
        if production.product_uom_id.is_zero(production.qty_producing):
            raise MfgBusinessError(message.env._("%s: final confirmation without any good quantity.",
                                     production.name))
        holds = production._mfg_blocking_holds()
        if holds:
            raise MfgBusinessError(message.env._("%(mo)s is blocked by quality: %(holds)s. The confirmation "
                                     "is applied automatically when released.", mo=production.name,
                                     holds="; ".join(holds.mapped("display_name"))))
        _finish(production)
        backorders = production.search([
            ("production_group_id", "=", production.production_group_id.id),
            ("id", "!=", production.id), ("state", "not in", ("done", "cancel"))]) \
            if production.production_group_id else production.browse()
        return production | backorders
    return workorder or production


# ---------------------------------------------------------------- consumption
def apply_consumption(message):
    done = _already_applied(message)
    if done is not None:
        return done
    payload, values = message.payload, message.mapped_values
    production = _production(message).with_context(**_origin_context(message))
    if production.state in ("cancel", "done"):
        raise MfgBusinessError(message.env._("Order %(mo)s is %(state)s: consumption rejected.",
                                 mo=production.name, state=production.state))
    product = message.env["product.product"].browse(values["product"])
    move = production.move_raw_ids.filtered(
        lambda m: m.product_id == product and m.state not in ("done", "cancel"))[:1]
    if not move:
        # Not in the BOM: a user would add the component line on the MO.
        production.move_raw_ids = [(0, 0, {
            "product_id": product.id,
            "product_uom_qty": 0.0,
            "product_uom": values.get("uom") or product.uom_id.id,
            "location_id": production.location_src_id.id,
            "location_dest_id": production.production_location_id.id,
        })]
        move = production.move_raw_ids.filtered(lambda m: m.product_id == product)[-1:]
        move._action_confirm()
    qty = _qty_in_uom(message, payload["qty"], move.product_uom)
    lot_name = payload.get("lot")
    if lot_name:
        lot = message.env["stock.lot"].search([("name", "=", lot_name),
                                               ("product_id", "=", product.id)], limit=1)
        if not lot:
            raise MfgBusinessError(message.env._("Lot %(lot)s of %(product)s does not exist.",
                                     lot=lot_name, product=product.display_name))
        if not (move.picked and move.manual_consumption):
            move.move_line_ids.unlink()  # drop Odoo's guess: the reported lot is what was used
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
        # Until the shop floor reported on this move, its quantity is Odoo's own guess (a
        # reservation, or what starting a work order pre-fills), not a consumption.
        consumed = move.quantity if move.picked and move.manual_consumption else 0.0
        move.quantity = consumed + qty
    # Reported consumption is what Odoo calls manual consumption: completing the order must
    # not recompute it from the BOM.
    move.write({"picked": True, "manual_consumption": True})
    production.sudo().mfg_last_report_at = fields.Datetime.now()
    return move


# --------------------------------------------------------------------- scrap
def apply_scrap(message):
    done = _already_applied(message)
    if done is not None:
        return done
    payload, values = message.payload, message.mapped_values
    production = _production(message, required=False)
    product = message.env["product.product"].browse(values["product"])
    scrap_values = {
        "product_id": product.id,
        "scrap_qty": payload["qty"],
        "product_uom_id": values.get("uom") or product.uom_id.id,
        "company_id": message.company_id.id,
        "origin": payload.get("order_ref") or message.key,
    }
    if values.get("reason_code"):
        scrap_values["scrap_reason_tag_ids"] = [(6, 0, [values["reason_code"]])]
    if values.get("location"):
        scrap_values["location_id"] = values["location"]
    if production:
        scrap_values["production_id"] = production.id
        if "location_id" not in scrap_values:
            is_component = product in production.move_raw_ids.product_id
            scrap_values["location_id"] = (production.location_src_id if is_component
                                           else production.location_dest_id).id
    scrap = message.env["stock.scrap"].sudo().create(scrap_values)
    # The shop floor already threw the parts away: scrap even without stock on hand, as a
    # user confirming Odoo's "insufficient quantity" warning would.
    scrap.do_scrap()
    return scrap


# ------------------------------------------------------------------ downtime
def apply_downtime(message):
    payload, values = message.payload, message.mapped_values
    env = message.env
    workcenter = env["mrp.workcenter"].sudo().browse(values["work_center"])
    start = _utc_naive(payload["start"])
    end = _utc_naive(payload.get("end"))
    if not end and payload.get("duration_s") is not None:
        end = fields.Datetime.add(start, seconds=payload["duration_s"])
    Productivity = env["mrp.workcenter.productivity"].sudo()
    line = Productivity.search([("workcenter_id", "=", workcenter.id),
                                ("date_start", "=", start)], limit=1)
    line_values = {"loss_id": values["reason_code"], "date_end": end,
                   "description": message.env._("Shop floor stop %(code)s (%(origin)s)",
                                    code=payload["reason_code"], origin=message.source)}
    if line:
        line.write({k: v for k, v in line_values.items() if v or k == "loss_id"})
    else:
        line = Productivity.create(dict(line_values, workcenter_id=workcenter.id,
                                        date_start=start, company_id=workcenter.company_id.id
                                        or message.company_id.id))
    threshold = workcenter.mfg_maintenance_after_min
    # A stop without an end is still going on: it counts until now.
    duration_min = ((end or fields.Datetime.now()) - start).total_seconds() / 60.0
    if threshold and duration_min >= threshold:
        return _maintenance_request(message, workcenter, start, duration_min)
    return line


def _maintenance_request(message, workcenter, start, duration_min):
    """At most one maintenance request per stop, however many events describe it."""
    ref = f"{workcenter.id}:{fields.Datetime.to_string(start)}"
    Request = message.env["maintenance.request"].sudo()
    existing = Request.search([("mfg_downtime_ref", "=", ref)], limit=1)
    if existing:
        return existing
    equipment_id = message.mapped_values.get("asset") or workcenter.mfg_equipment_id.id
    return Request.create({
        "name": message.env._("%(wc)s stopped %(min).0f min (%(code)s)", wc=workcenter.name,
                  min=duration_min, code=message.payload["reason_code"]),
        "equipment_id": equipment_id or False,
        "maintenance_type": "corrective",
        "request_date": fields.Date.to_date(start),
        "description": message.env._("Opened from shop-floor downtime message %s.", message.key),
        "mfg_downtime_ref": ref,
        "company_id": workcenter.company_id.id or message.company_id.id,
    })


# ------------------------------------------------------------------- quality
def _hold_target(message):
    production = _production(message, required=False)
    lot = message.payload.get("lot")
    if not production and not lot:
        raise MfgBusinessError(message.env._("Unknown production order %s.", message.payload.get("order_ref")))
    return production, lot


def apply_quality_result(message):
    payload = message.payload
    production, lot = _hold_target(message)
    Hold = message.env["mfg.quality.hold"].sudo().with_context(active_test=False)
    domain = [("kind", "=", "failed_result"), ("characteristic", "=", payload["characteristic"]),
              ("production_id", "=", production.id or False), ("lot_name", "=", lot or False)]
    existing = Hold.search(domain + [("active", "=", True)])
    if payload["result"] == "pass":
        existing.action_release()
        return existing or message.env._("%s passed", payload["characteristic"])
    if existing:
        return existing
    return Hold.create({
        "kind": "failed_result", "production_id": production.id or False, "lot_name": lot,
        "characteristic": payload["characteristic"],
        "reason": payload.get("reason_code") or str(payload.get("value") or ""),
        "company_id": message.company_id.id, "message_id_origin": message.id,
    })


def apply_quality_hold(message):
    payload = message.payload
    production, lot = _hold_target(message)
    Hold = message.env["mfg.quality.hold"].sudo()
    existing = Hold.search([("kind", "=", "hold"), ("production_id", "=", production.id or False),
                            ("lot_name", "=", lot or False)])
    if not payload["active"]:
        existing.action_release()
        return existing or message.env._("No active hold to release")
    if existing:
        existing.reason = payload.get("reason") or existing.reason
        return existing
    return Hold.create({
        "kind": "hold", "production_id": production.id or False, "lot_name": lot,
        "reason": payload.get("reason"), "company_id": message.company_id.id,
        "message_id_origin": message.id,
    })
