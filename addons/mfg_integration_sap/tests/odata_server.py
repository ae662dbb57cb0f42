"""A SAP Gateway OData V2 service over real HTTP on 127.0.0.1, for tests and benchmark.

Speaks what the addon must cope with: basic auth (401), the CSRF handshake bound to the
session cookie (403 + "x-csrf-token: Required" when missing or expired), server-side
paging with ``__next``, ``$filter`` on plant and LastChangeDateTime, ETags with 412,
``$batch`` with changesets, Gateway error bodies, slow and malformed answers on demand.
As strict as Gateway about what SAP publishes (tests/sap_metadata/odata.py): a request
body with an unknown property or a value of the wrong Edm type or length is refused with
400, entities are answered in the published types (TotalQuantity as Edm.Decimal string,
LastChangeDateTime as a 14-digit Edm.String, dates as Edm.DateTime plus Edm.Time, flags
as "X"/""), a $filter comparing LastChangeDateTime with a datetimeoffset literal is a
400, and an inner $batch request without ``Accept: application/json`` gets Atom XML.
"""
import base64
import json
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from odoo.addons.mfg_integration.tests.common import LocalHttpServer

from .sap_backend import SapBackend
from .sap_metadata import body_problems
from .sap_metadata import gateway_error as metadata_gateway_error
from .sap_metadata.odata import ORDER_UPDATABLE, TYPES

ORDER_SRV = "/sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV"
CONF_SRV = "/sap/opu/odata/sap/API_PROD_ORDER_CONFIRMATION_2_SRV"
MATDOC_SRV = "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV"
PRODUCT_SRV = "/sap/opu/odata/sap/API_PRODUCT_SRV"
BOM_SRV = "/sap/opu/odata/sap/API_BILL_OF_MATERIAL_SRV"
METADATA = ('<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="1.0" '
            'xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx"><edmx:DataServices/>'
            '</edmx:Edmx>')


gateway_error = metadata_gateway_error


def edm_date(moment):
    """Edm.DateTime of a date-only property: the day at 00:00 UTC."""
    day = datetime(moment.year, moment.month, moment.day, tzinfo=timezone.utc)
    return f"/Date({int(day.timestamp()) * 1000})/"


def edm_time(moment):
    return f"PT{moment.hour:02d}H{moment.minute:02d}M{moment.second:02d}S"


def parse_edm_date(value):
    match = re.fullmatch(r"/Date\((-?\d+)\)/", str(value or ""))
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=timezone.utc) if match else None


def parse_edm_time(value):
    match = re.fullmatch(r"PT(\d+)H(\d+)M(\d+)S", str(value or ""))
    return tuple(int(part) for part in match.groups()) if match else (0, 0, 0)


def alpha(value, width):
    return value.zfill(width) if value.isdigit() else value


def invalid(problems):
    return 400, gateway_error("/IWBEP/CM_MGW_RT/000", "; ".join(problems)[:500],
                              [("/IWBEP/CX_MGW_BUSI_EXCEPTION", p) for p in problems]), {}


class ODataSimulator(LocalHttpServer):
    def __init__(self, backend=None, user="ODATA_USER", password="secret", page_size=1000):
        self.backend = backend or SapBackend()
        self.user, self.password = user, password
        self.page_size = page_size
        self.sessions = {}       # cookie -> csrf token
        self.requests = []       # (method, path, query)
        self.sleep_s = 0.0
        self.slow_posts = 0      # the next N POSTs are answered after the client gave up
        self.in_flight = 0
        self.lost_answers = 0
        self.idle = threading.Condition()
        self.malformed = False
        self.token_fetches = 0
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Without it, small keep-alive answers wait ~40 ms for delayed ACKs and
            # one-call-per-message would look far slower than it is.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                simulator._counted(self, "GET")

            def do_POST(self):  # noqa: N802
                simulator._counted(self, "POST")

            def do_PATCH(self):  # noqa: N802
                simulator._counted(self, "PATCH")

        self._serve(Handler)
        self.url = self.base_url

    def wait_idle(self, timeout=5.0):
        """Wait until requests the client gave up on have been processed (SAP finishes
        what it started): the next test step then sees their postings."""
        with self.idle:
            self.idle.wait_for(lambda: self.in_flight == 0, timeout)

    def _counted(self, handler, method):
        with self.idle:
            self.in_flight += 1
        try:
            self._handle(handler, method)
        except (BrokenPipeError, ConnectionResetError):
            # The client timed out and closed the connection: SAP's answer is lost.
            self.lost_answers += 1
        finally:
            with self.idle:
                self.in_flight -= 1
                self.idle.notify_all()

    def expire_tokens(self):
        self.sessions = {cookie: None for cookie in self.sessions}

    # ------------------------------------------------------------------ HTTP
    def _send(self, handler, status, body=b"", headers=None, content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body, default=str).encode()
        elif isinstance(body, str):
            body = body.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _handle(self, handler, method):
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        self.requests.append((method, parts.path, query))
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            return self._send(handler, 401, "<html><body>Logon failed</body></html>",
                              {"WWW-Authenticate": 'Basic realm="SAP NetWeaver"'}, "text/html")
        if self.sleep_s:
            time.sleep(self.sleep_s)
        if method == "POST" and self.slow_posts > 0:
            self.slow_posts -= 1
            time.sleep(1.0)
        cookie = (re.search(r"SAP_SESSIONID=(\w+)", handler.headers.get("Cookie", "")) or
                  [None, None])[1]
        extra = {}
        if not cookie:
            cookie = secrets.token_hex(8)
            self.sessions[cookie] = None
            extra["Set-Cookie"] = f"SAP_SESSIONID={cookie}; path=/"
        if method == "GET" and handler.headers.get("x-csrf-token", "").lower() == "fetch":
            self.token_fetches += 1
            self.sessions[cookie] = secrets.token_hex(12)
            extra["x-csrf-token"] = self.sessions[cookie]
        if method != "GET":
            token = handler.headers.get("x-csrf-token")
            if not token or self.sessions.get(cookie) != token:
                extra["x-csrf-token"] = "Required"
                return self._send(handler, 403, "CSRF token validation failed", extra, "text/plain")
        if self.malformed:
            return self._send(handler, 200, "<html><body>SAP GUI for HTML</body></html>", extra,
                              "text/html")
        path = parts.path
        for service in (ORDER_SRV, CONF_SRV, MATDOC_SRV, PRODUCT_SRV, BOM_SRV):
            if path.startswith(service):
                resource = path[len(service):].strip("/")
                status, payload, headers = self._dispatch(method, service, resource, query,
                                                          body, handler.headers)
                ctype = headers.pop("Content-Type", None)
                extra.update(headers)
                if isinstance(payload, str):
                    return self._send(handler, status, payload, extra,
                                      ctype or "application/xml")
                return self._send(handler, status, payload, extra)
        return self._send(handler, 404, gateway_error("/IWFND/MED/170", "No service found"))

    # -------------------------------------------------------------- resources
    def _dispatch(self, method, service, resource, query, body, headers):
        if resource in ("", "$metadata"):
            return 200, METADATA if resource else {"d": {"EntitySets": []}}, {}
        if resource == "$batch" and method == "POST":
            return self._batch(service, body, headers.get("Content-Type", ""))
        if service == ORDER_SRV and resource == "A_ProductionOrder_2" and method == "GET":
            return self._order_list(query)
        match = re.fullmatch(r"A_ProductionOrder_2\('(\w+)'\)", resource)
        if service == ORDER_SRV and match:
            return self._order_entity(method, match.group(1), body, headers)
        if service == BOM_SRV and resource == "MaterialBOM" and method == "GET":
            rows = self.backend.boms
            problems = [p for row in rows for p in body_problems(TYPES["MaterialBOM"], row,
                                                                   TYPES)]
            if problems:
                return 500, gateway_error("SIMULATOR", "; ".join(problems)), {}
            if "to_BillOfMaterialItem" not in query.get("$expand", ""):
                rows = [{k: v for k, v in row.items() if k != "to_BillOfMaterialItem"}
                        for row in rows]
            return 200, {"d": {"results": rows}}, {}
        if service == PRODUCT_SRV and resource == "A_Product":
            rows = self.backend.products
            # The simulator only answers what SAP can answer: test data of the wrong shape
            # is the test's mistake, reported as such instead of being served.
            problems = [p for row in rows for p in body_problems(TYPES["A_Product"], row, TYPES)]
            if problems:
                return 500, gateway_error("SIMULATOR", "; ".join(problems)), {}
            return 200, {"d": {"results": rows}}, {}
        if method == "GET" and service == CONF_SRV and resource == "ProdnOrdConf2":
            return self._conf_list(query)
        if method == "GET" and service == MATDOC_SRV and resource == "A_MaterialDocumentHeader":
            return self._document_list(query)
        if method == "POST":
            return self._create(service, resource, json.loads(body or b"{}"))
        return 404, gateway_error("/IWBEP/CM_MGW_RT/020", f"Resource {resource} not found"), {}

    def _order_list(self, query):
        rows = sorted(self.backend.orders.values(), key=lambda o: o["LastChangeDateTime"])
        flt = query.get("$filter", "")
        plant = re.search(r"ProductionPlant eq '(\w+)'", flt)
        if plant:
            rows = [r for r in rows if r["ProductionPlant"] == plant.group(1)]
        if re.search(r"LastChangeDateTime \w+ datetime", flt):
            return invalid(["Invalid filter: LastChangeDateTime is Edm.String, it cannot be "
                            "compared with a datetime literal"])
        since = re.search(r"LastChangeDateTime ge '(\d{14})'", flt)
        if since:
            rows = [r for r in rows if self._stamp(r) >= since.group(1)]
        skip = int(query.get("$skiptoken") or query.get("$skip") or 0)
        top = min(int(query.get("$top") or 1000), self.page_size)
        page = rows[skip:skip + top]
        result = {"results": [self._order_json(row) for row in page], "__count": str(len(rows))}
        if skip + top < len(rows):
            filter_part = f"&$filter={flt}" if flt else ""
            result["__next"] = (f"{self.url}{ORDER_SRV}/A_ProductionOrder_2?$skiptoken="
                                f"{skip + top}&$format=json{filter_part}")
        return 200, {"d": result}, {}

    @staticmethod
    def _stamp(order):
        return order["LastChangeDateTime"].astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")

    def _order_json(self, order):
        flag = lambda value: "X" if value else ""  # noqa: E731
        data = {
            "ManufacturingOrder": order["ManufacturingOrder"], "Material": order["Material"],
            "ProductionPlant": order["ProductionPlant"], "Plant": order["ProductionPlant"],
            "TotalQuantity": f"{float(order['TotalQuantity']):.3f}",
            "ProductionUnit": order["ProductionUnit"],
            "MfgOrderPlannedStartDate": edm_date(order["start"]),
            "MfgOrderPlannedStartTime": edm_time(order["start"]),
            "MfgOrderPlannedEndDate": edm_date(order["end"]),
            "MfgOrderPlannedEndTime": edm_time(order["end"]),
            "LastChangeDateTime": self._stamp(order),
            "OrderIsReleased": flag(order["OrderIsReleased"]),
            "OrderIsMarkedForDeletion": flag(order["OrderIsMarkedForDeletion"]),
        }
        etag = f"W/\"datetimeoffset'{order['etag_version']}'\""
        data["__metadata"] = {"type": "API_PRODUCTION_ORDER_2_SRV.A_ProductionOrder_2Type",
                              "etag": etag}
        return data

    def _order_entity(self, method, number, body, headers):
        order = self.backend.orders.get(number)
        if not order:
            return 404, gateway_error("CO/003", f"Order {number} does not exist"), {}
        etag = f"W/\"datetimeoffset'{order['etag_version']}'\""
        if method == "GET":
            return 200, {"d": self._order_json(order)}, {"ETag": etag}
        if headers.get("If-Match") not in (etag, "*"):
            return 412, gateway_error("/IWBEP/CM_MGW_RT/022", "Precondition failed: the entity "
                                      "was changed"), {}
        values = json.loads(body or b"{}")
        problems = body_problems(TYPES["A_ProductionOrder_2"], values, TYPES) + [
            f"Property '{name}' cannot be changed" for name in values
            if name in TYPES["A_ProductionOrder_2"].properties and name not in ORDER_UPDATABLE]
        if problems:
            return invalid(problems)
        if "TotalQuantity" in values:
            order["TotalQuantity"] = values["TotalQuantity"]
        for prefix, key in (("MfgOrderPlannedStart", "start"), ("MfgOrderPlannedEnd", "end")):
            day = parse_edm_date(values.get(f"{prefix}Date"))
            if day:
                hours, minutes, seconds = parse_edm_time(values.get(f"{prefix}Time"))
                order[key] = datetime(day.year, day.month, day.day, hours, minutes, seconds)
        order["etag_version"] += 1
        order["LastChangeDateTime"] = datetime.now(timezone.utc)
        return 204, b"", {"ETag": f"W/\"datetimeoffset'{order['etag_version']}'\""}

    def _conf_list(self, query):
        flt = query.get("$filter", "")
        order = re.search(r"OrderID eq '(\w+)'", flt)
        text = re.search(r"ConfirmationText eq '((?:[^']|'')*)'", flt)
        rows = [{"ConfirmationGroup": c["CONF_NO"], "ConfirmationCount": c["CONF_CNT"],
                 "OrderID": c["ORDERID"].lstrip("0"), "ConfirmationText": c.get("CONF_TEXT", "")}
                for c in self.backend.confirmations
                if (not order or c["ORDERID"].lstrip("0") == order.group(1))
                and (not text or c.get("CONF_TEXT", "") == text.group(1).replace("''", "'"))]
        return 200, {"d": {"results": rows}}, {}

    def _document_list(self, query):
        text = re.search(r"MaterialDocumentHeaderText eq '((?:[^']|'')*)'",
                         query.get("$filter", ""))
        rows = [{"MaterialDocument": d["number"], "MaterialDocumentYear": d["year"],
                 "MaterialDocumentHeaderText": d["header_txt"]}
                for d in self.backend.material_documents
                if not text or d["header_txt"] == text.group(1).replace("''", "'")]
        return 200, {"d": {"results": rows}}, {}

    def _create(self, service, resource, data):
        backend = self.backend
        entity_type = {(CONF_SRV, "ProdnOrdConf2"): TYPES["ProdnOrdConf2"],
                       (MATDOC_SRV, "A_MaterialDocumentHeader"):
                           TYPES["A_MaterialDocumentHeader"]}.get((service, resource))
        if entity_type is not None:
            problems = body_problems(entity_type, data, TYPES)
            if problems:
                return invalid(problems)
        if service == CONF_SRV and resource == "ProdnOrdConf2":
            posting = parse_edm_date(data.get("PostingDate"))
            ticket = {"ORDERID": data.get("OrderID", "").zfill(12),
                      "OPERATION": data.get("OrderOperation", ""),
                      "YIELD": float(data.get("ConfirmationYieldQuantity") or 0),
                      "SCRAP": float(data.get("ConfirmationScrapQuantity") or 0),
                      "CONF_QUAN_UNIT": data.get("ConfirmationUnit", ""),
                      "FIN_CONF": data.get("FinalConfirmationType") or " ",
                      "CONF_TEXT": data.get("ConfirmationText", ""),
                      "POSTG_DATE": posting.strftime("%Y%m%d") if posting else ""}
            _overall, details, postings = backend.confirm(
                [ticket], " ", no_goods_movements=bool(data.get("APIConfHasNoGoodsMovements")))
            backend.commit_confirmations(postings)
            detail = details[0]
            if detail["TYPE"] in ("E", "A"):
                code = f"{detail['ID']}/{detail['NUMBER']}"
                return 400, gateway_error(code, detail["MESSAGE"], [(code, detail["MESSAGE"])]), {}
            entity = dict(data, ConfirmationGroup=detail["CONF_NO"],
                          ConfirmationCount=detail["CONF_CNT"])
            return 201, {"d": entity}, {}
        if service == MATDOC_SRV and resource == "A_MaterialDocumentHeader":
            # Gateway applies the conversion exits (ALPHA, MATN1) that RFC callers must apply
            # themselves: "40000815" here is material 000000000040000815.
            items = [{"MATERIAL": alpha(i.get("Material") or "", 18),
                      "MOVE_TYPE": i.get("GoodsMovementType"),
                      "ENTRY_QNT": float(i.get("QuantityInEntryUnit") or 0),
                      "ENTRY_UOM": i.get("EntryUnit"), "BATCH": i.get("Batch", ""),
                      "PLANT": i.get("Plant", ""),
                      "ORDERID": i.get("ManufacturingOrder", "").zfill(12)}
                     for i in (data.get("to_MaterialDocumentItem") or {}).get("results", [])]
            posting_date = parse_edm_date(data.get("PostingDate"))
            number, year, rows, posting = backend.goods_movement(
                {"HEADER_TXT": data.get("MaterialDocumentHeaderText", ""),
                 "PSTNG_DATE": posting_date.strftime("%Y%m%d") if posting_date else ""},
                {"GM_CODE": data.get("GoodsMovementCode")}, items)
            if rows:
                code = f"{rows[0]['ID']}/{rows[0]['NUMBER']}"
                text = rows[0]["MESSAGE"]
                return 400, gateway_error(code, text, [(code, text)]), {}
            backend.commit_document(posting)
            return 201, {"d": dict(data, MaterialDocument=number, MaterialDocumentYear=year)}, {}
        return 405, gateway_error("/IWBEP/CM_MGW_RT/021", f"POST on {resource} not allowed"), {}

    def _batch(self, service, body, content_type):
        boundary = content_type.split("boundary=", 1)[1]
        out_boundary = "batch_" + secrets.token_hex(6)
        parts = []
        for block in body.decode().split(f"--{boundary}")[1:]:
            if block.startswith("--"):
                break
            request_line = re.search(r"(POST|GET) (\S+) HTTP/1.1", block)
            json_body = block.split("\r\n\r\n")[-1].split("\r\n--")[0]
            resource = request_line.group(2) if request_line else ""
            inner_headers = block.split(request_line.group(0), 1)[1] if request_line else ""
            status, payload, _headers = self._create(service, resource, json.loads(json_body))
            if "accept: application/json" not in inner_headers.split("\r\n\r\n")[0].lower():
                # Gateway's default format for an inner request without Accept is Atom.
                parts.append(
                    f"--{out_boundary}\r\nContent-Type: application/http\r\n"
                    f"Content-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 {status} X\r\n"
                    f"Content-Type: application/atom+xml\r\n\r\n<entry xmlns="
                    f'"http://www.w3.org/2005/Atom"><content/></entry>\r\n')
                continue
            changeset = "changeset_" + secrets.token_hex(6)
            reason = {201: "Created", 400: "Bad Request"}.get(status, "Error")
            if status < 300:
                parts.append(
                    f"--{out_boundary}\r\nContent-Type: multipart/mixed; boundary={changeset}"
                    f"\r\n\r\n--{changeset}\r\nContent-Type: application/http\r\n"
                    f"Content-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 {status} {reason}\r\n"
                    f"Content-Type: application/json\r\n\r\n{json.dumps(payload)}\r\n"
                    f"--{changeset}--\r\n")
            else:  # a failed changeset is answered by one plain response part
                parts.append(
                    f"--{out_boundary}\r\nContent-Type: application/http\r\n"
                    f"Content-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 {status} {reason}\r\n"
                    f"Content-Type: application/json\r\n\r\n{json.dumps(payload)}\r\n")
        text = "".join(parts) + f"--{out_boundary}--\r\n"
        return 202, text, {"Content-Type": f"multipart/mixed; boundary={out_boundary}"}
