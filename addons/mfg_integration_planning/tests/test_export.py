# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import csv
import io

from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import Receiver

from .common import PlanningTestCase


@tagged("post_install", "-at_install")
class TestExport(PlanningTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "ACME Retail"})
        cls.customers = cls.env.ref("stock.stock_location_customers")
        cls.env["stock.quant"]._update_available_quantity(cls.finished, cls.stock, 100)

    def ship(self, qty):
        move = self.env["stock.move"].create({
            "product_id": self.finished.id, "product_uom_qty": qty,
            "product_uom": self.uom_unit.id, "location_id": self.stock.id,
            "location_dest_id": self.customers.id, "partner_id": self.customer.id,
            "company_id": self.plant.id})
        move._action_confirm()
        move._action_assign()
        move.picked = True
        move._action_done()
        return move

    def export(self, **values):
        """An export whose checkpoint is past the history already in the database (demo
        data included), so the test sees only what it creates."""
        export = self.env["mfg.planning.export"].create(dict({"name": "Test"}, **values))
        export._run()
        self.files_before = self.env["ir.attachment"].search([], order="id desc", limit=1).id
        return export

    def files(self, export):
        attachments = self.env["ir.attachment"].search(
            [("res_model", "=", export._name), ("res_id", "=", export.id),
             ("id", ">", self.files_before)], order="id")
        return [list(csv.DictReader(io.StringIO(a.raw.decode()))) for a in attachments]

    def test_incremental_shipments_with_checkpoint(self):
        export = self.export(kind="shipments")
        self.ship(3)
        self.ship(4)
        ok, text = export._run()
        self.assertTrue(ok, text)
        self.assertIn("2 row(s) exported", text)
        self.ship(5)
        ok, text = export._run()
        self.assertIn("1 row(s) exported", text)
        first, second = self.files(export)
        self.assertEqual([float(r["quantity"]) for r in first], [3, 4])
        self.assertEqual([(r["product"], float(r["quantity"]), r["customer"]) for r in second],
                         [("GB-1", 5, "ACME Retail")])
        ok, text = export._run()
        self.assertIn("Nothing new", text)
        self.assertEqual(len(self.files(export)), 2)

    def test_rest_push_and_failure_keeps_the_checkpoint(self):
        self.ship(2)
        with Receiver(statuses=[503, 200]) as receiver:
            export = self.env["mfg.planning.export"].create({
                "name": "Inventory", "kind": "inventory", "push_url": receiver.url,
                "store_file": False})
            ok, text = export._run()
            self.assertFalse(ok)
            self.assertIn("HTTP 503", text)
            self.assertFalse(export.checkpoint_date)
            ok, text = export._run()
            self.assertTrue(ok, text)
            body = receiver.requests[-1]["json"]
            self.assertEqual(body["kind"], "inventory")
            rows = [r for r in body["rows"] if r["product"] == "GB-1"]
            self.assertEqual([r["quantity"] for r in rows], [98.0])
            self.assertTrue(export.checkpoint_date)

    def test_sales_without_the_sales_app_are_customer_moves(self):
        export = self.export(kind="sales")
        self.assertEqual(export._source()[0],
                         "sale.order.line" if "sale.order.line" in self.env else "stock.move")
        self.ship(1)
        ok, text = export._run()
        self.assertIn("1 row(s) exported", text)

    def test_cron_runs_due_exports(self):
        export = self.env["mfg.planning.export"].create({"name": "Shipments", "kind": "shipments",
                                                         "interval_min": 60})
        self.ship(1)
        self.env["mfg.planning.export"]._cron_run_exports()
        self.assertTrue(export.last_run_ok)
        self.assertTrue(export.next_run_at)
