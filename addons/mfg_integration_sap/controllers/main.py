# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""IDoc-XML push endpoint: SAP (or its middleware) posts LOIPRO / MATMAS IDocs here.

``POST /mfg/sap/idoc/<connector code>`` with the IDoc-XML as body, authenticated with an
Odoo API key of a user bound to the connector (``Authorization: Bearer <key>``,
``X-Api-Key: <key>`` or HTTP basic ``login:<key>``, which is what SAP's HTTP RFC
destinations can send). LOIPRO orders become ``production.order`` envelopes stored by
``mfg.message.ingest``; MATMAS materials update the connector's product mappings.
"""
import base64
import binascii
import json
import logging

from odoo import http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request

from ..services import sap_idoc

_logger = logging.getLogger(__name__)


def _reply(status, body):
    return request.make_response(json.dumps(body), status=status,
                                 headers=[("Content-Type", "application/json")])


class SapIdocController(http.Controller):
    def _api_key_user(self):
        """uid of the API key in the request headers, or None."""
        headers = request.httprequest.headers
        authorization = headers.get("Authorization", "")
        key, login = headers.get("X-Api-Key"), None
        scheme, _sep, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            key = value.strip()
        elif scheme.lower() == "basic":
            try:
                login, _sep, key = base64.b64decode(value.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
        if not key:
            return None
        uid = request.env["res.users.apikeys"]._check_credentials(scope="rpc", key=key)
        if uid and login is not None:
            user_login = request.env["res.users"].sudo().browse(uid).login
            uid = uid if user_login == login else None
        return uid or None

    @http.route("/mfg/sap/idoc/<string:code>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False, readonly=False)
    def receive_idoc(self, code, **_kwargs):
        uid = self._api_key_user()
        if not uid:
            response = _reply(401, {"error": "authentication required: send an Odoo API key "
                                    "(Authorization: Bearer, X-Api-Key or basic login:key)"})
            response.headers["WWW-Authenticate"] = 'Basic realm="mfg-sap"'
            return response
        request.update_env(user=uid)
        env = request.env
        connector = env["mfg.connector"].sudo().search([("code", "=", code)], limit=1)
        if not connector or connector.connector_type not in ("sap_rfc", "sap_soap", "sap_odata"):
            return _reply(404, {"error": f"no SAP connector with code {code!r}"})
        try:
            env["mfg.message"]._check_ingest_rights(connector)
        except AccessError as exc:
            return _reply(403, {"error": str(exc.args[0] if exc.args else exc)})
        length = request.httprequest.content_length or 0
        if length > sap_idoc.MAX_IDOC_BYTES:
            return _reply(413, {"error": f"body of {length} bytes exceeds "
                                f"{sap_idoc.MAX_IDOC_BYTES}"})
        try:
            message_type, idocs = sap_idoc.parse(request.httprequest.get_data())
            if message_type == "LOIPRO":
                return self._receive_orders(env, connector, idocs)
            if message_type == "MATMAS":
                materials = sap_idoc.matmas_materials(idocs, connector.sap_language or "EN")
                summary = env["mfg.sap.material"].sudo()._sync(connector, materials)
                answer = {"idocs": len(idocs), "result": summary}
                # The material master itself, applied to products by its handler.
                master = env["mfg.sap.material"]._ingest_material_master(connector, materials)
                if master is not None:
                    answer["material.master"] = master
                return _reply(200, answer)
            return _reply(400, {"error": f"message type {message_type} is not handled here "
                                "(LOIPRO, MATMAS)"})
        except sap_idoc.IdocError as exc:
            return _reply(400, {"error": f"IDoc rejected: {exc}"})
        except (UserError, ValidationError) as exc:
            request.env.cr.rollback()
            return _reply(400, {"error": str(exc.args[0] if exc.args else exc)})

    def _receive_orders(self, env, connector, idocs):
        flow = env["mfg.flow"].sudo().search([
            ("connector_id", "=", connector.id), ("canonical_type", "=", "production.order"),
            ("direction", "=", "in")], limit=1)
        orders = [order for _docnum, order in sap_idoc.loipro_orders(
            idocs, connector.sap_timezone or "UTC")]
        envelopes, skipped = flow._sap_order_envelopes(connector, orders)
        result = env["mfg.message"].ingest(envelopes) if envelopes else \
            {"accepted": 0, "duplicates": 0, "rejected": []}
        result.update(idocs=len(idocs), orders=len(orders), skipped=skipped)
        _logger.info("LOIPRO from %s: %s", connector.code, result)
        return _reply(202, result)
