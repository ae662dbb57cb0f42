# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""SAP fixtures: one connector per transport, outbound and inbound flows, mappings, and
the SAP peers the tests talk to (in-process RFC peer, SOAP and OData over real HTTP)."""
from datetime import datetime, timezone
from urllib.parse import urlsplit

from odoo.tests.common import _super_send

from odoo.addons.mfg_integration.tests.common import MfgTestCase

from ..services import sap_soap
from .rfc_peer import FakeRfc
from .sap_backend import SapBackend

CONFIRMATION = {"order_ref": "1000123", "work_center": "ASSY-1", "qty_good": 40,
                "qty_scrap": 2, "uom": "ST", "final": False}
CONSUMPTION = {"order_ref": "1000123", "product": "40000815", "qty": 80, "uom": "ST"}
RECEIPT = {"order_ref": "1000123", "product": "SB-200", "qty": 40, "uom": "ST"}
OUT_TYPES = ("production.confirmation", "material.consumption", "goods.receipt",
             "production.order")


class SapTestCase(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rfc = cls._sap_connector("SAP-RFC", "sap_rfc", sap_ashost="10.0.0.5", sap_sysnr="00",
                                     username="RFC_USER", password="secret")
        cls.soap = cls._sap_connector("SAP-SOAP", "sap_soap", auth_method="basic",
                                      username="SOAP_USER", password="secret")
        cls.odata = cls._sap_connector("SAP-ODATA", "sap_odata", auth_method="basic",
                                       username="ODATA_USER", password="secret")
        cls.product = cls.env["product.product"].create({"name": "Steel bracket",
                                                         "default_code": "TB-777"})
        uom = cls.env.ref("uom.product_uom_unit")
        for connector in (cls.rfc, cls.soap, cls.odata):
            cls._flow("production.order", connector=connector, ordering_key_field="order_ref",
                      sap_pull_enabled=connector.connector_type != "sap_soap")
            for type_name in OUT_TYPES:
                cls._flow(type_name, connector=connector, direction="out",
                          ordering_key_field="order_ref", max_attempts=3, backoff_base_s=10,
                          source_of_truth="odoo")
            cls.env["mfg.mapping"].create({"mapping_type": "uom", "external_code": "ST",
                                           "uom_id": uom.id, "connector_id": connector.id})

    @classmethod
    def _request_handler(cls, session, prepared, /, **kwargs):
        # Odoo's test harness raises every timeout below 10 s to 10 s; the simulators run
        # on 127.0.0.1 and the timeout tests need the connector's own (short) timeout.
        if urlsplit(prepared.url).hostname == "127.0.0.1":
            return _super_send(session, prepared, **kwargs)
        return super()._request_handler(session, prepared, **kwargs)

    @classmethod
    def _sap_connector(cls, code, connector_type, **values):
        return cls.env["mfg.connector"].create(dict({
            "name": code, "code": code, "connector_type": connector_type, "sap_client": "100",
            "sap_plant": "1010", "sap_storage_location": "0001", "timeout_s": 2,
            # Most tests post goods movements themselves; the exactly-once tests switch
            # each owner on explicitly.
            "sap_goods_movements": "odoo",
        }, **values))

    def setUp(self):
        super().setUp()
        sap_soap.forget_clients()
        self.backend = SapBackend()
        for number in ("1000123", "1000124", "1000125"):
            self.backend.add_order(number)
        self.fake_rfc = FakeRfc(self.backend)
        self.patch(type(self.env["mfg.connector"]), "_sap_rfc_connection_factory",
                   lambda connector: self.fake_rfc)

    def send(self, connector, type_name, payload, key, minute=0):
        return self.Message.create_outbound(
            connector, type_name, payload, key,
            occurred_at=datetime(2026, 11, 23, 8, minute))

    def batched(self, connector, type_name="production.confirmation"):
        """Micro-batch flow: what arrives within the window goes to SAP together."""
        connector.flow_ids.filtered(lambda f: f.canonical_type == type_name
                                    and f.direction == "out").sync_mode = "micro_batch"

    def run_batch(self):
        self.run_jobs(model="mfg.flow", ignore_eta=True)
        return self.run_jobs()

    def changed(self, hour, minute=0):
        return datetime(2026, 11, 23, hour, minute, tzinfo=timezone.utc)
