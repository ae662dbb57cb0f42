"""Odoo's own documents going out: records in a connector's codes, one outbound message per
business event for every connector subscribed to its type.

- ``ReverseMapper``: Odoo record -> the connector's code through its mappings (the
  connector's own first, then the plant-wide one); without a mapping the record's own
  reference, so a missing mapping never blocks an outbound document.
- ``publish``: every active outbound flow of the type in the company gets the events, except
  the connector whose message caused them (context ``mfg_origin_connector_id``: never
  echoed). An event's key is made of what was booked, so an event already in a connector's
  outbox (a replay, a second write) creates nothing.
"""
from collections import namedtuple

Event = namedtuple("Event", "key correlation occurred_at build")
KEY_PREFIX = "odoo"


class ReverseMapper:
    """Odoo record -> external code for one connector and plant, memoized."""

    def __init__(self, env, connector):
        self.env = env
        self.connector = connector
        self.cache = {}

    def code(self, mapping_type, field_name, record, fallback):
        if not record:
            return None
        key = (mapping_type, record.id)
        if key not in self.cache:
            mapping = self.env["mfg.mapping"].sudo().search([
                ("mapping_type", "=", mapping_type), (field_name, "=", record.id),
                ("company_id", "=", self.connector.company_id.id),
                ("connector_id", "in", [self.connector.id, False])], limit=2)
            mapping = mapping.sorted(lambda m: not m.connector_id)[:1]
            self.cache[key] = mapping.external_code if mapping else fallback(record)
        return self.cache[key]

    def product(self, product):
        return self.code("product", "product_id", product,
                         lambda p: p.default_code or p.display_name)

    def uom(self, uom):
        return self.code("uom", "uom_id", uom, lambda u: u.name)

    def work_center(self, workcenter):
        return self.code("work_center", "workcenter_id", workcenter,
                         lambda w: w.code or w.name)

    def location(self, location):
        return self.code("location", "location_id", location, lambda loc: loc.complete_name)

    def partner(self, partner):
        return self.code("partner", "partner_id", partner,
                         lambda p: p.ref or p.display_name)


def subscribed_flows(env, canonical_types, companies):
    """Active outbound flows of these types in these plants, the origin's left out."""
    origin = env.context.get("mfg_origin_connector_id")
    return env["mfg.flow"].sudo().search([
        ("canonical_type", "in", list(canonical_types)), ("direction", "=", "out"),
        ("company_id", "in", companies.ids), ("connector_id", "!=", origin or False)])


def publish(flows, canonical_type, company, events):
    """Put ``events`` of ``company`` in the outbox of each flow of the type; return the
    messages created."""
    Message = flows.env["mfg.message"].sudo()
    created = Message.browse()
    if not events:
        return created
    for connector in flows.filtered(lambda f: f.canonical_type == canonical_type
                                    and f.company_id == company).connector_id:
        known = Message._stored_keys(connector.code, [e.key for e in events])
        mapper = ReverseMapper(Message.env, connector)
        for event in events:
            if event.key in known:
                continue
            created |= Message.create_outbound(connector, canonical_type, event.build(mapper),
                                               event.key, occurred_at=event.occurred_at,
                                               correlation_id=event.correlation)
    return created


def clean(payload):
    """The payload without its absent (None) values."""
    return {key: value for key, value in payload.items() if value is not None}
