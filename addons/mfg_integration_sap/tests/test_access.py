# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 8, access findings of the SAP addon: pulls (which run as superuser with the
connector's credentials) need an operator; operators only pick a material's product."""
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import SapTestCase


@tagged("post_install", "-at_install")
class TestSapAccess(SapTestCase):
    def test_read_only_user_cannot_run_sap_pulls(self):
        flow = self.odata.flow_ids.filtered(lambda f: f.canonical_type == "production.order"
                                            and f.direction == "in")
        calls = (
            (self.odata, "action_sap_pull_orders"),
            (self.odata, "action_sap_pull_materials"),
            (self.rfc, "action_sap_pull_orders"),
            (flow, "action_sap_pull_now"),
        )
        for record, method in calls:
            with self.subTest(method=method, record=record.display_name), \
                    self.assertRaises(AccessError):
                getattr(record.with_user(self.user), method)()
        self.assertFalse(flow.sap_last_pull_at, "no pull ran")

    def test_operator_only_picks_the_product_of_a_material(self):
        material = self.env["mfg.sap.material"].create({
            "connector_id": self.odata.id, "material": "40000815", "description": "Bolt"})
        as_operator = material.with_user(self.operator)
        forged = {"connector_id": self.rfc.id, "material": "TB-777", "description": "x",
                  "sap_deleted": True, "last_received_at": "2000-01-01 00:00:00"}
        for field, value in forged.items():
            with self.subTest(field=field), self.assertRaises(AccessError):
                as_operator.write({field: value})
        product_b = self.env["product.product"].create({"name": "Plant B bolt",
                                                        "company_id": self.plant_b.id})
        with self.assertRaises(UserError):
            as_operator.write({"product_id": product_b.id})
        as_operator.write({"product_id": self.product.id})
        self.assertEqual((material.state, material.mapping_id.product_id),
                         ("mapped", self.product))
        self.assertEqual(material.mapping_id.company_id, self.plant)
        as_operator.action_map()
        with self.assertRaises(AccessError):
            material.with_user(self.user).action_map()
