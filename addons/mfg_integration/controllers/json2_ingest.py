# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``POST /json/2/mfg.message/ingest`` with the body parsed by the canonical parser.

Odoo's JSON-2 dispatcher parses the body with ``json.loads`` before any addon code runs: a
body nested deeper than the interpreter's recursion limit raised RecursionError (HTTP 500,
nothing stored) and invalid UTF-8 was silently replaced by U+FFFD. This dispatcher is Odoo's
JSON-2 dispatcher (same bearer authentication, same error answers through its
``handle_error``) except for the parsing, done by ``mfg_canonical.jsonio.loads``: a deep
payload then becomes that envelope's reject ("nested deeper than 32 levels") and an unusable
body a 400 with the reason. The route is more specific than ``/json/2/<model>/<method>``, so
the router picks it for this one method; every other JSON-2 call is untouched.
"""
from mfg_canonical import find_bad_value, jsonio
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnprocessableEntity

from odoo import http
from odoo.http import Json2Dispatcher, request


class MfgIngestJson2Dispatcher(Json2Dispatcher):
    routing_type = "mfg_json2"

    def dispatch(self, endpoint, args):
        params = dict(args)
        httprequest = self.request.httprequest
        if httprequest.content_length:
            # werkzeug's get_data does not enforce max_content_length (Odoo's 128 MiB
            # default or web.max_file_upload_size): refuse before reading, not after.
            limit = httprequest.max_content_length
            if limit and httprequest.content_length > limit:
                raise RequestEntityTooLarge(f"body of {httprequest.content_length} bytes exceeds "
                                            f"the maximum of {limit} bytes; nothing was stored")
            try:
                body = jsonio.loads(httprequest.get_data())
            except jsonio.BodyError as exc:
                # Same wording as Odoo's JSON-2 dispatcher: clients may match on it.
                raise BadRequest(f"could not parse the body as json: {exc}") from None
            if not isinstance(body, dict):
                raise BadRequest('the body must be a JSON object: {"envelopes": [...]}')
            params = body | params
        self.request.params = params
        result = self.request.registry["ir.http"]._dispatch(endpoint)
        return self.request.make_json_response(result)


class MfgIngestJson2(http.Controller):
    @http.route("/json/2/mfg.message/ingest", methods=["POST"], auth="bearer",
                type=MfgIngestJson2Dispatcher.routing_type, readonly=False,
                save_session=False)
    def mfg_message_ingest(self, envelopes=None, context=None, ids=(), **unexpected):
        if unexpected:
            raise UnprocessableEntity(f"mfg.message.ingest() got unexpected argument(s) "
                                      f"{', '.join(sorted(map(repr, unexpected)))}")
        if ids:
            raise UnprocessableEntity("cannot call mfg.message.ingest with ids")
        if context is not None and not isinstance(context, dict):
            raise UnprocessableEntity("'context' must be a JSON object")
        # The context reaches SQL (lang, tz): the same value rules as envelopes apply.
        bad = find_bad_value(context or {}, path="context")
        if bad:
            raise UnprocessableEntity(f"{bad[0]}: {bad[1]}")
        return request.env["mfg.message"].with_context(**(context or {})).ingest(envelopes)
