# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""B2MML V0701 pushed to /mfg/in/<code>, in XML and in B2MML-JSON: each noun becomes a
canonical v2 message; one unreadable noun is a reject, the others are stored."""
import json

from mfg_canonical.b2mml import export

from odoo.tests import HttpCase, new_test_user, tagged

KEY = "b2mml-key-4c1a"


def lot_envelope(lot_id, key="BOD-1", disposition="Restricted"):
    return {"key": key, "type": "material.lot", "schema_version": 2, "source": "MES-B2",
            "occurred_at": "2026-11-23T08:00:00+01:00", "verb": "Change",
            "payload": {"id": lot_id, "material_definition_id": {"value": "SB-200"},
                        "disposition": disposition, "reason": "diameter",
                        "quantity": {"value": 40, "unit_code": "C62"}}}


@tagged("post_install", "-at_install")
class TestInboundB2mml(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connector = cls.env["mfg.connector"].create({
            "name": "MES (B2MML)", "code": "MES-B2", "connector_type": "webhook_in",
            "inbound_api_key": KEY})
        cls.env["mfg.flow"].create({"name": "lots", "connector_id": cls.connector.id,
                                    "canonical_type": "material.lot", "schema_version": 2})
        cls.api_user = new_test_user(cls.env, "b2mml_push",
                                     groups="mfg_integration.group_mfg_ingest")
        cls.connector.ingest_user_ids = [(4, cls.api_user.id)]

    def post(self, data, content_type="application/xml", key=KEY, code="MES-B2"):
        headers = {"Content-Type": content_type, "X-Odoo-Database": self.env.cr.dbname}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return self.url_open(f"/mfg/in/{code}", data=data, method="POST", headers=headers)

    def stored(self, key):
        return self.env["mfg.message"].search([("source", "=", "MES-B2"), ("key", "=", key)])

    def test_xml_material_lot_becomes_a_v2_message_and_a_resend_is_a_duplicate(self):
        document = export(lot_envelope("L-1"))
        response = self.post(document)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json()["accepted"], 1)
        message = self.stored("BOD-1/L-1")
        self.assertEqual((message.canonical_type, message.schema_version, message.verb),
                         ("material.lot", 2, "Change"))
        self.assertEqual(message.payload["disposition"], "Restricted")
        self.assertEqual(message.create_uid, self.api_user)
        self.assertEqual(self.post(document).json()["duplicates"], 1)

    def test_b2mml_json_with_one_unreadable_lot(self):
        document = export(lot_envelope("L-2", key="BOD-2"), "json")
        lots = document["ChangeMaterialLot"]["DataArea"]["MaterialLot"]
        broken = json.loads(json.dumps(lots[0]))
        broken["ID"] = "L-3"
        broken["Quantity"][0]["QuantityString"] = "lots"
        lots.append(broken)
        response = self.post(json.dumps(document).encode(), "application/json")
        self.assertEqual(response.status_code, 202, response.text)
        answer = response.json()
        self.assertEqual(answer["accepted"], 1)
        self.assertEqual(answer["rejected"], [{
            "index": 1, "key": "BOD-2/MaterialLot[2]",
            "error": "MaterialLot L-3/QuantityString 'lots' is not a number"}])
        self.assertTrue(self.stored("BOD-2/L-2"))

    def test_unreadable_documents_are_400_with_the_reason(self):
        for data, reason in (
                (b"<ProcessMaterialLot", "not well-formed XML"),
                (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                 b'<ProcessMaterialLot xmlns="http://www.mesa.org/xml/B2MML">&e;'
                 b"</ProcessMaterialLot>", "B2MML"),
                (export(lot_envelope("L-4")).replace(b"<BODID>BOD-1</BODID>", b""),
                 "BODID is required")):
            response = self.post(data)
            self.assertEqual(response.status_code, 400, response.text)
            self.assertIn(reason, response.json()["error"])
        self.assertFalse(self.env["mfg.message"].search_count([("source", "=", "MES-B2")]))

    def test_canonical_pushes_are_unchanged(self):
        response = self.post(json.dumps(lot_envelope("L-5", key="K-5")).encode(),
                             "application/json")
        self.assertEqual(response.status_code, 202, response.text)
        self.assertTrue(self.stored("K-5"))

    def test_a_b2mml_push_needs_the_connectors_own_key(self):
        other = self.env["mfg.connector"].create({
            "name": "Other plant MES", "code": "MES-B2-OTHER", "connector_type": "webhook_in",
            "inbound_api_key": "other-key-77"})
        document = export(lot_envelope("L-6", key="BOD-6"))
        self.assertEqual(self.post(document, key=None).status_code, 401)
        self.assertEqual(self.post(document, key="other-key-77").status_code, 401,
                         "another connector's key does not speak for this one")
        self.assertEqual(self.post(document, code=other.code).status_code, 401)
        self.assertFalse(self.env["mfg.message"].search_count([("key", "like", "BOD-6")]))
