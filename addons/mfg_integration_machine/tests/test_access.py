# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Plant boundaries and roles on the machine data."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import MfgMachineCase


@tagged("post_install", "-at_install")
class TestMachineAccess(MfgMachineCase):
    def test_other_plant_reads_nothing_and_nobody_writes_figures(self):
        self.counters(("c1", 100, "07:00", 10))
        records = self.compute()
        rule = self.env["mfg.alarm.rule"].create({"name": "Any", "code": "*"})
        self.assertEqual(self.Oee.with_user(self.user).search([("id", "in", records.ids)]), records)
        self.assertFalse(self.Oee.with_user(self.user_b).search([("id", "in", records.ids)]))
        self.assertFalse(self.env["mfg.oee.bucket"].with_user(self.user_b).search([]))
        self.assertFalse(
            self.env["mfg.alarm.rule"].with_user(self.user_b).search([("id", "=", rule.id)])
        )
        for user in (self.user, self.operator, self.api_user, self.manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                records.with_user(user).write({"oee": 1.0})
        with self.assertRaises(AccessError):
            rule.with_user(self.user).write({"min_severity": 1})
        with self.assertRaises(AccessError):
            self.press.with_user(self.user_b).action_mfg_compute_oee()
