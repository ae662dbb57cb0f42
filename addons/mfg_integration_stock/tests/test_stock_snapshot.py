# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A WMS's stock report reconciled with Odoo's on-hand, per location, product and lot."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import envelope

from .common import StockTestCase


@tagged("post_install", "-at_install")
class TestStockSnapshot(StockTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._flow("inventory.snapshot", connector=cls.wms, schema_version=2)

    def report(self, key, lines, complete=False):
        self.Message.ingest([envelope(key, type_name="inventory.snapshot", source="WMS-T",
                                      schema_version=2, verb="Sync", payload={
            "id": key, "taken_at": "2026-11-23T18:00:00+00:00", "complete": complete,
            "lines": [{"material_definition_id": {"value": product},
                       "quantity": {"value": qty, "unit_text": "EA"}, "lot_id": lot,
                       "storage_location": {"value": location}}
                      for product, qty, lot, location in lines]})])
        self.run_jobs()
        return self.message(key, "WMS-T")

    def differences(self):
        return {(d.location_id.id, d.lot_name, d.reported_qty, d.odoo_qty, d.difference)
                for d in self.env["mfg.stock.difference"].search(
                    [("connector_id", "=", self.wms.id)])}

    def test_report_lists_only_what_differs_and_replaces_the_last_one(self):
        self.picking("in", [(self.resin, 6, "LOT-1")], partner=self.vendor)
        self.picking("in", [(self.resin, 2, "LOT-2")], partner=self.vendor)
        first = self.report("snap-1", [("MAT-RESIN", 5, "LOT-1", "WH-STOCK"),
                                       ("MAT-RESIN", 2, "LOT-2", "WH-STOCK")])
        self.assertEqual(first.state, "done", first.last_error)
        self.assertEqual(self.differences(), {(self.stock.id, "LOT-1", 5.0, 6.0, 1.0)})
        # The WMS finds the sixth piece; its complete report of the bin names nothing
        # Odoo does not hold, but Odoo's LOT-2 is missing from the complete stock report.
        second = self.report("snap-2", [("MAT-RESIN", 6, "LOT-1", "WH-STOCK")], complete=True)
        self.assertEqual(second.state, "done", second.last_error)
        self.assertEqual(self.differences(), {(self.stock.id, "LOT-2", 0.0, 2.0, 2.0)})
        line = self.env["mfg.stock.difference"].search([("connector_id", "=", self.wms.id)])
        shown = self.env["mfg.message"].search(line.action_view_messages()["domain"])
        self.assertIn(second, shown)

    def test_unknown_location_is_named_and_other_plants_see_nothing(self):
        self.picking("in", [(self.resin, 6, "LOT-1")], partner=self.vendor)
        bad = self.report("snap-3", [("MAT-RESIN", 5, "LOT-1", "WH-NOWHERE")])
        self.assertEqual(bad.state, "exception")
        self.assertIn(("location", "WH-NOWHERE"),
                      {(kind, code) for kind, code, _path in bad.missing_mappings})
        self.report("snap-4", [("MAT-RESIN", 5, "LOT-1", "WH-STOCK")])
        difference = self.env["mfg.stock.difference"].search([("connector_id", "=", self.wms.id)])
        self.assertEqual(len(difference), 1)
        self.assertEqual(difference.with_user(self.user).difference, 1.0)
        with self.assertRaises(AccessError):
            difference.with_user(self.user_b).read(["difference"])
        with self.assertRaises(AccessError):
            difference.with_user(self.user).unlink()
