"""Odoo's validated stock documents going out to the systems that book them too (a WMS, SAP).

When moves are done (a validated receipt, delivery or internal transfer, an applied
inventory adjustment), every connector with an active outbound flow of the type in that
plant gets, in its own codes (services/outbox in the core):
- ``goods.receipt`` per received line (lot, destination location, receipt and purchase
  references, vendor) of an incoming picking;
- ``shipment.confirmation`` per validated delivery (lines with lots, partner, ship date,
  carrier tracking reference when the delivery addon provides one);
- ``inventory.move`` per moved line of an internal transfer, and per adjusted line of an
  inventory adjustment (``movement_type`` "internal" / "adjustment").
Manufacturing moves (components, finished goods) and scrap are left to their own flows
(the MRP execution loop). Never echoed, one message per event (keys made of the move
line or the picking), payloads version 1.
"""
from odoo import fields

from odoo.addons.mfg_integration.services.outbox import (
    KEY_PREFIX,
    Event,
    clean,
    publish,
    subscribed_flows,
)

TYPES = ("goods.receipt", "shipment.confirmation", "inventory.move", "shipment.notice")


def _iso(value):
    return value.isoformat() + "+00:00" if value else None


def _done_at(picking):
    # The moves are done before their picking gets its date_done.
    return picking.date_done or fields.Datetime.now().replace(microsecond=0)


def _lines(moves):
    return moves.move_line_ids.filtered(lambda ml: not ml.product_uom_id.is_zero(ml.quantity))


def _line_payload(mapper, line, **extra):
    """What every warehouse line says: product, quantity, unit, lot, in the peer's codes."""
    return clean(dict({"product": mapper.product(line.product_id), "qty": line.quantity,
                       "uom": mapper.uom(line.product_uom_id),
                       "lot": line.lot_id.name or None}, **extra))


def receipt_events(picking, moves):
    events = []
    for line in _lines(moves):
        def build(mapper, line=line):
            return _line_payload(
                mapper, line, location=mapper.location(line.location_dest_id),
                receipt_ref=picking.name, purchase_ref=picking.origin or None,
                partner=mapper.partner(picking.partner_id))
        events.append(Event(f"{KEY_PREFIX}/receipt/{line.id}", picking.name,
                            picking.date_done, build))
    return events


def shipment_events(picking, moves):
    lines = _lines(moves)
    if not lines:
        return []
    tracking = picking.carrier_tracking_ref if "carrier_tracking_ref" in picking._fields \
        else None

    def build(mapper):
        return clean({
            "shipment_ref": picking.name, "partner": mapper.partner(picking.partner_id),
            "shipped_at": _iso(_done_at(picking)), "sale_ref": picking.origin or None,
            "carrier_tracking_ref": tracking or None,
            "lines": [_line_payload(mapper, line, location=mapper.location(line.location_id))
                      for line in lines],
        })
    return [Event(f"{KEY_PREFIX}/shipment/{picking.id}", picking.name, picking.date_done,
                  build)]


def notice_events(picking, moves):
    """shipment.notice (v2) of a delivery to another plant: what it will receive."""
    lines = _lines(moves)
    if not lines:
        return []

    def build(mapper):
        return clean({
            "shipment_ref": picking.name, "from_plant": picking.company_id.name,
            "shipped_at": _iso(_done_at(picking)),
            "carrier_tracking_ref": (picking.carrier_tracking_ref or None)
            if "carrier_tracking_ref" in picking._fields else None,
            "lines": [clean({"material_definition_id": {"value": mapper.product(line.product_id)},
                             "quantity": {"value": line.quantity,
                                          "unit_text": mapper.uom(line.product_uom_id)},
                             "lot_id": line.lot_id.name or None})
                      for line in lines],
        })
    return [Event(f"{KEY_PREFIX}/notice/{picking.id}", picking.name, picking.date_done, build)]


def move_events(moves, movement_type, reference):
    events = []
    for line in _lines(moves):
        def build(mapper, line=line):
            return _line_payload(
                mapper, line, location_from=mapper.location(line.location_id),
                location_to=mapper.location(line.location_dest_id),
                movement_type=movement_type, reference=reference(line))
        events.append(Event(f"{KEY_PREFIX}/move/{line.id}", reference(line), line.date, build))
    return events


def _warehouse_moves(moves):
    return moves.filtered(lambda m: m.state == "done" and not m.scrap_id
                          and not m.production_id and not m.raw_material_production_id)


def publish_done_moves(moves):
    """Put the done ``moves``' documents in the outbox of each subscribed connector; return
    the messages created."""
    moves = _warehouse_moves(moves)
    created = moves.env["mfg.message"].browse()
    if not moves:
        return created
    flows = subscribed_flows(moves.env, TYPES, moves.company_id)
    if not flows:
        return created
    for company in moves.company_id:
        company_moves = moves.filtered(lambda m, c=company: m.company_id == c)
        for picking in company_moves.picking_id:
            picked = company_moves.filtered(lambda m, p=picking: m.picking_id == p)
            kind = picking.picking_type_id.code
            if kind == "incoming":
                created |= publish(flows, "goods.receipt", company,
                                   receipt_events(picking, picked))
            elif kind == "outgoing":
                created |= publish(flows, "shipment.confirmation", company,
                                   shipment_events(picking, picked))
                # Announced only to the plant it goes to.
                partner = picking.partner_id.commercial_partner_id
                to_plant = flows.filtered(
                    lambda f, p=partner: f.canonical_type == "shipment.notice" and p
                    and f.connector_id.mfg_plant_partner_id.commercial_partner_id == p)
                created |= publish(to_plant, "shipment.notice", company,
                                   notice_events(picking, picked))
            elif kind == "internal":
                created |= publish(flows, "inventory.move", company, move_events(
                    picked, "internal", lambda line, p=picking: p.name))
        adjusted = company_moves.filtered(lambda m: m.is_inventory and not m.picking_id)
        created |= publish(flows, "inventory.move", company, move_events(
            adjusted, "adjustment", lambda line: line.move_id.reference or line.reference))
    return created
