# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class MfgWorkcenterIdealCycle(models.Model):
    """A product's ideal cycle time on a work center, when it differs from the work center's."""

    _name = "mfg.workcenter.ideal.cycle"
    _description = "Ideal cycle time per product"
    _check_company_auto = True

    workcenter_id = fields.Many2one("mrp.workcenter", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="workcenter_id.company_id", store=True)
    product_id = fields.Many2one("product.product", required=True, check_company=True)
    ideal_cycle_s = fields.Float(
        "Ideal cycle (s)",
        required=True,
        digits=(16, 3),
        help="Fastest possible time for one part of this product.",
    )

    _product_uniq = models.Constraint(
        "UNIQUE(workcenter_id, product_id)", "One ideal cycle time per product and work center."
    )
    _positive = models.Constraint("CHECK(ideal_cycle_s > 0)", "An ideal cycle time is positive.")
