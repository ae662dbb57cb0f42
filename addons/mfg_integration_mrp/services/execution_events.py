"""What production booked in Odoo goes out to the systems that book it too (the ERP).

When a manufacturing order is completed in Odoo - by a user in the MO or work order screens,
or by an applied shop-floor message - its bookings become outbound canonical messages:
``production.confirmation`` per finished operation (yield, scrap, duration, final flag),
``material.consumption`` per consumed component line (SAP movement 261, with its lot) and
``goods.receipt`` per produced line (101, with its lot), for every connector with an active
outbound flow of the type in the order's company, in that connector's codes.

- Never echoed: the connector whose message caused the completion (context
  ``mfg_origin_connector_id``) is skipped.
- One message per business event, with a key made of what was booked (the work order, the
  done move line): completing again, replaying the shop-floor message or a second write
  finds the key in the connector's outbox and creates nothing.
- Ordered per order: the payloads carry ``order_ref``, the outbound flows' ordering key.
Payloads are version 1, what outbound flows build today (``_mfg_outbound_versions``).
"""
from odoo.addons.mfg_integration.services.outbox import (
    KEY_PREFIX,
    Event,
    clean,
    publish,
    subscribed_flows,
)


def order_ref(production):
    """The order number the peer knows: the external one (SAP's), also for a backorder
    (which Odoo splits off under its own name in the same production group)."""
    group = production.production_group_id.production_ids if production.production_group_id \
        else production
    external = production.mfg_external_ref or next(
        (p.mfg_external_ref for p in group.sorted("id") if p.mfg_external_ref), None)
    return external or production.name


def is_final(production):
    """No backorder of the order is still open: the operation is finally confirmed."""
    siblings = production.production_group_id.production_ids - production \
        if production.production_group_id else production.browse()
    return not siblings.filtered(lambda p: p.state not in ("done", "cancel"))


def operation_number(workorder, index):
    """The operation's number in the peer: a work order named with a number (as orders
    from SAP are), else its position in steps of ten (SAP's default numbering)."""
    name = (workorder.name or "").strip()
    return name.zfill(4) if name.isdigit() and len(name) <= 4 else f"{index * 10:04d}"


def confirmation_events(production):
    ref, final = order_ref(production), is_final(production)
    workorders = production.workorder_ids.sorted(lambda w: (w.operation_id.sequence, w.id))
    scrapped = production.scrap_ids.filtered(
        lambda s: s.state == "done" and s.product_id == production.product_id)
    events = []
    for index, workorder in enumerate(workorders, start=1):
        if workorder.state != "done":
            continue
        scrap = sum(scrapped.filtered(lambda s, w=workorder: s.workorder_id == w
                                      ).mapped("scrap_qty"))

        def build(mapper, workorder=workorder, index=index, scrap=scrap):
            return clean({
                "order_ref": ref, "operation": operation_number(workorder, index),
                "work_center": mapper.work_center(workorder.workcenter_id),
                "event": "complete", "qty_good": workorder.qty_produced, "qty_scrap": scrap,
                "uom": mapper.uom(production.product_uom_id), "final": final,
                "duration_min": round(workorder.duration, 2),
                "lot": ", ".join(production.lot_producing_ids.mapped("name")) or None,
            })
        events.append(Event(f"{KEY_PREFIX}/{production.name}/confirmation/{workorder.id}",
                            production.name, workorder.date_finished, build))
    if not workorders:
        # No routing: the order is confirmed as a whole (one operation in the peer).
        scrap = sum(scrapped.mapped("scrap_qty"))

        def build(mapper):
            return clean({
                "order_ref": ref, "operation": None,
                "work_center": production.picking_type_id.warehouse_id.code or "ODOO",
                "event": "complete", "qty_good": production.qty_produced, "qty_scrap": scrap,
                "uom": mapper.uom(production.product_uom_id), "final": final,
            })
        events.append(Event(f"{KEY_PREFIX}/{production.name}/confirmation",
                            production.name, production.date_finished, build))
    return events


def _line_events(production, moves, movement):
    ref = order_ref(production)
    events = []
    for line in moves.filtered(lambda m: m.state == "done").move_line_ids:
        if line.product_uom_id.is_zero(line.quantity):
            continue

        def build(mapper, line=line):
            return clean({
                "order_ref": ref, "product": mapper.product(line.product_id),
                "qty": line.quantity, "uom": mapper.uom(line.product_uom_id),
                "lot": line.lot_id.name or None, "movement_type": movement,
            })
        events.append(Event(f"{KEY_PREFIX}/{production.name}/{movement}/{line.id}",
                            production.name, line.date, build))
    return events


def consumption_events(production):
    return _line_events(production, production.move_raw_ids, "261")


def receipt_events(production):
    return _line_events(production, production.move_finished_ids.filtered(
        lambda m: m.product_id == production.product_id), "101")


EVENT_BUILDERS = (
    ("production.confirmation", confirmation_events),
    ("material.consumption", consumption_events),
    ("goods.receipt", receipt_events),
)


def publish_completion(productions):
    """Put the bookings of completed ``productions`` in the outbox of each subscribed
    connector; return the messages created."""
    flows = subscribed_flows(productions.env, [name for name, _b in EVENT_BUILDERS],
                             productions.company_id)
    created = productions.env["mfg.message"].browse()
    if not flows:
        return created
    for production in productions:
        for canonical_type, builder in EVENT_BUILDERS:
            if flows.filtered(lambda f, t=canonical_type: f.canonical_type == t):
                created |= publish(flows, canonical_type, production.company_id,
                                   builder(production))
    return created
