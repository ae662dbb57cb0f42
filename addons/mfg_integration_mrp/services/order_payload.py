"""Canonical `production.order` payload of an Odoo manufacturing order, in a peer's terms.

Codes are translated back through the mapping table of the receiving connector (the MES
knows its own material numbers, not Odoo ids); without a mapping the Odoo internal
reference (or name) is sent, so a missing mapping never blocks a release.
"""
from odoo import fields

from odoo.addons.mfg_integration.services.outbox import ReverseMapper


def _iso(value):
    return fields.Datetime.to_datetime(value).isoformat() + "+00:00" if value else None


def build(production, connector, action):
    mapper = ReverseMapper(production.env, connector)
    payload = {
        "order_ref": production.mfg_external_ref or production.name,
        "action": action,
        "product": mapper.product(production.product_id),
        "qty": production.product_qty,
        "uom": mapper.uom(production.product_uom_id),
        "date_start": _iso(production.date_start),
        "date_end": _iso(production.date_finished),
        "bom": production.bom_id.code or (production.bom_id.display_name if production.bom_id
                                          else None),
        "components": [{
            "product": mapper.product(move.product_id),
            "qty": move.product_uom_qty,
            "uom": mapper.uom(move.product_uom),
            "lot": move.move_line_ids[:1].lot_id.name or None,
        } for move in production.move_raw_ids if move.state != "cancel"],
        "operations": [{
            "name": workorder.name,
            "work_center": mapper.work_center(workorder.workcenter_id),
            "sequence": workorder.operation_id.sequence or index * 10,
            "duration_expected_min": workorder.duration_expected,
        } for index, workorder in enumerate(production.workorder_ids, start=1)],
        "lots": production.lot_producing_ids.mapped("name"),
        "external_refs": {"odoo_name": production.name, "odoo_id": production.id,
                          "origin": production.origin or None},
    }
    return {key: value for key, value in payload.items() if value is not None}
