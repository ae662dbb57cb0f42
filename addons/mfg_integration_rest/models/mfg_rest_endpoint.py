# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import hashlib
import json
import logging
from datetime import timedelta, timezone
from urllib.parse import urljoin

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from odoo.addons.mfg_integration.exceptions import MfgBusinessError, MfgSecretError
from odoo.addons.mfg_integration.models.mfg_mapping import MAPPING_TARGETS, MAPPING_TYPES
from odoo.addons.mfg_integration.services import access
from odoo.addons.mfg_integration.services.transport import (
    PeerRejected,
    TransportError,
    retry_after_seconds,
    send_with_auth,
)

from ..services import rest_mapping, rest_pull
from ..services.rest_mapping import MappingError

_logger = logging.getLogger(__name__)

REST_TYPES = ("mes_rest", "generic_rest")
BODY_MODES = [
    ("envelope", "Canonical envelope"),
    ("payload", "Canonical payload"),
    ("template", "JSON template"),
    ("fields", "Field list"),
]


class MfgRestEndpoint(models.Model):
    """How one flow of a REST connector talks HTTP.

    Outbound flows: method, path template, body (envelope, payload, JSON template or field
    list), success codes and the response field holding the peer's reference. Inbound
    flows: a pull (path, query, pagination, items path, since-cursor) whose items become
    canonical envelopes ingested through ``mfg.message.ingest``, so deduplication,
    validation, mapping and retries stay the core's.
    """

    _name = "mfg.rest.endpoint"
    _description = "REST Endpoint of a Flow"
    _inherit = ["mail.thread"]
    _order = "flow_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    flow_id = fields.Many2one("mfg.flow", required=True, ondelete="cascade", index=True,
                              check_company=True,
                              tracking=True, domain="[('connector_id.connector_type', 'in', "
                              "('mes_rest', 'generic_rest'))]")
    connector_id = fields.Many2one(related="flow_id.connector_id", store=True, index=True)
    company_id = fields.Many2one(related="flow_id.company_id", store=True, string="Plant")
    canonical_type = fields.Selection(related="flow_id.canonical_type")
    direction = fields.Selection(related="flow_id.direction")
    # ------------------------------------------------------------ push (outbound)
    http_method = fields.Selection(
        [("POST", "POST"), ("PUT", "PUT"), ("PATCH", "PATCH"), ("DELETE", "DELETE")],
        string="Method", default="POST", required=True, tracking=True)
    path_template = fields.Char(
        "Path", tracking=True,
        help="Appended to the connector's endpoint. {order_ref} is a payload field, "
        "{envelope.key} any context path; values are URL-encoded.")
    body_mode = fields.Selection(BODY_MODES, default="envelope", required=True, tracking=True)
    body_template = fields.Text(
        "Body template", tracking=True,
        help='JSON whose strings may hold placeholders: "{{ payload.qty_good | float }}" '
        '(a whole-string placeholder keeps the value\'s type), "{{ envelope.key }}". Filters: '
        "str, int, float, bool, upper, lower, iso_datetime, date, map:<mapping type>, optional.")
    success_codes = fields.Char(default="200,201,202,204", required=True, tracking=True)
    response_ref_path = fields.Char(
        "Reference in response", tracking=True,
        help="Path of the peer's document reference in its JSON answer (e.g. data.id); "
        "recorded on the message.")
    # ------------------------------------------------------------ pull (inbound)
    pull_path = fields.Char("Pull path", tracking=True)
    pull_query = fields.Text(
        "Query parameters", tracking=True,
        help='JSON object of query parameters, e.g. {"plant": "1010"}.')
    pagination = fields.Selection(rest_pull.PAGINATION_STYLES, default="none", required=True,
                                  tracking=True)
    page_param = fields.Char(default="page")
    first_page = fields.Integer(default=1)
    page_size_param = fields.Char("Page size parameter", default="per_page")
    page_size = fields.Integer(default=100)
    offset_param = fields.Char(default="offset")
    cursor_param = fields.Char(default="cursor")
    next_cursor_path = fields.Char("Next cursor in response", default="next_cursor")
    next_link_path = fields.Char("Next link in response", default="links.next")
    items_path = fields.Char("Items in response", default="data",
                             help="Path of the list of items; empty when the answer is the list.")
    since_param = fields.Char("Since parameter", tracking=True,
                              help="Query parameter that receives the checkpoint, e.g. "
                              "updated_since.")
    since_field = fields.Char("Since field of items", tracking=True,
                              help="Item path whose highest value becomes the checkpoint, "
                              "e.g. updated_at.")
    pull_checkpoint = fields.Char(
        "Checkpoint", tracking=True, copy=False,
        help="Sent as the since parameter. Moved forward only after a complete pull in "
        "which every item was accepted; clear it to pull everything again (duplicates are "
        "dropped by their keys).")
    key_template = fields.Char(
        "Message key", help="E.g. {{ item.id }}:{{ item.updated_at }}. Empty: a hash of "
        "the item, so an unchanged item pulled again is a duplicate.")
    occurred_at_path = fields.Char("Occurred at (item path)")
    last_pull_at = fields.Datetime(readonly=True, copy=False)
    last_pull_ok = fields.Boolean(readonly=True, copy=False)
    last_pull_result = fields.Text(readonly=True, copy=False)
    # ------------------------------------------------------------ mapping + preview
    field_map_ids = fields.One2many("mfg.rest.field.map", "endpoint_id", string="Field list",
                                    copy=True)
    sample = fields.Text(
        help="Outbound: a sample canonical payload. Inbound: a sample response page of the "
        "peer. The preview shows what the endpoint makes of it.")
    preview = fields.Text(compute="_compute_preview")

    @api.constrains("success_codes", "body_template", "pull_query")
    def _check_config(self):
        for endpoint in self:
            endpoint._success_codes()
            if endpoint.body_mode == "template" and endpoint.body_template:
                try:
                    rest_mapping.parse_template(endpoint.body_template)
                except MappingError as exc:
                    raise ValidationError(str(exc)) from None
            if endpoint.pull_query and not isinstance(endpoint._json_object(
                    endpoint.pull_query, _("Query parameters")), dict):
                raise ValidationError(_("Query parameters must be a JSON object."))

    def _json_object(self, text, label):
        try:
            return json.loads(text) if text else {}
        except ValueError as exc:
            raise ValidationError(_("%(label)s: not valid JSON: %(error)s", label=label,
                                    error=exc)) from None

    def _success_codes(self):
        try:
            return {int(code) for code in (self.success_codes or "").replace(" ", "").split(",")
                    if code}
        except ValueError:
            raise ValidationError(_("Success codes must be HTTP status numbers separated by "
                                    "commas, e.g. 200,201.")) from None

    # ---------------------------------------------------------------- mapping
    def _external_code(self, kind, value):
        """``map:<kind>``: the peer's code of an Odoo value (a mapping's target record name,
        internal reference or code, or its value), connector-specific mappings first."""
        if kind not in MAPPING_TARGETS:
            raise MappingError(f"map:{kind}: unknown mapping type (allowed: "
                               f"{', '.join(code for code, _label in MAPPING_TYPES)})")
        target_field = MAPPING_TARGETS[kind]
        mappings = self.env["mfg.mapping"].sudo().search([
            ("mapping_type", "=", kind), ("company_id", "=", self.company_id.id),
            ("connector_id", "in", [self.connector_id.id, False])], order="connector_id, id")
        wanted = str(value)
        for mapping in mappings:
            target = mapping[target_field]
            names = {target} if isinstance(target, str) else {
                target.display_name, target.name, getattr(target, "default_code", None),
                getattr(target, "code", None)} if target else set()
            if wanted in names:
                return mapping.external_code
        raise MappingError(f"map:{kind}: no mapping of {self.connector_id.code} for the Odoo "
                           f"value {wanted!r}")

    def _lines(self, kind):
        return [(line.target_path, line.source_path, line._transform_spec(), line.required)
                for line in self.field_map_ids if line.kind == kind]

    def _build_request(self, envelope):
        """(url, body or None, headers) of an outbound message; MappingError if it cannot."""
        self.ensure_one()
        context = {"payload": envelope.get("payload") or {}, "envelope": envelope,
                   "connector": {"code": self.connector_id.code}}
        base = (self.connector_id.endpoint_url or "").rstrip("/") + "/"
        path = rest_mapping.render_path(self.path_template or "", context, self._external_code)
        url = urljoin(base, path.lstrip("/")) if path else base.rstrip("/")
        if self.body_mode == "envelope":
            body = envelope
        elif self.body_mode == "payload":
            body = context["payload"]
        elif self.body_mode == "template":
            body = rest_mapping.render_template(self.body_template or "null", context,
                                                self._external_code)
        else:
            body = rest_mapping.build_from_lines(self._lines("request"), context,
                                                 self._external_code)
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   # Lets peers that support it drop a re-sent message.
                   "Idempotency-Key": envelope.get("key", ""),
                   "X-Mfg-Event": envelope.get("type", "")}
        if self.http_method == "DELETE" and body in (None, {}):
            body = None
        return url, body, headers

    def _item_to_envelope(self, item, page):
        context = {"item": item, "page": page, "checkpoint": self.pull_checkpoint}
        lines = self._lines("item")
        payload = rest_mapping.build_from_lines(lines, context) if lines else item
        if not isinstance(payload, dict):
            raise MappingError("the item is not a JSON object: map it with a field list")
        if self.key_template:
            key = rest_mapping.render_text(self.key_template, context).strip()
            if not key:
                raise MappingError("the message key template gave an empty key")
        else:
            digest = hashlib.sha1(json.dumps(item, sort_keys=True, default=str).encode())
            key = f"rest:{self.flow_id.canonical_type}:{digest.hexdigest()[:24]}"
        occurred = fields.Datetime.now().replace(tzinfo=timezone.utc)
        if self.occurred_at_path:
            occurred = rest_mapping.get_path(context, f"item.{self.occurred_at_path}")
        return {
            "key": key[:200], "type": self.flow_id.canonical_type,
            "schema_version": self.flow_id.schema_version, "source": self.connector_id.code,
            "occurred_at": rest_mapping.apply_transform("iso_datetime", occurred),
            "payload": payload,
        }

    @api.depends("sample", "direction", "body_mode", "body_template", "path_template",
                 "http_method", "field_map_ids", "field_map_ids.target_path",
                 "field_map_ids.source_path", "field_map_ids.transform",
                 "field_map_ids.map_type", "field_map_ids.value_table",
                 "field_map_ids.required", "field_map_ids.kind",
                 "items_path", "key_template", "occurred_at_path")
    def _compute_preview(self):
        for endpoint in self:
            try:
                endpoint.preview = endpoint._render_preview()
            except (MappingError, ValidationError, ValueError) as exc:
                endpoint.preview = _("Error: %s", exc.args[0] if exc.args else exc)

    def _render_preview(self):
        if not self.sample:
            return _("Enter a sample to see what is sent (outbound) or ingested (inbound).")
        sample = json.loads(self.sample)
        if self.direction == "in":
            items = rest_mapping.get_path(sample, self.items_path) if self.items_path else sample
            if not isinstance(items, list):
                raise MappingError(f"the items at {self.items_path or 'the top level'} are not "
                                   "a list")
            envelopes = [self._item_to_envelope(item, sample) for item in items]
            return json.dumps(envelopes, indent=2, ensure_ascii=False)
        envelope = {"key": "SAMPLE-1", "type": self.canonical_type or "", "schema_version": 1,
                    "source": self.connector_id.code or "", "payload": sample,
                    "occurred_at": "2026-11-23T08:00:00+00:00"}
        url, body, _headers = self._build_request(envelope)
        text = f"{self.http_method} {url}"
        if body is not None:
            text += "\n\n" + json.dumps(body, indent=2, ensure_ascii=False)
        return text

    # ----------------------------------------------------------------- push
    def _deliver(self, message):
        """Send one outbound message; return a summary or raise (business error or retry)."""
        self.ensure_one()
        connector = self.connector_id.sudo()
        if not connector.endpoint_url:
            raise MfgBusinessError(_("Connector %s has no endpoint URL.", connector.code))
        try:
            url, body, headers = self._build_request(message.as_envelope())
        except MappingError as exc:
            raise MfgBusinessError(_("Request mapping of endpoint %(name)s failed: %(error)s",
                                     name=self.name, error=exc)) from None
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        response = send_with_auth(connector, self.http_method, url, headers=headers, data=data)
        status = response.status_code
        where = f"{self.http_method} {url}"
        if status in self._success_codes():
            return self._accepted_summary(response, where)
        text = response.text[:500].strip()
        if status in (408, 429) or status >= 500:
            raise TransportError(f"HTTP {status} from {where}: {text}",
                                 retry_after_s=retry_after_seconds(response))
        if status >= 400:
            raise PeerRejected(f"HTTP {status} from {where}: {text}")
        raise PeerRejected(f"Unexpected HTTP {status} from {where} (success codes: "
                           f"{self.success_codes}): {text}")

    def _accepted_summary(self, response, where):
        summary = _("HTTP %(status)s from %(where)s", status=response.status_code, where=where)
        if not self.response_ref_path:
            return summary
        try:
            reference = rest_mapping.get_path(response.json(), self.response_ref_path)
        except ValueError as exc:  # MappingError is a ValueError too
            # The peer took the request but its answer cannot be read: a person checks
            # whether the document exists before requeueing (no blind re-send).
            reason = exc if isinstance(exc, MappingError) else _("the answer is not JSON")
            raise MfgBusinessError(_(
                "%(summary)s accepted the request, but its reference at %(path)s cannot be "
                "read: %(reason)s. Answer: %(body)s", summary=summary,
                path=self.response_ref_path, reason=reason,
                body=response.text[:300])) from None
        return _("%(summary)s, reference %(ref)s", summary=summary, ref=reference)

    # ----------------------------------------------------------------- pull
    # The plant follows the flow: a flow of another plant would move the endpoint (and the
    # pulls it runs with that connector's credentials) there.
    @api.model_create_multi
    def create(self, vals_list):
        endpoints = super().create(vals_list)
        access.ensure_companies_allowed(self.env, endpoints.company_id, _("A REST endpoint"))
        return endpoints

    def write(self, vals):
        result = super().write(vals)
        if "flow_id" in vals:
            access.ensure_companies_allowed(self.env, self.company_id, _("A REST endpoint"))
        return result

    def action_pull_now(self):
        """Pull now (Integration Operators; the pull runs as superuser with the connector's
        credentials, once the endpoint was read with the user's rights)."""
        self.ensure_one()
        if not self.env.user.has_group("mfg_integration.group_mfg_operator"):
            raise AccessError(_("Only Integration Operators can start a pull."))
        # The id comes from the caller: record rules decide before sudo().
        self.check_access("read")
        # Real-time flows process what was pulled at once (ingest queues it); scheduled
        # flows at their next run.
        ok, text = self.sudo()._pull()
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"message": text, "type": "success" if ok else "warning",
                           "sticky": not ok}}

    def _fetch_json(self, connector):
        def fetch(url, params):
            response = send_with_auth(connector, "GET", url, params=params,
                                      headers={"Accept": "application/json"})
            status, text = response.status_code, response.text[:300].strip()
            if status in (408, 429) or status >= 500:
                raise TransportError(f"HTTP {status} from GET {url}: {text}",
                                     retry_after_s=retry_after_seconds(response))
            if status >= 400:
                raise PeerRejected(f"HTTP {status} from GET {url}: {text}")
            try:
                return response.json()
            except ValueError:
                raise MappingError(f"GET {url} answered HTTP {status} with a body that is not "
                                   f"JSON: {text[:200]!r}") from None
        return fetch

    def _pull(self):
        """Pull all pages changed since the checkpoint into the inbox; (ok, summary)."""
        self.ensure_one()
        connector = self.connector_id.sudo()
        params = self._json_object(self.pull_query, _("Query parameters"))
        if self.since_param and self.pull_checkpoint:
            params[self.since_param] = self.pull_checkpoint
        url = urljoin((connector.endpoint_url or "").rstrip("/") + "/",
                      (self.pull_path or "").lstrip("/"))
        Message = self.env["mfg.message"].sudo()
        pages = items_seen = accepted = duplicates = 0
        rejected = []
        newest = self.pull_checkpoint or None
        try:
            for page, items in rest_pull.iter_pages(
                    self._fetch_json(connector), url, params, style=self.pagination,
                    items_path=self.items_path or "", page_param=self.page_param or "page",
                    first_page=self.first_page, size_param=self.page_size_param or "",
                    page_size=self.page_size, offset_param=self.offset_param or "offset",
                    cursor_param=self.cursor_param or "cursor",
                    next_cursor_path=self.next_cursor_path or "",
                    next_link_path=self.next_link_path or ""):
                pages += 1
                envelopes = []
                for index, item in enumerate(items, start=items_seen):
                    try:
                        envelopes.append(self._item_to_envelope(item, page))
                    except MappingError as exc:
                        rejected.append(f"item {index}: {exc}")
                    if self.since_field and isinstance(item, dict):
                        newest = rest_pull.later(newest, rest_mapping.get_path(
                            item, self.since_field, None))
                items_seen += len(items)
                result = Message.ingest(envelopes) if envelopes else {
                    "accepted": 0, "duplicates": 0, "rejected": []}
                accepted += result["accepted"]
                duplicates += result["duplicates"]
                rejected += [f"item key {entry['key']}: {entry['error']}"
                             for entry in result["rejected"]]
        except (TransportError, PeerRejected, MappingError, MfgSecretError) as exc:
            # MfgSecretError: the connector's secret cannot be decrypted; recorded on the
            # endpoint like any failed pull instead of aborting the scheduler's other flows.
            text = _("Pull failed after %(pages)s page(s) (%(new)s new message(s) kept; "
                     "checkpoint unchanged): %(error)s", pages=pages, new=accepted, error=exc)
            self._pull_done(False, text, retry_after_s=getattr(exc, "retry_after_s", None))
            return False, text
        text = _("%(pages)s page(s), %(items)s item(s): %(new)s new, %(dup)s duplicate(s), "
                 "%(bad)s rejected", pages=pages, items=items_seen, new=accepted,
                 dup=duplicates, bad=len(rejected))
        if rejected:
            # Keep the checkpoint: the rejected items come back with the next pull.
            text += "\n" + "\n".join(rejected[:50])
        elif newest not in (None, ""):
            self.pull_checkpoint = str(newest)
        self._pull_done(not rejected, text)
        return not rejected, text

    def _pull_done(self, ok, text, retry_after_s=None):
        now = fields.Datetime.now()
        self.write({"last_pull_at": now, "last_pull_ok": ok, "last_pull_result": text})
        if not ok:
            _logger.warning("REST pull %s of %s: %s", self.name, self.connector_id.code, text)
        flow = self.flow_id.sudo()
        if retry_after_s and flow.sync_mode == "scheduled":
            not_before = now + timedelta(seconds=retry_after_s)
            if not flow.next_run_at or flow.next_run_at < not_before:
                flow.next_run_at = not_before
