"""Field-level source of truth of the orders a connector created (``mfg.flow.owned_fields``).

The inbound ``production.order`` flow of the connector an MO came from says who owns what:
source of truth *External* - the system owns every field below; *Odoo* - Odoo does; *Shared*
- the fields listed in ``owned_fields`` are the system's, the others Odoo's. Then:
- an inbound update of a field Odoo owns is ignored, and the message says so in its log;
- an edit in Odoo of a field a system owns (shared ownership) is refused with a message that
  names the owner, unless it is the integration itself applying that system's update;
- so nothing of the owner's fields is sent back to it as Odoo's change: its own updates are
  applied without publishing (``mfg_no_publish``), and nobody else may change them in Odoo.
"""
from .master_data import owned_by_sender_flow, refuse_owned_edit

# Ownable fields of production.order: name in owned_fields -> MO field.
ORDER_FIELDS = {"quantity": "product_qty", "start": "date_start", "end": "date_finished"}


def order_flow(production):
    """The inbound production.order flow of the connector that created ``production``."""
    connector = production.mfg_source_connector_id
    if not connector:
        return production.env["mfg.flow"]
    return production.env["mfg.flow"].sudo().search([
        ("connector_id", "=", connector.id), ("direction", "=", "in"),
        ("canonical_type", "=", "production.order")], limit=1)


def external_fields(flow):
    """The ownable fields of production.order its external system owns through ``flow``."""
    return owned_by_sender_flow(flow, ORDER_FIELDS) if flow else set(ORDER_FIELDS)


def check_edit(productions, vals):
    """Refuse a user's change of a field a system owns field by field (shared ownership)."""
    env = productions.env
    changed = {name for name, field in ORDER_FIELDS.items() if field in vals}
    if not changed or env.context.get("mfg_origin_connector_id") or \
            env.context.get("mfg_internal_write"):
        return
    for production in productions.filtered("mfg_source_connector_id"):
        flow = order_flow(production)
        if not flow or flow.source_of_truth != "shared":
            continue
        refuse_owned_edit(
            production, vals, ORDER_FIELDS, changed & external_fields(flow),
            lambda label, production=production, flow=flow: env._(
                "%(field)s of %(mo)s is owned by %(owner)s (flow %(flow)s): change it there, it "
                "comes back with the next update.", field=label, mo=production.name,
                owner=production.mfg_source_connector_id.display_name, flow=flow.display_name))
