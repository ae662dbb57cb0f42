# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The IDoc-XML push endpoint over HTTP: LOIPRO orders and MATMAS materials."""
import base64
from datetime import datetime, timedelta

from odoo.tests import BaseCase, HttpCase, new_test_user, tagged

from .sap_metadata.idoc import idoc_problems

LOIPRO = b"""<?xml version="1.0" encoding="UTF-8"?>
<LOIPRO05>
  <IDOC BEGIN="1">
    <EDI_DC40 SEGMENT="1"><TABNAM>EDI_DC40</TABNAM><DOCNUM>0000000000731001</DOCNUM>
      <IDOCTYP>LOIPRO05</IDOCTYP><MESTYP>LOIPRO</MESTYP><SNDPRN>S4HCLNT100</SNDPRN></EDI_DC40>
    <E1AFKOL SEGMENT="1">
      <AUFNR>000001000123</AUFNR><AUART>PP01</AUART><MATNR>SB-200</MATNR><WERKS>1010</WERKS>
      <GAMNG>100.000</GAMNG><GMEIN>ST</GMEIN>
      <GSTRS>20261124</GSTRS><GSUZS>060000</GSUZS><GLTRS>20261125</GLTRS><GLUZS>140000</GLUZS>
      <E1JSTKL SEGMENT="1"><STAT>I0001</STAT></E1JSTKL>
      <E1JSTKL SEGMENT="1"><STAT>I0002</STAT></E1JSTKL>
      <E1AFFLL SEGMENT="1"><APLFL>000000</APLFL>
        <E1AFVOL SEGMENT="1"><VORNR>0010</VORNR><ARBPL>ASSY-1</ARBPL>
          <LTXA1>Assemble bracket</LTXA1>
          <E1RESBL SEGMENT="1"><MATNR>000000000040000815</MATNR><BDMNG>400.000</BDMNG>
            <MEINS>ST</MEINS></E1RESBL></E1AFVOL></E1AFFLL>
    </E1AFKOL>
  </IDOC>
</LOIPRO05>"""
# The same IDoc as SAP's SOAP port sends it: enveloped, every element namespaced.
SOAP_LOIPRO = (b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
               b'<soap-env:Header/><soap-env:Body>'
               + LOIPRO.split(b"?>", 1)[1].replace(b"<LOIPRO05>", b'<n0:LOIPRO05 xmlns:n0='
                                                   b'"urn:sap-com:document:sap:idoc:messages">')
               .replace(b"</LOIPRO05>", b"</n0:LOIPRO05>")
               + b"</soap-env:Body></soap-env:Envelope>")
# One material per MATMAS IDoc (E1MARAM is mandatory, at most once); two IDocs in one file.
MATMAS = b"""<MATMAS05><IDOC BEGIN="1">
  <EDI_DC40 SEGMENT="1"><DOCNUM>0000000000731002</DOCNUM><IDOCTYP>MATMAS05</IDOCTYP>
    <MESTYP>MATMAS</MESTYP></EDI_DC40>
  <E1MARAM SEGMENT="1"><MATNR>TB-777</MATNR><MTART>FERT</MTART><MEINS>ST</MEINS>
    <E1MAKTM SEGMENT="1"><SPRAS>E</SPRAS><MAKTX>Steel bracket SB-200</MAKTX>
      <SPRAS_ISO>EN</SPRAS_ISO></E1MAKTM>
    <E1MARCM SEGMENT="1"><WERKS>1010</WERKS></E1MARCM></E1MARAM>
</IDOC><IDOC BEGIN="1">
  <EDI_DC40 SEGMENT="1"><DOCNUM>0000000000731003</DOCNUM><IDOCTYP>MATMAS05</IDOCTYP>
    <MESTYP>MATMAS</MESTYP></EDI_DC40>
  <E1MARAM SEGMENT="1"><MATNR>000000000040000815</MATNR><MTART>ROH</MTART><MEINS>ST</MEINS>
    <E1MAKTM SEGMENT="1"><SPRAS>E</SPRAS><MAKTX>Hex bolt M8x30</MAKTX>
      <SPRAS_ISO>EN</SPRAS_ISO></E1MAKTM>
  </E1MARAM>
</IDOC></MATMAS05>"""


@tagged("post_install", "-at_install")
class TestIdocEndpoint(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connector = cls.env["mfg.connector"].create({
            "name": "SAP IDoc", "code": "SAP-IDOC", "connector_type": "sap_soap"})
        cls.env["mfg.flow"].create({"name": "orders", "connector_id": cls.connector.id,
                                    "canonical_type": "production.order"})
        cls.api_user = new_test_user(cls.env, "sap_pi", groups="mfg_integration.group_mfg_ingest")
        cls.connector.ingest_user_ids = [(4, cls.api_user.id)]
        expiry = datetime.now() + timedelta(days=1)
        cls.key = cls.env["res.users.apikeys"].with_user(cls.api_user).sudo()._generate(
            scope="rpc", name="pi", expiration_date=expiry)
        outsider = new_test_user(cls.env, "sap_other", groups="mfg_integration.group_mfg_ingest")
        cls.outsider_key = cls.env["res.users.apikeys"].with_user(outsider).sudo()._generate(
            scope="rpc", name="x", expiration_date=expiry)
        cls.product = cls.env["product.product"].create({"name": "Bracket",
                                                         "default_code": "TB-777"})

    def post(self, body, key=None, headers=None):
        all_headers = {"Content-Type": "application/xml", "X-Odoo-Database": self.env.cr.dbname}
        if key is not False:
            all_headers["Authorization"] = f"Bearer {key or self.key}"
        all_headers.update(headers or {})
        return self.url_open("/mfg/sap/idoc/SAP-IDOC", data=body, headers=all_headers)

    def test_loipro_push_stores_production_orders_once(self):
        response = self.post(LOIPRO)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json()["accepted"], 1)
        message = self.env["mfg.message"].search([("key", "=", "SAP-PRD:1000123:IDOC731001")])
        payload = message.payload
        self.assertEqual((payload["order_ref"], payload["product"], payload["qty"],
                          payload["action"]), ("1000123", "SB-200", 100.0, "release"))
        self.assertEqual(payload["date_start"], "2026-11-24T06:00:00+00:00")
        self.assertEqual(payload["operations"][0]["work_center"], "ASSY-1")
        self.assertEqual(payload["components"][0]["product"], "40000815")
        self.assertEqual(message.create_uid, self.api_user)
        again = self.post(LOIPRO)
        self.assertEqual(again.json()["duplicates"], 1, "the same IDoc twice is one message")

    def test_loipro_through_a_soap_port_in_the_plant_time_zone(self):
        self.env["mfg.connector"].search([("code", "=", "SAP-IDOC")]).sap_timezone = \
            "Europe/Berlin"
        response = self.post(SOAP_LOIPRO.replace(b"731001", b"731009"))
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["mfg.message"].search([("key", "=", "SAP-PRD:1000123:IDOC731009")])
        self.assertEqual(message.payload["date_start"], "2026-11-24T05:00:00+00:00",
                         "06:00 in the plant is 05:00 UTC")
        self.assertEqual(message.payload["components"][0]["qty"], 400.0,
                         "components under their operation (E1AFVOL/E1RESBL)")

    def test_authentication_and_binding_are_required(self):
        self.assertEqual(self.post(LOIPRO, key=False).status_code, 401)
        self.assertEqual(self.post(LOIPRO, key="not-a-key").status_code, 401)
        refused = self.post(LOIPRO, key=self.outsider_key)
        self.assertEqual(refused.status_code, 403)
        self.assertIn("not bound", refused.json()["error"])
        basic = base64.b64encode(f"sap_pi:{self.key}".encode()).decode()
        response = self.post(LOIPRO, key=False, headers={"Authorization": f"Basic {basic}"})
        self.assertEqual(response.status_code, 202, response.text)
        self.assertFalse(self.env["mfg.message"].search_count([("source", "=", "SAP-IDOC"),
                                                               ("create_uid", "!=",
                                                                self.api_user.id)]))

    def test_bad_documents_get_400_with_the_reason(self):
        broken = self.post(b"<LOIPRO01><IDOC><EDI_DC40>")
        self.assertEqual(broken.status_code, 400)
        self.assertIn("not well-formed XML", broken.json()["error"])
        no_idoc = self.post(b"<ORDERS05/>")
        self.assertEqual(no_idoc.status_code, 400)
        self.assertIn("no <IDOC>", no_idoc.json()["error"])
        bad_date = self.post(LOIPRO.replace(b"<GSTRS>20261124", b"<GSTRS>20261399"))
        self.assertEqual(bad_date.status_code, 400)
        self.assertIn("bad date", bad_date.json()["error"])
        entity = self.post(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                           b'"file:///etc/passwd">]><LOIPRO01><IDOC>&e;</IDOC></LOIPRO01>')
        self.assertEqual(entity.status_code, 400)
        self.assertFalse(self.env["mfg.message"].search_count([("source", "=", "SAP-IDOC")]))

    def test_matmas_updates_product_mappings(self):
        response = self.post(MATMAS)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIn("1 without product (40000815)", response.json()["result"])
        mapping = self.env["mfg.mapping"].search([("connector_id", "=", self.connector.id),
                                                  ("mapping_type", "=", "product")])
        self.assertEqual((mapping.external_code, mapping.product_id), ("TB-777", self.product))
        bolt = self.env["mfg.sap.material"].search([("material", "=", "40000815"),
                                                  ("connector_id", "=", self.connector.id)])
        self.assertEqual((bolt.state, bolt.description), ("unmatched", "Hex bolt M8x30"))

    def test_matmas_with_a_material_master_flow_creates_and_updates_products(self):
        self.env["mfg.flow"].create({"name": "materials", "connector_id": self.connector.id,
                                    "canonical_type": "material.master", "schema_version": 2})
        self.env["mfg.mapping"].create({"mapping_type": "uom", "external_code": "ST",
                                        "uom_id": self.env.ref("uom.product_uom_unit").id,
                                        "connector_id": self.connector.id})
        response = self.post(MATMAS)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["material.master"]["accepted"], 2)
        again = self.post(MATMAS).json()["material.master"]
        self.assertEqual((again["accepted"], again["duplicates"]), (0, 2), "same IDoc twice")
        messages = self.env["mfg.message"].search([("connector_id", "=", self.connector.id),
                                                   ("canonical_type", "=", "material.master")])
        messages._job_process()
        self.assertEqual(messages.mapped("state"), ["done", "done"],
                         messages.mapped("last_error"))
        self.assertEqual(self.product.name, "Steel bracket SB-200", "SAP owns the material")
        bolt = self.env["product.product"].search([("default_code", "=", "40000815")])
        self.assertEqual((bolt.name, bolt.is_storable), ("Hex bolt M8x30", True))
        self.assertEqual(messages.filtered(lambda m: m.payload["id"] == "40000815")
                         .payload["material_type"], "Raw")


@tagged("post_install", "-at_install")
class TestTestIdocsArePublishedShapes(BaseCase):
    """The IDocs the tests send follow LOIPRO05/MATMAS05 as SAP publishes them, and the
    checker finds the mistakes the addon once shared with its test data."""

    def test_every_test_idoc_conforms(self):
        for name, document in (("LOIPRO", LOIPRO), ("SOAP_LOIPRO", SOAP_LOIPRO),
                               ("MATMAS", MATMAS)):
            self.assertEqual(idoc_problems(document), [], name)

    def test_the_checker_refuses_what_sap_refuses(self):
        # Operations as E1FVOLL directly under the header (what the addon read before).
        invented = LOIPRO.replace(b"<E1AFFLL SEGMENT=\"1\"><APLFL>000000</APLFL>", b"").replace(
            b"</E1AFVOL></E1AFFLL>", b"</E1AFVOL>").replace(b"E1AFVOL", b"E1FVOLL")
        problems = idoc_problems(invented)
        self.assertTrue(any("segment E1FVOLL is not allowed here" in p for p in problems),
                        problems)
        two_materials = MATMAS.replace(b"</E1MARAM>\n</IDOC><IDOC BEGIN=\"1\">", b"</E1MARAM>")
        self.assertIn("occurs", " ".join(idoc_problems(two_materials)))
        self.assertIn("has no field GAMNX", " ".join(idoc_problems(
            LOIPRO.replace(b"GAMNG", b"GAMNX"))))
        self.assertIn("is not LOIPRO05", " ".join(idoc_problems(
            LOIPRO.replace(b"<IDOCTYP>LOIPRO05", b"<IDOCTYP>LOIPRO01"))))
