# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.tools import SQL

from ..services import partitioning


class IrModel(models.Model):
    _inherit = "ir.model"

    def _drop_table(self):
        """Odoo drops ordinary tables and views only: on uninstall, drop the partitioned
        message table (its partitions with it) and its key table here."""
        for model in self:
            current = self.env.get(model.model)
            if current is None or current._abstract:
                continue
            if partitioning.relkind(self.env.cr, current._table) == "p":
                self.env.cr.execute(SQL("DROP TABLE %s CASCADE", SQL.identifier(current._table)))
                if current._table == partitioning.PARENT:
                    self.env.cr.execute(SQL("DROP TABLE IF EXISTS %s",
                                            SQL.identifier(partitioning.KEY_TABLE)))
        return super()._drop_table()
