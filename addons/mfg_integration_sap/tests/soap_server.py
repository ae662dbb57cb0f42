"""A SAP SOAP service (BAPIs over SOAP 1.1) over real HTTP on 127.0.0.1.

Serves the WSDL of this folder (its address rewritten to this server), checks HTTP basic
auth or a WS-Security UsernameToken, answers the operations with SOAP envelopes and
reports refusals as SOAP faults; each call is its own LUW (committed when it succeeds).
"""
import base64
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

from lxml import etree

from odoo.addons.mfg_integration.tests.common import LocalHttpServer
from odoo.addons.mfg_integration_sap.services.sap_soap import abap_name, mc_name, renamed

from .rfc_peer import FakeRfc, _Connection
from .sap_backend import SapBackend

LOOKUPS = ("BAPI_PRODORDCONF_GETLIST", "BAPI_PRODORDCONF_GETDETAIL", "BAPI_GOODSMVT_GETITEMS",
           "BAPI_PRODORD_GET_DETAIL")

WSDL_PATH = os.path.join(os.path.dirname(__file__), "sap_mfg_bapi.wsdl")
SERVICE_PATH = "/sap/bc/srt/rfc/sap/zmfg_production_bapi/100/zmfg/binding"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
RFC_NS = "urn:sap-com:document:sap:rfc:functions"
MC_STYLE_NS = "urn:sap-com:document:sap:soap:functions:mc-style"
WSSE_NS = ("http://docs.oasis-open.org/wss/2004/01/"
           "oasis-200401-wss-wssecurity-secext-1.0.xsd")


def _xml(tag, value):
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(_xml(k, v) for k, v in value.items()) + f"</{tag}>"
    if isinstance(value, list):
        return f"<{tag}>" + "".join(_xml("item", v) for v in value) + f"</{tag}>"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def envelope(body):
    return (f'<?xml version="1.0" encoding="utf-8"?><soap-env:Envelope xmlns:soap-env='
            f'"{SOAP_NS}"><soap-env:Header/><soap-env:Body>{body}</soap-env:Body>'
            f'</soap-env:Envelope>')


def fault(code, text):
    return envelope(f"<soap-env:Fault><faultcode>{code}</faultcode><faultstring "
                    f'xml:lang="en">{escape(text)}</faultstring></soap-env:Fault>')


def _plain(element):
    """<X><item>..</item></X> -> list, <X><A>1</A></X> -> dict, text otherwise."""
    children = list(element)
    if not children:
        return (element.text or "").strip()
    if all(etree.QName(child).localname == "item" for child in children):
        return [_plain(child) for child in children]
    return {etree.QName(child).localname: _plain(child) for child in children}


def mc_style_wsdl(wsdl):
    """The same service generated with SOAMANAGER's "mc-style" name mapping: its own
    namespace; operations, messages, parameters, fields and types with the underscores
    dropped and each part capitalised; table rows still ``item``; the service definition's
    own names (ZMFG_...) unchanged."""
    wsdl = wsdl.replace(RFC_NS, MC_STYLE_NS)

    def rename(match):
        prefix, name, suffix = match.group(1), match.group(2), match.group(3) or ""
        if name.startswith("ZMFG"):
            return match.group(0)
        return f"{prefix}{mc_name(name)}{suffix}"
    wsdl = re.sub(r'((?:name|type|element|message)="(?:tns:)?)([A-Z][A-Z0-9_]*)'
                  r'(Response|Request)?(?=")', rename, wsdl)
    return re.sub(r"(ZMFG_PRODUCTION_BAPI:)([A-Z][A-Z0-9_]*)(Request)",
                  rename, wsdl)


class SoapSimulator(LocalHttpServer):
    def __init__(self, backend=None, user="SOAP_USER", password="secret", wsse=False,
                 mc_style=False):
        self.backend = backend or SapBackend()
        self.user, self.password, self.wsse = user, password, wsse
        # mc-style: the service speaks only mc-style names; an ABAP name is a Client fault
        # as SAP's runtime answers an element its service definition does not have.
        self.mc_style = mc_style
        self.namespace = MC_STYLE_NS if mc_style else RFC_NS
        self.sleep_s = 0.0
        self.slow_operation = None  # sleep_s applies to this operation only (ABAP name)
        self.requests = []
        self.in_flight = 0
        self.lost_answers = 0
        self.idle = threading.Condition()
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Without it, small keep-alive answers wait ~40 ms for delayed ACKs and
            # one-call-per-message would look far slower than it is.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                with open(WSDL_PATH, encoding="utf-8") as stream:
                    wsdl = stream.read().replace("http://127.0.0.1:1" + SERVICE_PATH,
                                                 simulator.service_url)
                if simulator.mc_style:
                    wsdl = mc_style_wsdl(wsdl)
                simulator._send(self, 200, wsdl, "text/xml")

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with simulator.idle:
                    simulator.in_flight += 1
                try:
                    simulator._post(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up: SAP posted, its answer is lost.
                    simulator.lost_answers += 1
                finally:
                    with simulator.idle:
                        simulator.in_flight -= 1
                        simulator.idle.notify_all()

        self._serve(Handler)
        self.service_url = self.base_url + SERVICE_PATH
        self.wsdl_url = self.base_url + "/sap/bc/srt/wsdl/zmfg_production_bapi?sap-client=100"

    def wait_idle(self, timeout=5.0):
        """Wait until calls the client gave up on are processed (SAP finishes the LUW it
        started): the next test step then sees their postings."""
        with self.idle:
            self.idle.wait_for(lambda: self.in_flight == 0, timeout)

    def _send(self, handler, status, text, content_type="text/xml; charset=utf-8"):
        data = text.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _post(self, handler, body):
        self.requests.append(body)
        if not self.wsse:
            expected = "Basic " + base64.b64encode(
                f"{self.user}:{self.password}".encode()).decode()
            if handler.headers.get("Authorization") != expected:
                return self._send(handler, 401, "<html>Logon failed</html>", "text/html")
        try:
            root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError as exc:
            return self._send(handler, 500, fault("soap-env:Client", f"XML not readable: {exc}"))
        if self.wsse:
            user = root.findtext(f".//{{{WSSE_NS}}}Username")
            password = root.findtext(f".//{{{WSSE_NS}}}Password")
            if (user, password) != (self.user, self.password):
                return self._send(handler, 500, fault(
                    "wsse:FailedAuthentication", "The security token could not be "
                    "authenticated or authorized"))
        request = root.find(f"{{{SOAP_NS}}}Body")[0]
        operation = etree.QName(request).localname
        if etree.QName(request).namespace != self.namespace:
            return self._send(handler, 500, fault(
                "soap-env:Client", f"{operation} is not an operation of namespace "
                f"{self.namespace}"))
        params = _plain(request) or {}
        if self.mc_style:
            wrong = next((etree.QName(e).localname for e in request.iter()
                          if etree.QName(e).localname not in
                          ("item", mc_name(abap_name(etree.QName(e).localname)))), None)
            if wrong:
                return self._send(handler, 500, fault(
                    "soap-env:Client", f"Element {wrong} is not part of the service"))
            operation, params = abap_name(operation), renamed(params, abap_name)
        if self.sleep_s and self.slow_operation in (None, operation):
            time.sleep(self.sleep_s)
        result = self._run(operation, params)
        if result is None:
            return self._send(handler, 500, fault("soap-env:Client",
                                                  f"Operation {operation} not supported"))
        result = _trimmed(result)
        if self.mc_style:
            operation, result = mc_name(operation), renamed(result, mc_name)
        response = _xml(f"n0:{operation}Response", result).replace(
            f"<n0:{operation}Response>",
            f'<n0:{operation}Response xmlns:n0="{self.namespace}">', 1)
        return self._send(handler, 200, envelope(response))

    def _run(self, operation, params):
        """The function module's answer, or None for an operation the service lacks."""
        if operation == "BAPI_PRODORDCONF_CREATE_TT":
            overall, details, postings = self.backend.confirm(
                params.get("TIMETICKETS") or [], params.get("POST_WRONG_ENTRIES") or "0")
            self.backend.commit_confirmations(postings)
            result = {"RETURN": overall, "DETAIL_RETURN": details}
        elif operation == "BAPI_GOODSMVT_CREATE":
            number, year, rows, posting = self.backend.goods_movement(
                params.get("GOODSMVT_HEADER") or {}, params.get("GOODSMVT_CODE") or {},
                params.get("GOODSMVT_ITEM") or [])
            self.backend.commit_document(posting)
            result = {"MATDOCUMENTYEAR": year, "MATERIALDOCUMENT": number, "RETURN": rows}
        elif operation in LOOKUPS:
            # The read BAPIs answer as they do over RFC (the same function modules).
            result = getattr(_Connection(FakeRfc(self.backend)), "_" + operation.lower())(
                **{k: (v if v != "" else []) for k, v in params.items()})
            result = {k: v for k, v in result.items()
                      if k in ("CONFIRMATIONS", "CONF_DETAIL", "GOODSMVT_HEADER", "RETURN",
                               "COMPONENT")}
        else:
            return None
        return result


BAPIRET_FIELDS = ("TYPE", "ID", "NUMBER", "MESSAGE", "ROW", "FLG_LOCKED", "CONF_NO", "CONF_CNT")


def _trimmed(value):
    """BAPIRET rows in the element order of the WSDL's sequence, with its fields only."""
    if isinstance(value, dict):
        if {"TYPE", "MESSAGE"} <= set(value):
            return {k: value[k] for k in BAPIRET_FIELDS if k in value}
        return {k: _trimmed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trimmed(v) for v in value]
    return value
