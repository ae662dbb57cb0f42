# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The return path to devices Odoo cannot reach: they fetch their messages themselves.

Plant networks accept no inbound connection; the edge bridge is the only thing that talks
out. So an outbound message for a connector whose transport is a *pull* transport (the
core's "edge" type; see registry.Transport) is validated by the pipeline and waits in
``mapped``. The bridge then, over JSON-2 with its API key:

1. ``edge_fetch(code, ack=[ids])``: the next messages in order (occurred_at, id), each
   with its envelope. ``ack`` confirms the ids of earlier fetches the bridge has stored
   (committed in its SQLite buffer): those are *handed over* (``handed_over_at``) and never
   fetched again. A bridge killed between fetch and store simply fetches them again; one
   killed between store and ack fetches them again and its store ignores the copies (the
   message id is its key). The ack of one fetch travels with the next one: one call each.
2. ``edge_report(code, results=[{id, ok, detail}])``: after delivering (MQTT, local REST,
   OPC UA writes with read-back), the result of each: ``done`` with the detail as its
   result, or ``exception`` with the device's reason (the operator sees it and may
   requeue, which makes the message fetchable again). Reporting twice is harmless.

Only the API users bound to the connector (``ingest_user_ids``) may fetch or report: the
same check as ingest. Messages are read and written as superuser after that check, and
only those of that connector.
"""
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..exceptions import PeerRejected
from ..states import IN_PROGRESS_STATES, MAPPED

MAX_FETCH = 5000
MAX_REPORT = 10000
DETAIL_MAX = 2000


def _valid_ids(value, name):
    """A JSON list of message ids (ints, no bool): refused with the reason otherwise."""
    if value is None:
        return []
    if not isinstance(value, list) or any(type(item) is not int or item <= 0 for item in value):
        raise ValidationError(_("%s must be a list of message ids (positive integers).", name))
    if len(value) > MAX_REPORT:
        raise ValidationError(_("%(name)s holds %(n)s ids; at most %(max)s per call.",
                                name=name, n=len(value), max=MAX_REPORT))
    return value


def _result_problem(item):
    """Why one report item cannot be used, or None."""
    if not isinstance(item, dict):
        return _("not an object")
    if type(item.get("id")) is not int or item["id"] <= 0:
        return _("id must be a message id")
    if type(item.get("ok")) is not bool:
        return _("ok must be true or false")
    detail = item.get("detail")
    if detail is not None and (not isinstance(detail, str) or "\x00" in detail):
        return _("detail must be text")
    return None


class MfgConnector(models.Model):
    _inherit = "mfg.connector"

    def _edge_pull_connector(self, code):
        """The connector the calling device may fetch for, after the ingest rights check."""
        if not isinstance(code, str) or not code:
            raise ValidationError(_("code must be the connector code (text)."))
        connector = self.sudo().search([("code", "=", code)], limit=1)
        if not connector:
            raise UserError(_("Unknown connector code %r", code[:64]))
        self.env["mfg.message"]._check_ingest_rights(connector)
        transport = self.env["mfg.message"]._mfg_transports().get(connector.connector_type)
        if not (transport and transport.pull):
            raise UserError(_("Connector %s is not fetched by its device: Odoo delivers its "
                              "messages itself.", connector.code))
        return connector

    def _edge_messages(self, ids):
        """Outbound messages of this connector among ``ids`` (others are ignored)."""
        self.ensure_one()
        if not ids:
            return self.env["mfg.message"].sudo()
        return self.env["mfg.message"].sudo().search([
            ("id", "in", ids), ("connector_id", "=", self.id), ("direction", "=", "out")])

    @api.model
    def edge_fetch(self, code, ack=None, limit=500):
        """Hand over what the device confirmed holding (``ack``), then return the next
        messages waiting for it: {"messages": [{"id", "envelope"}], "handed_over": n,
        "withdrawn": [ids of ``ack`` cancelled before they were handed over: not to deliver],
        "more": bool}."""
        connector = self._edge_pull_connector(code)
        ack = _valid_ids(ack, "ack")
        if type(limit) is not int or not 1 <= limit <= MAX_FETCH:
            raise ValidationError(_("limit must be an integer from 1 to %s.", MAX_FETCH))
        acked = connector._edge_messages(ack)
        handed = acked.filtered(lambda m: m.state in IN_PROGRESS_STATES and not m.handed_over_at)
        handed.write({"handed_over_at": fields.Datetime.now()})
        # Cancelled (or sent to exception) before the device confirmed holding them: the
        # device must drop them, not deliver them.
        withdrawn = acked.filtered(lambda m: m.state not in IN_PROGRESS_STATES
                                   and not m.handed_over_at)
        waiting = self.env["mfg.message"].sudo().search([
            ("connector_id", "=", connector.id), ("direction", "=", "out"),
            ("state", "in", IN_PROGRESS_STATES), ("handed_over_at", "=", False)],
            order="occurred_at, id", limit=limit)
        # Messages the queue job has not reached yet are validated here: what a device gets
        # is always a valid envelope of an active flow; the others go to exception.
        waiting.filtered(lambda m: m.state != MAPPED)._prepare_for_pickup()
        ready = waiting.filtered(lambda m: m.state == MAPPED)
        connector.write({"last_seen_at": fields.Datetime.now()})
        return {"messages": [{"id": message.id, "envelope": message.as_envelope()}
                             for message in ready],
                "handed_over": len(handed), "withdrawn": withdrawn.ids,
                "more": len(waiting) == limit}

    @api.model
    def edge_report(self, code, results):
        """Record what the device did with the messages it holds: {"done": n, "exception":
        n, "already": n (reported before or no longer waiting), "refused": [{index,
        reason}] (items not understood or not the device's; the others are recorded)}."""
        connector = self._edge_pull_connector(code)
        if not isinstance(results, list) or len(results) > MAX_REPORT:
            raise ValidationError(_("results must be a list of at most %s items.", MAX_REPORT))
        answer = {"done": 0, "exception": 0, "already": 0, "refused": []}
        usable = {}
        for index, item in enumerate(results):
            problem = _result_problem(item)
            if problem:
                answer["refused"].append({"index": index, "reason": problem})
            else:
                usable[index] = item
        messages = {m.id: m for m in connector._edge_messages(
            [item["id"] for item in usable.values()])}
        done_by_detail, refused = {}, []
        for index, item in usable.items():
            message = messages.get(item["id"])
            if message is None:
                answer["refused"].append({"index": index, "reason": _(
                    "message %(id)s is not an outbound message of %(code)s", id=item["id"],
                    code=connector.code)})
            elif message.state not in IN_PROGRESS_STATES:
                answer["already"] += 1      # reported before, or cancelled meanwhile
            elif item["ok"]:
                detail = (item.get("detail") or _("Delivered by %s", connector.code))[:250]
                done_by_detail.setdefault(detail, self.env["mfg.message"].sudo())
                done_by_detail[detail] |= message
            else:
                refused.append((message, (item.get("detail") or _("refused"))[:DETAIL_MAX]))
        for detail, done in done_by_detail.items():
            done._mark_done(detail)
            answer["done"] += len(done)
        for message, reason in refused:
            message._mark_exception(PeerRejected(_("%(code)s refused it: %(reason)s",
                                                   code=connector.code, reason=reason)))
            answer["exception"] += 1
        answer["refused"].sort(key=lambda entry: entry["index"])
        return answer
