# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import hashlib
import hmac

from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import Receiver

from .common import MfgMrpCase


@tagged("post_install", "-at_install")
class TestOrderRelease(MfgMrpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mes = cls.env["mfg.connector"].create({
            "name": "MES", "code": "MES-T", "connector_type": "generic_rest",
            "hmac_secret": "mes-shared-secret", "auth_method": "bearer", "api_key": "tok"})
        cls.flow_release = cls._flow("production.order", connector=cls.mes, direction="out",
                                     ordering_key_field="order_ref", source_of_truth="odoo")
        cls.env["mfg.mapping"].create({"mapping_type": "product", "external_code": "MES-BRK",
                                       "product_id": cls.bracket.id,
                                       "connector_id": cls.mes.id})

    def test_confirmed_order_reaches_the_mes_signed(self):
        with Receiver() as receiver:
            self.mes.endpoint_url = receiver.url
            production = self.new_order(qty=12)
            message = self.Message.search([("connector_id", "=", self.mes.id)])
            self.assertEqual(len(message), 1)
            self.run_jobs()
            self.assertEqual(message.state, "done")
            request = receiver.requests[0]
            headers, body = request["headers"], request["body"]
            expected = hmac.new(b"mes-shared-secret",
                                headers["X-Mfg-Timestamp"].encode() + b"." + body,
                                hashlib.sha256).hexdigest()
            self.assertEqual(headers["X-Mfg-Signature"], f"sha256={expected}")
            self.assertEqual(headers["X-Mfg-Event"], "production.order")
            self.assertEqual(headers["Authorization"], "Bearer tok")
            payload = request["json"]["payload"]
            self.assertEqual(payload["order_ref"], production.name)
            self.assertEqual(payload["action"], "release")
            self.assertEqual(payload["product"], "MES-BRK", "the MES's own material code")
            self.assertEqual(payload["qty"], 12)
            self.assertEqual(payload["uom"], "PCE")
            self.assertEqual(sorted((c["product"], c["qty"]) for c in payload["components"]),
                             [("MAT-SCREW", 48), ("MAT-SHEET", 12)])
            self.assertEqual(payload["operations"][0]["work_center"], "WC-PRESS")

    def test_changes_and_cancel_are_sent_too(self):
        production = self.new_order(qty=5)
        production.date_start = "2026-12-01 06:00:00"
        production.action_cancel()
        actions = self.Message.search([("connector_id", "=", self.mes.id)],
                                      order="id").mapped(lambda m: m.payload["action"])
        self.assertEqual(actions, ["release", "update", "cancel"])

    def test_order_from_the_mes_is_not_sent_back_to_it(self):
        self.env["mfg.flow"].create({"name": "orders from MES", "connector_id": self.mes.id,
                                     "canonical_type": "production.order", "direction": "in"})
        self.mes.ingest_user_ids = [(4, self.api_user.id)]
        other = self.env["mfg.connector"].create({"name": "Planning board", "code": "PLAN-T",
                                                  "connector_type": "generic_rest"})
        self._flow("production.order", connector=other, direction="out")
        self.Message.ingest([{
            "key": "mes-order-1", "type": "production.order", "schema_version": 1,
            "source": "MES-T", "occurred_at": "2026-11-23T08:00:00Z",
            "payload": {"order_ref": "MES-4711", "product": "MES-BRK", "qty": 7, "uom": "PCE"}}])
        self.run_jobs()
        production = self.env["mrp.production"].search([("mfg_external_ref", "=", "MES-4711")])
        self.assertEqual((production.state, production.product_qty), ("confirmed", 7))
        self.assertEqual(production.mfg_source_connector_id, self.mes)
        outbound = self.Message.search([("direction", "=", "out")])
        self.assertEqual(outbound.connector_id, other,
                         "released to the others, not back to the MES")
