# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""End to end: an order pulled from SAP becomes, changes and cancels an Odoo MO."""
from odoo.tests import tagged

from .common import SapTestCase
from .odata_server import ODataSimulator


@tagged("post_install", "-at_install")
class TestSapOrderToManufacturingOrder(SapTestCase):
    def setUp(self):
        super().setUp()
        self.server = ODataSimulator(self.backend, page_size=50).__enter__()
        self.addCleanup(self.server.__exit__)
        self.odata.endpoint_url = self.server.url
        self.flow = self.odata.flow_ids.filtered(lambda f: f.direction == "in")
        self.bracket = self.env["product.product"].create({"name": "Steel bracket",
                                                           "is_storable": True})
        # SAP also subscribes to order releases (common.py gives every SAP connector an
        # outbound production.order flow): those must not echo SAP's own orders back.
        self.mes = self.env["mfg.connector"].create({"name": "MES", "code": "MES-E2E",
                                                     "connector_type": "generic_rest"})
        self._flow("production.order", connector=self.mes, direction="out",
                   ordering_key_field="order_ref")
        self.env["mfg.mapping"].create([
            {"mapping_type": "product", "external_code": "SB-200",
             "product_id": self.bracket.id, "connector_id": self.odata.id},
            {"mapping_type": "uom", "external_code": "ST",
             "uom_id": self.env.ref("uom.product_uom_unit").id},
        ])

    def production(self, number):
        return self.env["mrp.production"].search([("mfg_external_ref", "=", number)])

    def test_pull_creates_updates_and_cancels_the_mo(self):
        self.flow._sap_pull_orders()
        self.run_jobs()
        production = self.production("1000124")
        self.assertEqual((production.product_id, production.product_qty, production.state),
                         (self.bracket, 100, "confirmed"))
        self.assertEqual(production.mfg_source_connector_id, self.odata)
        self.backend.orders["1000124"].update(TotalQuantity="80",
                                              LastChangeDateTime=self.changed(14))
        self.flow._sap_pull_orders()
        self.run_jobs()
        self.assertEqual(production.product_qty, 80, "SAP owns the order header")
        self.backend.orders["1000124"].update(OrderIsMarkedForDeletion=True,
                                              LastChangeDateTime=self.changed(15))
        self.flow._sap_pull_orders()
        self.run_jobs()
        self.assertEqual(production.state, "cancel")
        outbound = self.Message.search([("direction", "=", "out"),
                                        ("canonical_type", "=", "production.order")])
        self.assertNotIn(self.odata, outbound.connector_id,
                         "orders that came from SAP are not sent back to SAP")
        mes_actions = outbound.filtered(lambda m: m.connector_id == self.mes).sorted("id").mapped(
            lambda m: m.payload["action"])
        self.assertEqual(mes_actions[0], "release", "the MES still hears about SAP's orders")
        self.assertEqual(mes_actions[-1], "cancel")
        self.assertIn("update", mes_actions)
