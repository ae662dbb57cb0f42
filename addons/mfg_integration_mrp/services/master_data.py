"""Master data from its owner (SAP, a PLM, the MES): materials, bills of materials and work
centers created and updated in Odoo, and Odoo's BoM revisions sent out.

- The record a message is about is found through the connector's mapping of its id (or
  Odoo's own reference), created when new - and the mapping with it, so the shop-floor
  messages of that system resolve its codes from then on.
- Field-level source of truth (``mfg.flow.owned_fields``, as for orders): an update of a
  field Odoo owns is ignored and logged on the message.
- Outbound: a BoM created or changed in Odoo becomes a ``material.bom`` (v2) for every
  subscribed connector, its revision a digest of its content - the same content is the
  same message, never a second one.
"""
import hashlib
import json

from odoo.exceptions import UserError

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.services.outbox import (
    KEY_PREFIX,
    Event,
    ReverseMapper,
    clean,
    publish,
    subscribed_flows,
)

from .shopfloor import duration_seconds

# Ownable fields per type: name in owned_fields -> Odoo field.
MATERIAL_FIELDS = {"description": "name", "base_unit": "uom_id", "tracking": "tracking",
                   "weight": "weight", "barcode": "barcode"}
# Odoo 19 keeps capacities per product (mrp.workcenter.capacity): a sender's overall
# capacity is logged on the message, not applied.
WORK_CENTER_FIELDS = {"description": "name", "time_efficiency": "time_efficiency",
                      "cost_per_hour": "costs_hour", "calendar": "resource_calendar_id"}
TRACKING = {"None": "none", "Lot": "lot", "Serial": "serial"}
# Rec 20 weight codes -> kilograms (Odoo's product weight is in kg).
KILOGRAMS = {"KGM": 1.0, "GRM": 0.001, "TNE": 1000.0, "LBR": 0.45359237}


def owned_by_sender(message, ownable):
    """The ownable fields the sender of ``message`` owns (its flow's source of truth)."""
    flow = message.flow_id
    return owned_by_sender_flow(flow, ownable) if flow else set(ownable)


def apply_owned(message, record, values, ownable):
    """Write ``values`` {ownable name: value} on ``record`` where the sender owns the field;
    log the others on the message. Returns the names ignored."""
    owned = owned_by_sender(message, ownable)
    changes, ignored = {}, []
    for name, value in values.items():
        field = ownable[name]
        current = record[field]
        current = current.id if hasattr(current, "_name") else current
        if current == value:
            continue
        if name in owned:
            changes[field] = value
        else:
            ignored.append(name)
    if changes:
        record.write(changes)
    if ignored:
        message._log_action(message.env._(
            "Not applied, owned by Odoo on flow %(flow)s: %(fields)s.",
            flow=message.flow_id.display_name, fields=", ".join(sorted(ignored))))
    return ignored


def check_product_edit(products, vals):
    """Refuse a user's change of a material field its owner system keeps (the product's
    mapping to a connector whose inbound material.master flow owns the field)."""
    env = products.env
    changed = {name for name, field in MATERIAL_FIELDS.items() if field in vals}
    if not changed or env.su or env.context.get("mfg_origin_connector_id"):
        return
    mappings = env["mfg.mapping"].sudo().search([
        ("mapping_type", "=", "product"), ("product_id", "in", products.ids),
        ("connector_id", "!=", False)])
    for mapping in mappings:
        flow = env["mfg.flow"].sudo().search([
            ("connector_id", "=", mapping.connector_id.id), ("direction", "=", "in"),
            ("canonical_type", "=", "material.master")], limit=1)
        if not flow:
            continue
        product = mapping.product_id
        refuse_owned_edit(product, vals, MATERIAL_FIELDS,
                          changed & owned_by_sender_flow(flow, MATERIAL_FIELDS),
                          lambda label, product=product, mapping=mapping, flow=flow: env._(
            "%(field)s of %(product)s is kept by %(owner)s (flow %(flow)s): change it there, "
            "it comes back with its next update.", field=label, product=product.display_name,
            owner=mapping.connector_id.display_name, flow=flow.display_name))


def refuse_owned_edit(record, vals, ownable, names, explain):
    """Raise ``explain(field label)`` as a UserError for the first of the ownable fields
    ``names`` whose value ``vals`` would change on ``record``."""
    for name in sorted(names):
        field = ownable[name]
        new = record._fields[field].convert_to_cache(vals[field], record)
        current = record[field]
        current = current.id if hasattr(current, "_name") else current
        if new != current:
            raise UserError(explain(record._fields[field].get_description(record.env)["string"]))


def owned_by_sender_flow(flow, ownable):
    if flow.source_of_truth == "external":
        return set(ownable)
    if flow.source_of_truth == "odoo":
        return set()
    return set(flow._mfg_owned_field_names()) & set(ownable)


def mapped_record(message, mapping_type, code, model, field, fallback_domain):
    """The record the connector's mapping of ``code`` names, else the one Odoo knows by
    ``fallback_domain``; empty when new."""
    Mapping = message.env["mfg.mapping"].sudo()
    mapping = Mapping.search([("mapping_type", "=", mapping_type), ("external_code", "=", code),
                              ("company_id", "=", message.company_id.id),
                              ("connector_id", "in", [message.connector_id.id, False])])
    mapping = mapping.sorted(lambda m: not m.connector_id)[:1]
    if mapping and mapping[field]:
        return mapping[field]
    return message.env[model].sudo().with_context(active_test=False).search(
        fallback_domain, limit=1)


def remember(message, mapping_type, code, field, record):
    """Map ``code`` of the message's connector to ``record`` (created from its message)."""
    message.env["mfg.mapping"].sudo().create({
        "mapping_type": mapping_type, "external_code": code, field: record.id,
        "connector_id": message.connector_id.id, "company_id": message.company_id.id})


def kilograms(quantity):
    if not quantity:
        return None
    factor = KILOGRAMS.get(quantity.get("unit_code"))
    if factor is None:
        unit = quantity.get("unit_code") or quantity.get("unit_text")
        raise MfgBusinessError(f"Weight unit {unit} is not a weight Odoo converts (KGM, GRM, "
                               f"TNE, LBR).")
    return quantity["value"] * factor


def minutes(duration):
    seconds = duration_seconds(duration) if duration else 0.0
    return round(seconds / 60.0, 4)


# ------------------------------------------------------------------ outbound
def _iso_minutes(value):
    return f"PT{round(value * 60, 3):g}S" if value else None


def bom_events(bom):
    """The material.bom event of ``bom``: its revision is a digest of its content."""
    def build(mapper):
        unit = {"unit_text": mapper.uom(bom.product_uom_id)}
        body = clean({
            "id": bom.code or f"odoo-bom-{bom.id}",
            "material_definition_id": {"value": mapper.product(
                bom.product_id or bom.product_tmpl_id.product_variant_id)},
            "quantity": dict(unit, value=bom.product_qty),
            "components": [clean({
                "material_definition_id": {"value": mapper.product(line.product_id)},
                "quantity": {"value": line.product_qty,
                             "unit_text": mapper.uom(line.product_uom_id)},
                "operation_id": line.operation_id.name or None})
                for line in bom.bom_line_ids],
            "operations": [clean({
                "id": operation.name, "work_center_id": {
                    "value": mapper.work_center(operation.workcenter_id)},
                "duration": _iso_minutes(operation.time_cycle_manual)})
                for operation in bom.operation_ids],
        })
        body["revision"] = revision(body)
        return body
    return build


def revision(body):
    digest = hashlib.sha1(json.dumps(body, sort_keys=True).encode(), usedforsecurity=False)
    return digest.hexdigest()[:12]


def publish_boms(boms):
    flows = subscribed_flows(boms.env, ["material.bom"], boms.company_id)
    created = boms.env["mfg.message"].browse()
    if not flows:
        return created
    for bom in boms:
        company = bom.company_id or boms.env.company
        for flow in flows.filtered(lambda f, c=company: f.company_id == c):
            build = bom_events(bom)
            # The key needs the revision, which depends on the connector's codes.
            payload = build(ReverseMapper(boms.env, flow.connector_id))
            event = Event(f"{KEY_PREFIX}/bom/{bom.id}/{payload['revision']}", bom.display_name,
                          None, lambda _mapper, payload=payload: payload)
            created |= publish(flow, "material.bom", company, [event])
    return created
