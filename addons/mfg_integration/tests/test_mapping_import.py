# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mappings come from spreadsheets: Odoo's standard import/export must round-trip them."""
from odoo.tests import tagged

from .common import MfgTestCase


@tagged("post_install", "-at_install")
class TestMappingImport(MfgTestCase):
    def test_csv_import_and_export_round_trip(self):
        product = self.env["product.product"].create({"name": "Sheet", "default_code": "SH-1"})
        fields_ = ["mapping_type", "external_code", "external_label", "product_id", "uom_id",
                   "connector_id"]
        rows = [
            ["product", "MAT-SH1", "Sheet (MES)", "SH-1", "", "Edge test line"],
            ["uom", "PCE", "Pieces", "", "Units", ""],
            ["product", "MAT-XX", "bad", "does-not-exist", "", ""],
        ]
        result = self.env["mfg.mapping"].with_user(self.operator).load(
            fields_, rows[:2])
        self.assertFalse(result["messages"], result["messages"])
        self.assertEqual(len(result["ids"]), 2)
        mapping = self.env["mfg.mapping"].browse(result["ids"][0])
        self.assertEqual((mapping.product_id, mapping.connector_id), (product, self.connector))
        # A bad row is refused with a message naming the problem; nothing half-imported.
        bad = self.env["mfg.mapping"].load(fields_, rows[2:])
        self.assertFalse(bad["ids"])
        self.assertTrue(any("does-not-exist" in m["message"] or "product" in m["message"].lower()
                            for m in bad["messages"]))
        exported = self.env["mfg.mapping"].browse(result["ids"]).export_data(
            ["mapping_type", "external_code", "product_id", "uom_id"])["datas"]
        self.assertEqual(exported[0][:3], ["Product", "MAT-SH1", "[SH-1] Sheet"])
        self.assertEqual(exported[1][0:2], ["Unit of measure", "PCE"])
