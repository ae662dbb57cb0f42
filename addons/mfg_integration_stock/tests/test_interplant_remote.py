# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Odoo to Odoo over JSON-2: the notice goes through the receiving Odoo's real HTTP ingest
(here the test server stands in for the second database: same route, same API-key auth,
same (source, key) dedup), and a refusal comes back as the message's exception."""
from datetime import datetime, timedelta

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import release_test_lock

from ..models import mfg_message as message_module
from .common import StockTestCase


@tagged("post_install", "-at_install")
class TestInterplantRemote(StockTestCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        receiver = env["mfg.connector"].create({
            "name": "Plant A (remote)", "code": "PLANT-A-REMOTE", "connector_type": "edge",
            "company_id": cls.plant_b.id})
        cls._flow("shipment.notice", connector=receiver, schema_version=2)
        ingest_user = new_test_user(env, "plant_a_bridge",
                                    groups="mfg_integration.group_mfg_ingest",
                                    company_id=cls.plant_b.id,
                                    company_ids=[(6, 0, cls.plant_b.ids)])
        receiver.ingest_user_ids = [(4, ingest_user.id)]
        key = env["res.users.apikeys"].with_user(ingest_user).sudo()._generate(
            scope="rpc", name="plant A", expiration_date=datetime.now() + timedelta(days=1))
        for kind, code, field, record in (("product", "RES", "product_id", cls.resin),
                                          ("uom", "Units", "uom_id", cls.unit)):
            env["mfg.mapping"].create({"mapping_type": kind, "external_code": code,
                                       field: record.id, "connector_id": receiver.id,
                                       "company_id": cls.plant_b.id})
        cls.remote = env["mfg.connector"].create({
            "name": "Plant B (remote Odoo)", "code": "PLANT-B-REMOTE",
            "connector_type": "odoo_remote", "auth_method": "bearer", "api_key": key,
            "mfg_target_source": "PLANT-A-REMOTE", "mfg_odoo_database": env.cr.dbname,
            "mfg_plant_partner_id": cls.plant_b.partner_id.id, "timeout_s": 10})
        cls._flow("shipment.notice", connector=cls.remote, direction="out", schema_version=2)

    def setUp(self):
        super().setUp()
        self.remote.endpoint_url = self.base_url()
        # The transport's request comes from inside a queue job of this test: the test
        # server may serve it (allow_all), and needs the test lock the job's thread holds
        # while it waits for the answer (what Odoo's own tests do for wkhtmltopdf).
        self.http_request_allow_all = True
        send = message_module.send_with_auth

        def send_releasing_the_test_lock(*args, **kwargs):
            with release_test_lock():
                return send(*args, **kwargs)
        self.patch(message_module, "send_with_auth", send_releasing_the_test_lock)

    def ship(self, lot):
        self.picking("in", [(self.resin, 5, lot)], partner=self.vendor)
        return self.picking("out", [(self.resin, 5, lot)], partner=self.plant_b.partner_id)

    def test_notice_reaches_the_remote_ingest_and_prepares_the_receipt(self):
        delivery = self.ship("LOT-R")
        self.run_jobs()
        sent = self.outbox(self.remote)
        self.assertEqual(sent.state, "done", sent.last_error)
        self.assertIn("Delivered to PLANT-B-REMOTE", sent.result_summary)
        self.run_jobs()
        transfer = self.env["mfg.interplant.transfer"].search([("name", "=", delivery.name)])
        self.assertEqual((transfer.state, transfer.company_id), ("in_transit", self.plant_b))
        self.assertEqual(transfer.picking_id.move_line_ids.lot_id.name, "LOT-R")

    def test_a_repeated_hand_over_is_a_duplicate_there(self):
        """A delivery whose answer was lost is sent again: the receiving Odoo's (source,
        key) dedup keeps one notice, one receipt."""
        delivery = self.ship("LOT-D")
        self.run_jobs()
        sent = self.outbox(self.remote)
        outcome = sent._mfg_send_odoo_remote()  # the re-send after a lost answer
        self.assertIn("Delivered", outcome[sent.id])
        self.run_jobs()
        transfers = self.env["mfg.interplant.transfer"].search([("name", "=", delivery.name)])
        self.assertEqual(len(transfers), 1)
        self.assertEqual(self.Message.search_count([("source", "=", "PLANT-A-REMOTE")]), 1)

    def test_a_refused_key_is_an_exception_with_the_reason(self):
        self.remote.api_key = "not-a-key"
        self.ship("LOT-S")
        self.run_jobs()
        sent = self.outbox(self.remote)
        self.assertEqual(sent.state, "exception", sent.last_error)
        self.assertIn("HTTP 401", sent.last_error)
