# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Master data from its owner (materials, BoM revisions, work centers) created and updated in
Odoo with field-level ownership, unknown references named; Odoo's BoM revisions sent to the
MES in its codes, once per content."""
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import envelope

from .common import MfgMrpCase


@tagged("post_install", "-at_install")
class TestMasterData(MfgMrpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plm = cls.env["mfg.connector"].create({"name": "PLM", "code": "PLM-T",
                                                   "connector_type": "edge"})
        cls.flows = {type_name: cls._flow(type_name, connector=cls.plm, schema_version=2)
                     for type_name in ("material.master", "material.bom",
                                       "equipment.work_center")}
        cls.mes = cls.env["mfg.connector"].create({"name": "MES out", "code": "MES-BOM",
                                                   "connector_type": "edge"})
        cls._flow("material.bom", connector=cls.mes, direction="out", schema_version=2)

    def from_plm(self, key, type_name, payload):
        result = self.Message.ingest([envelope(key, type_name=type_name, source="PLM-T",
                                               schema_version=2, verb="Sync",
                                               payload=payload)])
        self.assertEqual(result["rejected"], [])
        self.run_jobs()
        return self.message(key, "PLM-T")

    def material(self, key, **values):
        return self.from_plm(key, "material.master", dict({
            "id": "40000815", "description": "Bolt M8x20", "base_unit": {"unit_code": "C62"},
            "material_type": "Raw", "tracking": "Lot",
            "gross_weight": {"value": 120, "unit_code": "GRM"}}, **values))

    def test_material_is_created_with_its_mapping_then_updated_where_owned(self):
        created = self.material("m-1")
        self.assertEqual(created.state, "done", created.last_error)
        bolt = self.env["product.product"].search([("default_code", "=", "40000815")])
        self.assertEqual((bolt.name, bolt.uom_id, bolt.tracking, bolt.is_storable),
                         ("Bolt M8x20", self.unit, "lot", True))
        self.assertAlmostEqual(bolt.weight, 0.12)
        mapping = self.env["mfg.mapping"].search([("connector_id", "=", self.plm.id),
                                                  ("external_code", "=", "40000815")])
        self.assertEqual(mapping.product_id, bolt, "later messages resolve the PLM's code")
        # Shared ownership: the PLM owns the description, Odoo the barcode.
        self.flows["material.master"].write({"source_of_truth": "shared",
                                             "owned_fields": "description"})
        updated = self.material("m-2", description="Bolt M8x20 zinc", barcode="4006381333931")
        self.assertEqual(updated.state, "done", updated.last_error)
        self.assertEqual((bolt.name, bolt.barcode), ("Bolt M8x20 zinc", False))
        self.assertIn("Not applied, owned by Odoo", " ".join(updated.message_ids.mapped("body")))
        # Edits in Odoo: the PLM's field is refused, Odoo's own goes through.
        planner = self.env["res.users"].create({
            "name": "Planner", "login": "planner_md",
            "group_ids": [(4, self.env.ref("mrp.group_mrp_manager").id),
                          (4, self.env.ref("product.group_product_manager").id)]})
        with self.assertRaisesRegex(UserError, "kept by PLM"):
            bolt.with_user(planner).name = "Bolt"
        with self.assertRaisesRegex(UserError, "kept by PLM"):
            bolt.product_tmpl_id.with_user(planner).write({"name": "Bolt"})
        bolt.with_user(planner).barcode = "4006381333931"
        self.assertEqual(bolt.barcode, "4006381333931")
        archived = self.material("m-3", deleted=True)
        self.assertEqual(archived.state, "done", archived.last_error)
        self.assertFalse(bolt.active)

    def test_bad_weight_unit_is_an_exception_and_creates_nothing(self):
        bad = self.material("m-4", id="40000999", gross_weight={"value": 1, "unit_code": "MTR"})
        self.assertEqual(bad.state, "exception")
        self.assertIn("Weight unit MTR", bad.last_error)
        self.assertFalse(self.env["product.product"].search([("default_code", "=", "40000999")]))

    def revision(self, key, revision, components, operations=None):
        return self.from_plm(key, "material.bom", {
            "id": "BOM-BRK", "revision": revision,
            "material_definition_id": {"value": "MAT-BRK"},
            "quantity": {"value": 1, "unit_code": "C62"}, "components": components,
            "operations": operations or [{"id": "0010", "description": "Press",
                                          "work_center_id": {"value": "WC-PRESS"},
                                          "duration": "PT90S"}]})

    def test_bom_revision_replaces_the_previous_one_and_names_unknown_parts(self):
        sheet = {"material_definition_id": {"value": "MAT-SHEET"},
                 "quantity": {"value": 1, "unit_text": "PCE"}, "operation_id": "0010"}
        first = self.revision("b-1", "A", [sheet])
        self.assertEqual(first.state, "done", first.last_error)
        rev_a = self.env["mrp.bom"].search([("code", "=", "BOM-BRK/A")])
        self.assertEqual((rev_a.bom_line_ids.product_id, rev_a.operation_ids.workcenter_id,
                          rev_a.operation_ids.time_cycle_manual),
                         (self.sheet, self.press, 1.5))
        self.assertEqual(rev_a.bom_line_ids.operation_id, rev_a.operation_ids)
        unknown = self.revision("b-2", "B", [sheet, {
            "material_definition_id": {"value": "MAT-NOWHERE"},
            "quantity": {"value": 2, "unit_text": "PCE"}}])
        self.assertEqual(unknown.state, "exception")
        self.assertIn(("product", "MAT-NOWHERE"),
                      {(kind, code) for kind, code, _path in unknown.missing_mappings})
        self.assertFalse(self.env["mrp.bom"].search([("code", "=", "BOM-BRK/B")]))
        second = self.revision("b-3", "B", [sheet, {
            "material_definition_id": {"value": "MAT-SCREW"},
            "quantity": {"value": 4, "unit_text": "PCE"}}])
        self.assertEqual(second.state, "done", second.last_error)
        rev_b = self.env["mrp.bom"].search([("code", "=", "BOM-BRK/B")])
        self.assertEqual(set(rev_b.bom_line_ids.product_id.ids), {self.sheet.id, self.screw.id})
        self.assertFalse(rev_a.active, "new orders take the new revision")
        self.assertEqual(self.env["mrp.bom"]._bom_find(self.bracket)[self.bracket], rev_b)
        # The MES hears of the PLM's revision once, in its codes; not the PLM itself.
        sent = self.Message.search([("connector_id", "=", self.mes.id),
                                    ("canonical_type", "=", "material.bom")])
        revisions = [m.payload for m in sent if m.payload["id"] == "BOM-BRK/B"]
        self.assertEqual(len(revisions), 1)
        self.assertEqual({c["material_definition_id"]["value"] for c in revisions[0]["components"]},
                         {"MAT-SHEET", "MAT-SCREW"})
        self.assertFalse(self.Message.search([("connector_id", "=", self.plm.id),
                                              ("direction", "=", "out")]))

    def test_odoo_bom_change_goes_to_the_mes_once_per_content(self):
        before = self.Message.search_count([("connector_id", "=", self.mes.id)])
        self.bom.write({"product_qty": 2})
        sent = self.Message.search([("connector_id", "=", self.mes.id)], order="id")[before:]
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent.payload["quantity"], {"unit_text": "PCE", "value": 2.0})
        self.assertEqual({c["material_definition_id"]["value"]
                          for c in sent.payload["components"]}, {"MAT-SHEET", "MAT-SCREW"})
        self.assertEqual(sent.schema_version, 2)
        self.bom.write({"product_qty": 2})  # the same content again: nothing more
        self.assertEqual(self.Message.search_count([("connector_id", "=", self.mes.id)]),
                         before + 1)

    def test_work_center_created_then_refused_in_a_foreign_currency(self):
        created = self.from_plm("w-1", "equipment.work_center", {
            "id": "ASSY-9", "description": "Assembly line 9", "capacity": 2,
            "time_efficiency": 85, "calendar_id": self.env.company.resource_calendar_id.name})
        self.assertEqual(created.state, "done", created.last_error)
        center = self.env["mrp.workcenter"].search([("code", "=", "ASSY-9")])
        self.assertEqual((center.name, center.time_efficiency), ("Assembly line 9", 85))
        self.assertIn("Capacity 2 not applied", " ".join(created.message_ids.mapped("body")))
        foreign = "EUR" if self.env.company.currency_id.name != "EUR" else "USD"
        refused = self.from_plm("w-2", "equipment.work_center", {
            "id": "ASSY-9", "description": "Assembly line 9",
            "cost_per_hour": {"value": 80, "currency": foreign}})
        self.assertEqual(refused.state, "exception")
        self.assertIn(f"in {foreign}", refused.last_error)
        unknown = self.from_plm("w-3", "equipment.work_center", {
            "id": "ASSY-9", "description": "Assembly line 9", "calendar_id": "Moon shifts"})
        self.assertIn("calendar Moon shifts does not exist", unknown.last_error)
