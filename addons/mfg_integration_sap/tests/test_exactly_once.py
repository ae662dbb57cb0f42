# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""End to end against the simulated SAP's ledger: an order pulled from SAP becomes an MO, and
its confirmation, component issue and goods receipt go back - each quantity booked exactly
once, whichever side books the goods movements, also when SAP's answer is lost after the
commit or the call times out after SAP posted. Standard SAP has no duplicate check: only the
addon's lookup before a re-send keeps a retry from posting twice.
"""
from odoo.tests import tagged

from .common import SapTestCase
from .odata_server import ODataSimulator
from .rfc_peer import WorkerKilled

ORDER = "1000300"
BOLT = "000000000040000815"


@tagged("post_install", "-at_install")
class TestExactlyOnce(SapTestCase):
    def setUp(self):
        super().setUp()
        # Two bolts per bracket, backflushed; automatic goods receipt on the order.
        self.backend.add_order(ORDER, qty=50, components=[(BOLT, 2.0, "ST", True)], auto_gr=True)
        self.bracket = self.env["product.product"].create({"name": "Bracket SB-200",
                                                           "is_storable": True})
        for connector in (self.rfc, self.odata):
            self.env["mfg.mapping"].create({"mapping_type": "product", "external_code": "SB-200",
                                            "product_id": self.bracket.id,
                                            "connector_id": connector.id})

    def shop_floor(self, connector, prefix):
        """What the plant reports for the order: 40 good, 80 bolts used, 40 received."""
        return [
            self.send(connector, "production.confirmation", {
                "order_ref": ORDER, "work_center": "ASSY-1", "qty_good": 40, "qty_scrap": 0,
                "uom": "ST", "final": True}, f"{prefix}-CONF", minute=1),
            self.send(connector, "material.consumption", {
                "order_ref": ORDER, "product": "40000815", "qty": 80, "uom": "ST"},
                f"{prefix}-GI", minute=2),
            self.send(connector, "goods.receipt", {
                "order_ref": ORDER, "product": "SB-200", "qty": 40, "uom": "ST"},
                f"{prefix}-GR", minute=3),
        ]

    def drain(self, messages, rounds=6, server=None):
        for _round in range(rounds):
            if server is not None:
                server.wait_idle()
            self.run_jobs(ignore_eta=True)
            if all(m.state == "done" for m in messages):
                return
        self.fail([(m.key, m.state, m.last_error) for m in messages])

    def assert_booked_once(self):
        ledger = self.backend.ledger()
        self.assertEqual(ledger.get((ORDER, "yield", "")), 40.0, ledger)
        self.assertEqual(ledger.get((ORDER, "40000815", "261")), 80.0, ledger)
        self.assertEqual(ledger.get((ORDER, "SB-200", "101")), 40.0, ledger)
        self.assertEqual(len(ledger), 3, ledger)

    def test_rfc_sap_books_goods_movements_lost_commit_reply(self):
        self.rfc.sap_goods_movements = "sap"
        flow = self.rfc.flow_ids.filtered(lambda f: f.direction == "in")
        flow._sap_pull_orders()
        self.run_jobs()
        production = self.env["mrp.production"].search([("mfg_external_ref", "=", ORDER)])
        self.assertEqual((production.product_id, production.product_qty), (self.bracket, 50))
        self.fake_rfc.lose_commit_answer = 1
        messages = self.shop_floor(self.rfc, "RS")
        self.run_jobs()
        self.assertEqual(messages[0].state, "failed", "committed in SAP, answer lost")
        self.drain(messages)
        self.assert_booked_once()
        self.assertIn("already posted by an earlier send", messages[0].result_summary)
        self.assertIn("Not sent: SAP books", messages[1].result_summary)
        origins = sorted(i["origin"] for d in self.backend.material_documents for i in d["items"])
        self.assertEqual(origins, ["auto_gr", "backflush"])

    def test_rfc_odoo_books_goods_movements_lost_commit_replies(self):
        # Odoo owns the goods movements: over RFC that needs orders without backflush (read
        # and refused otherwise, see below) and without automatic goods receipt in SAP.
        self.backend.orders[ORDER]["auto_gr"] = False
        self.backend.orders[ORDER]["components"][0]["backflush"] = False
        self.fake_rfc.lose_commit_answer = 3
        messages = self.shop_floor(self.rfc, "RO")
        self.drain(messages)
        self.assert_booked_once()
        self.assertEqual(sorted(i["origin"] for d in self.backend.material_documents
                                for i in d["items"]), ["api", "api"])

    def test_rfc_odoo_books_goods_movements_refuses_a_backflushed_order(self):
        """Odoo owns the goods movements but SAP's order still backflushes the bolts: the
        confirmation is refused (it would consume them twice), Odoo's own 261 and 101 go;
        once the indicator is cleared in SAP a requeue confirms - each quantity once."""
        self.backend.orders[ORDER]["auto_gr"] = False
        messages = self.shop_floor(self.rfc, "RB")
        self.run_jobs()
        self.assertEqual([m.state for m in messages], ["exception", "done", "done"],
                         [m.last_error for m in messages])
        self.assertIn(f"SAP would backflush 40000815 of order {ORDER}", messages[0].last_error)
        self.assertNotIn((ORDER, "yield", ""), self.backend.ledger(), "nothing confirmed")
        self.assertIn("BAPI_PRODORD_GET_DETAIL", self.fake_rfc.called)
        self.assertNotIn("BAPI_PRODORDCONF_CREATE_TT", self.fake_rfc.called)
        self.backend.orders[ORDER]["components"][0]["backflush"] = False
        messages[0].with_user(self.operator).action_requeue()
        self.run_jobs()
        self.assertEqual(messages[0].state, "done", messages[0].last_error)
        self.assert_booked_once()
        self.assertEqual(self.fake_rfc.refused, [])

    def test_odata_odoo_books_goods_movements_timeout_after_posting(self):
        server = ODataSimulator(self.backend).__enter__()
        self.addCleanup(server.__exit__)
        self.odata.write({"endpoint_url": server.url, "timeout_s": 0.4})
        server.slow_posts = 3  # SAP posts each one, the answer comes too late
        messages = self.shop_floor(self.odata, "OO")
        self.run_jobs()
        self.assertEqual(messages[0].state, "failed", "posted in SAP, answer too late")
        self.drain(messages, server=server)
        self.assertEqual(server.slow_posts, 0, "every posting timed out once")
        self.assert_booked_once()
        self.assertEqual(sorted(i["origin"] for d in self.backend.material_documents
                                for i in d["items"]), ["api", "api"],
                         "APIConfHasNoGoodsMovements kept SAP from backflushing as well")

    def test_worker_killed_after_sap_committed(self):
        """kill -9 between SAP's commit and Odoo's: the job's transaction is gone, queue_job
        finds the job dead and requeues it with its try counter raised."""
        self.rfc.sap_goods_movements = "sap"
        self.fake_rfc.die_after_commit = 1
        message = self.send(self.rfc, "production.confirmation", {
            "order_ref": ORDER, "work_center": "ASSY-1", "qty_good": 40, "qty_scrap": 0,
            "uom": "ST", "final": True}, "KILL-CONF")
        job = self.pending_jobs()
        killed = None
        try:
            with self.env.cr.savepoint():
                self.run_jobs()
        except WorkerKilled as exc:
            killed = exc
        self.assertIsNotNone(killed, f"worker not killed: {message.state} {message.last_error}")
        self.env.invalidate_all()
        self.assertEqual((message.state, message.attempts, job.state),
                         ("received", 0, "pending"), "nothing of the dead run survived")
        self.assertEqual(len(self.backend.confirmations), 1, "but SAP has the posting")
        job.retry += 1  # what queue_job's requeue_dead_jobs does to a dead started job
        self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertIn("already posted by an earlier send", message.result_summary)
        ledger = self.backend.ledger()
        self.assertEqual(ledger[(ORDER, "yield", "")], 40.0, "confirmed once")
        self.assertEqual(ledger[(ORDER, "SB-200", "101")], 40.0, "received once (auto GR)")

    def test_manual_requeue_after_lost_commit_reply_is_looked_up(self):
        """An operator requeues a failed message (attempts and error reset): SAP may still
        have it, so it is looked up, not posted again."""
        self.rfc.sap_goods_movements = "sap"
        self.fake_rfc.lose_commit_answer = 1
        message = self.send(self.rfc, "production.confirmation", {
            "order_ref": ORDER, "work_center": "ASSY-1", "qty_good": 40, "qty_scrap": 0,
            "uom": "ST", "final": True}, "REQ-CONF")
        self.run_jobs()
        self.assertEqual(message.state, "failed", message.last_error)
        self.assertEqual(len(self.backend.confirmations), 1, "SAP committed it")
        message.with_user(self.operator).action_requeue()
        self.assertEqual((message.attempts, message.last_error), (0, False))
        self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertIn("already posted by an earlier send", message.result_summary)
        self.assertEqual(self.backend.ledger()[(ORDER, "yield", "")], 40.0, "confirmed once")
