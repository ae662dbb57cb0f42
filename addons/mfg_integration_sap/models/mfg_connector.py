# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import hashlib
import time
from datetime import timezone

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.base.models.res_partner import _tz_get
from odoo.addons.mfg_integration.models.mfg_connector import archive_removed_type
from odoo.addons.mfg_integration.services import access
from odoo.addons.mfg_integration.services.transport import build_auth_headers, connector_session

from ..services import sap_bapi, sap_master_data, sap_rfc, sap_soap
from ..services.sap_errors import DEFAULT_LOCK_MESSAGES, parse_lock_messages, raise_for_return
from ..services.sap_odata import ODataClient

SAP_TYPES = ("sap_rfc", "sap_soap", "sap_odata")
SAP_ORDER_ENTITY = "A_ProductionOrder_2"


def _dats(value):
    """pyrfc hands DATS over as datetime.date (or text): -> "YYYYMMDD"."""
    return value.strftime("%Y%m%d") if hasattr(value, "strftime") else str(value or "") \
        .replace("-", "")


def _tims(value):
    return value.strftime("%H%M%S") if hasattr(value, "strftime") else str(value or "") \
        .replace(":", "")


class MfgConnector(models.Model):
    """SAP settings of a connector: RFC logon, SOAP WSDL, OData services, plant."""

    _inherit = "mfg.connector"

    connector_type = fields.Selection(
        selection_add=[("sap_rfc", "SAP RFC/BAPI"), ("sap_soap", "SAP SOAP"),
                       ("sap_odata", "SAP OData")],
        ondelete=dict.fromkeys(SAP_TYPES, archive_removed_type))
    is_sap = fields.Boolean(compute="_compute_is_sap")
    sap_client = fields.Char("SAP client", size=3, tracking=True,
                             help="Client (MANDT), e.g. 100; sent as sap-client to SOAP/OData.")
    sap_plant = fields.Char("SAP plant", size=4, tracking=True,
                            help="Plant (WERKS) of confirmations, goods movements and pulls.")
    sap_storage_location = fields.Char("Storage location", size=4, tracking=True,
                                       help="Default storage location (LGORT) of goods "
                                       "movements when the payload names none.")
    sap_timezone = fields.Selection(
        _tz_get, string="Plant time zone", default="UTC", tracking=True,
        help="Time zone of the dates and times SAP sends without one (IDoc DATS/TIMS, RFC "
        "date fields, OData Edm.DateTime and 14-digit change stamps): SAP keeps them in the "
        "plant's or the system's local time, not in UTC.")
    sap_language = fields.Char("Logon language", size=2, default="EN")
    # RFC logon
    sap_ashost = fields.Char("Application server", tracking=True)
    sap_sysnr = fields.Char("System number", size=2, tracking=True)
    sap_saprouter = fields.Char("SAProuter string")
    sap_pyrfc_ok = fields.Boolean("pyrfc available", compute="_compute_sap_pyrfc")
    sap_pyrfc_status = fields.Char("RFC library", compute="_compute_sap_pyrfc")
    # SOAP
    sap_wsdl_file = fields.Binary("WSDL file", attachment=True,
                                  groups="mfg_integration.group_mfg_manager")
    sap_wsdl_filename = fields.Char("WSDL file name")
    sap_wsdl_url = fields.Char("WSDL URL", tracking=True,
                               help="Used when no WSDL file is uploaded.")
    sap_soap_wsse = fields.Boolean(
        "WS-Security UsernameToken", tracking=True,
        help="Send the user and password as a WS-Security UsernameToken in the SOAP header "
        "(in addition to HTTP basic authentication when that is the auth method).")
    # OData
    sap_odata_version = fields.Selection([("v2", "OData V2"), ("v4", "OData V4")],
                                         default="v2", tracking=True)
    sap_odata_order_service = fields.Char(
        "Production order service", default="/sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV")
    sap_odata_confirmation_service = fields.Char(
        "Confirmation service", default="/sap/opu/odata/sap/API_PROD_ORDER_CONFIRMATION_2_SRV")
    sap_odata_goods_movement_service = fields.Char(
        "Material document service", default="/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV")
    sap_odata_bom_service = fields.Char(
        "Bill of material service", default="/sap/opu/odata/sap/API_BILL_OF_MATERIAL_SRV")
    sap_odata_product_service = fields.Char(
        "Product master service", default="/sap/opu/odata/sap/API_PRODUCT_SRV")
    # Behaviour
    sap_lock_messages = fields.Char(
        "Lock messages", default=DEFAULT_LOCK_MESSAGES, tracking=True,
        help="Message class/number pairs that mean 'object locked': retried with the flow's "
        "backoff instead of going to exception.")
    sap_batch_size = fields.Integer(
        "Confirmations per call", default=50, tracking=True,
        help="Outbound confirmations and goods movements sent together in one call "
        "(RFC/SOAP: one BAPI table; OData: one $batch). 1 = one call per message.")
    sap_goods_movements = fields.Selection(
        [("sap", "SAP books them from the confirmations"),
         ("odoo", "Odoo sends each goods movement")],
        string="Goods movements", default="sap", required=True, tracking=True,
        help="Who books component issues (261) and the goods receipt (101) of SAP orders, so "
        "that each quantity is booked once. SAP: confirmations go without goods movements and "
        "SAP backflushes and posts the automatic goods receipt as the order is set up; "
        "consumption and receipt messages are not posted again. Odoo: every consumption and "
        "receipt is posted by the addon; OData confirmations tell SAP to post no goods "
        "movements (APIConfHasNoGoodsMovements); over RFC/SOAP (the BAPI has no such switch) "
        "a confirmation of an order whose components SAP backflushes is refused, and the "
        "orders' automatic goods receipt must be switched off in SAP.")
    sap_material_ids = fields.One2many("mfg.sap.material", "connector_id",
                                       string="SAP materials")
    sap_unmatched_count = fields.Integer(compute="_compute_sap_unmatched_count")

    @api.depends("connector_type")
    def _compute_is_sap(self):
        for connector in self:
            connector.is_sap = connector.connector_type in SAP_TYPES

    def _compute_sap_pyrfc(self):
        ok, status = sap_rfc.pyrfc_status()
        for connector in self:
            connector.sap_pyrfc_ok = ok
            connector.sap_pyrfc_status = status

    def _compute_sap_unmatched_count(self):
        counts = dict(self.env["mfg.sap.material"]._read_group(
            [("connector_id", "in", self.ids), ("state", "=", "unmatched")],
            ["connector_id"], ["__count"]))
        for connector in self:
            connector.sap_unmatched_count = counts.get(connector, 0)

    # ------------------------------------------------------------- transports
    def _sap_lock_set(self):
        return parse_lock_messages(self.sap_lock_messages or DEFAULT_LOCK_MESSAGES)

    def _sap_rfc_connection_factory(self):
        """Callable(**logon params) -> pyrfc-like Connection. The hook where a compatible
        library, or an in-process peer in the tests, is plugged in."""
        return sap_rfc.default_connection_factory()

    def _sap_rfc_session(self):
        self.ensure_one()
        params = {"ashost": self.sap_ashost or "", "sysnr": self.sap_sysnr or "00",
                  "client": self.sap_client or "", "user": self.username or "",
                  "passwd": self._mfg_secret("password") or "", "lang": self.sap_language or "EN"}
        if self.sap_saprouter:
            params["saprouter"] = self.sap_saprouter
        return sap_rfc.RfcSession(self._sap_rfc_connection_factory(), params)

    def _sap_auth(self):
        if self.auth_method == "basic" and self.username:
            return (self.username, self._mfg_secret("password") or "")
        return None

    def _sap_odata(self, service_path):
        self.ensure_one()
        headers = {} if self.auth_method == "basic" else build_auth_headers(self)
        # Bound to the endpoint's scheme+host+port: a __next link or a redirect elsewhere
        # is refused before the credentials (or the session cookies) are sent there.
        return ODataClient(self.endpoint_url or "", service_path or "", auth=self._sap_auth(),
                           headers=headers, timeout=self.timeout_s or 10,
                           verify=self.verify_tls, sap_client=self.sap_client,
                           version=self.sap_odata_version or "v2",
                           session=connector_session(self))

    def _sap_soap_service(self):
        self.ensure_one()
        wsdl = base64.b64decode(self.sap_wsdl_file) if self.sap_wsdl_file else None
        digest = hashlib.sha1(wsdl or (self.sap_wsdl_url or "").encode()).hexdigest()
        password = self._mfg_secret("password")
        cache_key = (self.env.cr.dbname, self.id, str(self.write_date), digest,
                     self.endpoint_url, self.auth_method, self.username,
                     hashlib.sha256((password or "").encode()).hexdigest(),
                     self.sap_soap_wsse, self.timeout_s)
        service, _client = sap_soap.build_client(
            cache_key, wsdl_url=self.sap_wsdl_url, wsdl_bytes=wsdl, username=self.username,
            password=password, basic_auth=self.auth_method == "basic",
            wsse=self.sap_soap_wsse, timeout=self.timeout_s or 10, verify=self.verify_tls,
            service_url=self.endpoint_url or None,
            session=connector_session(self, extra_urls=[self.sap_wsdl_url]))
        return service

    # ------------------------------------------------------- test connection
    @api.model
    def _mfg_connection_tests(self):
        return {**super()._mfg_connection_tests(),
                **dict.fromkeys(SAP_TYPES, "_sap_test_connection")}

    def _sap_test_connection(self):
        started = time.monotonic()
        try:
            detail = getattr(self, f"_sap_test_{self.connector_type}")()
        except Exception as exc:  # noqa: BLE001 - shown to the manager as the result
            return False, _("%(type)s: %(error)s", type=self.connector_type, error=exc)
        return True, _("%(detail)s (%(ms).0f ms)", detail=detail,
                       ms=(time.monotonic() - started) * 1000)

    def _sap_test_sap_rfc(self):
        with self._sap_rfc_session() as session:
            session.call("RFC_PING")
        return _("RFC_PING answered by %(host)s/%(sysnr)s client %(client)s",
                 host=self.sap_ashost, sysnr=self.sap_sysnr, client=self.sap_client)

    def _sap_test_sap_soap(self):
        sap_soap.forget_clients()
        service = self._sap_soap_service()
        operations = sorted(getattr(service, "_operations", {}))
        return _("WSDL loaded; operations: %s", ", ".join(operations) or "-")

    def _sap_test_sap_odata(self):
        client = self._sap_odata(self.sap_odata_order_service)
        metadata = client.metadata()
        client.fetch_csrf_token()
        return _("$metadata of %(service)s read (%(size)s bytes), CSRF token received",
                 service=self.sap_odata_order_service, size=len(metadata))

    # ------------------------------------------------------------ order pulls
    def _sap_fetch_orders(self, since):
        """Yield lists of normalized orders changed since ``since`` (aware datetime or None)."""
        self.ensure_one()
        if self.connector_type == "sap_odata":
            yield from self._sap_fetch_orders_odata(since)
        elif self.connector_type == "sap_rfc":
            yield self._sap_fetch_orders_rfc()
        else:
            raise ValueError(_("Production orders are pulled over OData or RFC; SOAP "
                               "connectors receive them pushed as LOIPRO IDocs."))

    def _sap_fetch_orders_odata(self, since):
        client = self._sap_odata(self.sap_odata_order_service)
        clauses = []
        if self.sap_plant:
            clauses.append(f"ProductionPlant eq '{self.sap_plant}'")
        if since:
            # LastChangeDateTime is an Edm.String of 14 digits (a UTC time stamp), compared
            # as a string. "ge", not "gt": an order changed twice in the checkpoint's second
            # is not missed; the one seen already is a duplicate key and dropped by ingest.
            stamp = since.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")
            clauses.append(f"LastChangeDateTime ge '{stamp}'")
        for rows in client.iter_pages(SAP_ORDER_ENTITY, " and ".join(clauses) or None,
                                      orderby="LastChangeDateTime"):
            orders = []
            for row in rows:
                try:
                    orders.append(sap_bapi.order_from_odata(row, self.sap_timezone))
                except (ValueError, TypeError) as exc:
                    raise ValueError(_("SAP sent an unreadable production order: %s", exc)) \
                        from None
            yield orders

    def _sap_fetch_orders_rfc(self):
        """BAPI_PRODORD_GET_LIST has no 'changed since': list the plant's orders and let a
        content hash in the key make unchanged orders duplicates."""
        plant_range = [{"SIGN": "I", "OPTION": "EQ", "LOW": self.sap_plant or "", "HIGH": ""}]
        with self._sap_rfc_session() as session:
            result = session.call("BAPI_PRODORD_GET_LIST", PRODPLANT_RANGE=plant_range)
        ret = result.get("RETURN")
        raise_for_return([ret] if isinstance(ret, dict) else ret, self._sap_lock_set(),
                         "BAPI_PRODORD_GET_LIST")
        orders = []
        for header in result.get("ORDER_HEADER") or []:
            status = f" {header.get('SYSTEM_STATUS', '')} "
            fingerprint = "|".join(str(header.get(name, "")) for name in (
                "MATERIAL", "TARGET_QUANTITY", "UNIT", "START_DATE", "START_TIME",
                "FINISH_DATE", "FINISH_TIME", "SYSTEM_STATUS"))
            orders.append({
                "order_ref": sap_bapi.plain_number(header["ORDER_NUMBER"]),
                "product": sap_bapi.plain_number(header["MATERIAL"]),
                "qty": float(header["TARGET_QUANTITY"]),
                "uom": header["UNIT"],
                "plant": header.get("PRODUCTION_PLANT", ""),
                # Basic dates and times of BAPI_ORDER_HEADER1, in the plant's local time.
                "date_start": sap_bapi.sap_date_time(
                    _dats(header.get("START_DATE")), _tims(header.get("START_TIME")),
                    self.sap_timezone),
                "date_end": sap_bapi.sap_date_time(
                    _dats(header.get("FINISH_DATE")), _tims(header.get("FINISH_TIME")),
                    self.sap_timezone),
                "changed_at": None,
                "version": hashlib.sha1(fingerprint.encode()).hexdigest()[:12],
                "deleted": " DLFL " in status or " DLT " in status,
                "released": " REL " in status,
            })
        return orders

    # ------------------------------------------------------------ actions
    def action_sap_pull_orders(self):
        """Pull production orders now (Integration Operators; runs as superuser with the
        connector's credentials once the connector was read with the user's rights)."""
        self.ensure_one()
        access.ensure_group(self.env, access.OPERATOR, _("pull from SAP"))
        self.check_access("read")
        flows = self.flow_ids.filtered(lambda f: f.canonical_type == "production.order"
                                       and f.direction == "in")
        if not flows:
            return self._sap_notify(_("Create an inbound production.order flow first."), False)
        return self._sap_notify(flows[0].sudo()._sap_pull_orders(), True)

    def action_sap_pull_boms(self):
        """Pull the material BoMs now (Integration Operators): they go in as material.bom
        messages of the connector's inbound flow of that type."""
        self.ensure_one()
        access.ensure_group(self.env, access.OPERATOR, _("pull from SAP"))
        self.check_access("read")
        return self._sap_notify(self.sudo()._sap_pull_boms(), True)

    def _sap_pull_boms(self):
        if self.connector_type != "sap_odata":
            raise UserError(_("Bills of material are pulled over OData (API_BILL_OF_MATERIAL_"
                              "SRV)."))
        if not self.env["mfg.flow"].search_count([
                ("connector_id", "=", self.id), ("direction", "=", "in"),
                ("canonical_type", "=", "material.bom")]):
            raise UserError(_("Connector %s has no inbound material.bom flow: create one "
                              "(schema version 2) to take SAP's bills of material.", self.code))
        client = self._sap_odata(self.sap_odata_bom_service)
        boms = []
        for rows in client.iter_pages("MaterialBOM", expand="to_BillOfMaterialItem"):
            boms.extend(rows)
        now = fields.Datetime.now().isoformat(timespec="seconds") + "+00:00"
        envelopes, skipped = sap_master_data.bom_envelopes(self, boms, now)
        result = self.env["mfg.message"].ingest(envelopes) if envelopes else \
            {"accepted": 0, "duplicates": 0, "rejected": []}
        return _("%(n)s bill(s) of material: %(accepted)s new, %(duplicates)s unchanged, "
                 "%(rejected)s refused, %(skipped)s without components or deleted",
                 n=len(boms), accepted=result["accepted"], duplicates=result["duplicates"],
                 rejected=len(result["rejected"]), skipped=skipped)

    def action_sap_pull_materials(self):
        """Pull the material master now (Integration Operators; see action_sap_pull_orders)."""
        self.ensure_one()
        access.ensure_group(self.env, access.OPERATOR, _("pull from SAP"))
        self.check_access("read")
        result = self.env["mfg.sap.material"].sudo()._pull_from_odata(self.sudo())
        return self._sap_notify(result, True)

    def action_sap_view_unmatched(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mfg_integration_sap.action_mfg_sap_material")
        action["domain"] = [("connector_id", "=", self.id)]
        action["context"] = {"search_default_unmatched": 1}
        return action

    def _sap_notify(self, text, ok):
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"message": text, "type": "success" if ok else "warning"}}
