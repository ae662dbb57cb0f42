# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

from ..services import master_data


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def write(self, vals):
        # Name, unit, tracking and weight live on the template: the same ownership check
        # as on the variant (services/master_data.py).
        master_data.check_product_edit(self.product_variant_ids, vals)
        return super().write(vals)
