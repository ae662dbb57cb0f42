# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Field-level source of truth (``mfg.flow.owned_fields``) on orders a system created: its
update of an Odoo field is ignored and logged, a user's edit of its field is refused."""
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import MfgMrpCase


@tagged("post_install", "-at_install")
class TestFieldOwnership(MfgMrpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.orders = cls.env["mfg.flow"].search([
            ("connector_id", "=", cls.connector.id), ("canonical_type", "=", "production.order"),
            ("direction", "=", "in")])
        # The MES owns the quantity, Odoo owns the schedule.
        cls.orders.write({"source_of_truth": "shared", "owned_fields": "quantity"})
        cls.mes_planner = cls.env["res.users"].create({
            "name": "Planner", "login": "planner_own",
            "group_ids": [(4, cls.env.ref("mrp.group_mrp_manager").id)]})

    def order(self, key, qty, start="2026-11-24T06:00:00+00:00", minute=0):
        self.shop_floor((key, "production.order", {
            "order_ref": "MES-77", "product": "MAT-BRK", "qty": qty, "uom": "PCE",
            "date_start": start}, minute))
        return self.env["mrp.production"].search([("mfg_external_ref", "=", "MES-77")])

    def test_update_of_an_odoo_field_is_ignored_and_logged(self):
        production = self.order("o-1", 10)
        self.assertEqual((production.product_qty, str(production.date_start)),
                         (10, "2026-11-24 06:00:00"), "created with everything the MES sent")
        production.date_start = "2026-11-25 07:00:00"  # Odoo's planner owns the schedule
        self.order("o-2", 12, start="2026-11-26T06:00:00+00:00", minute=1)
        self.assertEqual(production.product_qty, 12, "the MES owns the quantity")
        self.assertEqual(str(production.date_start), "2026-11-25 07:00:00",
                         "the start is Odoo's: not overwritten")
        message = self.message("o-2")
        self.assertEqual(message.state, "done", message.last_error)
        notes = " ".join(message.message_ids.mapped("body"))
        self.assertIn("Not applied, owned by Odoo", notes)
        self.assertIn("start 2026-11-26 06:00:00", notes)

    def test_user_edit_of_the_systems_field_is_refused(self):
        production = self.order("o-3", 10)
        planner = production.with_user(self.mes_planner)
        with self.assertRaisesRegex(UserError, "owned by Edge test line"):
            planner.write({"product_qty": 15})
        with self.assertRaisesRegex(UserError, "owned by Edge test line"):
            self.env["change.production.qty"].with_user(self.mes_planner).create({
                "mo_id": production.id, "product_qty": 15}).change_prod_qty()
        planner.write({"product_qty": 10, "date_start": "2026-11-27 06:00:00"})
        self.assertEqual(str(production.date_start), "2026-11-27 06:00:00",
                         "Odoo's own field, unchanged quantity: allowed")
        self.order("o-4", 15, minute=1)
        self.assertEqual(production.product_qty, 15, "the owner changes it through its update")

    def test_odoo_owned_flow_ignores_every_update_and_backorders_still_split(self):
        self.orders.write({"source_of_truth": "odoo", "owned_fields": False})
        production = self.order("o-5", 10)
        self.order("o-6", 20, minute=1)
        self.assertEqual(production.product_qty, 10)
        self.orders.write({"source_of_truth": "shared", "owned_fields": "quantity"})
        production.qty_producing = 4
        production._set_qty_producing()
        action = production.button_mark_done()
        self.env[action["res_model"]].with_context(**action["context"]).create(
            {}).action_backorder()
        self.assertEqual((production.state, production.product_qty), ("done", 4),
                         "splitting off the backorder is Odoo's booking, not an edit")

    def test_unknown_owned_field_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "no ownable field colour"):
            self.orders.owned_fields = "quantity, colour"
