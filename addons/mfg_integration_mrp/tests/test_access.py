# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 8, access findings of the MRP addon: operators release holds and resolve
reconciliation lines through the buttons, without repointing them to another order/plant."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import MfgMrpCase


@tagged("post_install", "-at_install")
class TestMrpAccess(MfgMrpCase):
    def test_operator_releases_a_hold_but_cannot_rewrite_it(self):
        production, other = self.new_order(qty=2), self.new_order(qty=3)
        hold = self.env["mfg.quality.hold"].create({
            "production_id": production.id, "reason": "Suspect coil",
            "company_id": self.plant.id})
        as_operator = hold.with_user(self.operator)
        forged = {"production_id": other.id, "company_id": self.plant_b.id,
                  "reason": "nothing to see", "active": False}
        for field, value in forged.items():
            with self.subTest(field=field), self.assertRaises(AccessError):
                as_operator.write({field: value})
        with self.assertRaises(AccessError):
            hold.with_user(self.user).action_release()
        self.assertTrue(hold.active)
        as_operator.action_release()
        self.assertEqual((hold.active, hold.production_id), (False, production))
        self.assertTrue(hold.released_at)

    def test_quality_manager_cannot_move_a_hold_to_another_plant(self):
        quality_manager = self.env["res.users"].create({
            "name": "QM", "login": "qm", "company_id": self.plant.id,
            "company_ids": [(6, 0, self.plant.ids)],
            "group_ids": [(6, 0, self.env.ref("mrp.group_mrp_manager").ids)]})
        hold = self.env["mfg.quality.hold"].create({"lot_name": "L-1", "reason": "suspect",
                                                    "company_id": self.plant.id})
        with self.assertRaises(AccessError):
            hold.with_user(quality_manager).write({"company_id": self.plant_b.id})
        hold.with_user(quality_manager).write({"reason": "suspect coil"})
        self.assertEqual(hold.company_id, self.plant)

    def test_operator_only_resolves_reconciliation_lines(self):
        production, other = self.new_order(qty=2), self.new_order(qty=3)
        line = self.env["mfg.reconciliation.line"].create({
            "production_id": production.id, "issue": "quantity differs"})
        as_operator = line.with_user(self.operator)
        for field, value in (("production_id", other.id), ("issue", "fine"),
                             ("reported_qty", 99.0)):
            with self.subTest(field=field), self.assertRaises(AccessError):
                as_operator.write({field: value})
        as_operator.write({"resolved": True})
        self.assertEqual((line.resolved, line.production_id, line.issue),
                         (True, production, "quantity differs"))
