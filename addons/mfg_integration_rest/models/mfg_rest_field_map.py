# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.mfg_integration.models.mfg_mapping import MAPPING_TYPES
from odoo.addons.mfg_integration.services import access

from ..services import rest_mapping


class MfgRestFieldMap(models.Model):
    """One line of a declarative mapping: target path <- source path, with a transform.

    Request lines build an outbound body from ``payload.*`` / ``envelope.*``; item lines
    build a canonical payload from a pulled ``item.*``.
    """

    _name = "mfg.rest.field.map"
    _description = "REST Field Mapping Line"
    _order = "endpoint_id, kind, sequence, id"
    _check_company_auto = True

    endpoint_id = fields.Many2one("mfg.rest.endpoint", required=True, ondelete="cascade",
                                  check_company=True,
                                  index=True)
    company_id = fields.Many2one(related="endpoint_id.company_id", store=True, string="Plant")
    sequence = fields.Integer(default=10)
    kind = fields.Selection([("request", "Request body (outbound)"),
                             ("item", "Pulled item to payload (inbound)")],
                            required=True, default="request")
    target_path = fields.Char("Target", required=True,
                              help="Request: path in the body (e.g. quantities.good). "
                              "Item: path in the canonical payload (e.g. qty).")
    source_path = fields.Char("Source", required=True,
                              help="payload.<field> or envelope.<field> (request), "
                              "item.<field> (pulled item).")
    transform = fields.Selection(rest_mapping.TRANSFORMS)
    map_type = fields.Selection(MAPPING_TYPES, string="Mapping type",
                                help="For the map transform: which mappings translate the value.")
    value_table = fields.Char(help="For the table transform: HIGH=critical; LOW=info; "
                              "*=warning (* = any other value).")
    required = fields.Boolean(default=True,
                              help="Unticked: a missing source leaves the target out.")

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        access.ensure_companies_allowed(self.env, lines.company_id, _("A REST field mapping"))
        return lines

    def write(self, vals):
        result = super().write(vals)
        if "endpoint_id" in vals:
            access.ensure_companies_allowed(self.env, self.company_id,
                                            _("A REST field mapping"))
        return result

    @api.constrains("target_path", "source_path", "transform", "map_type", "value_table")
    def _check_paths(self):
        for line in self:
            try:
                rest_mapping.split_path(line.target_path)
                rest_mapping.split_path(line.source_path)
            except rest_mapping.MappingError as exc:
                raise ValidationError(str(exc)) from None
            if line.transform == "map" and not line.map_type:
                raise ValidationError(_("The map transform needs a mapping type."))
            if line.transform == "table" and not line.value_table:
                raise ValidationError(_("The table transform needs a value table."))

    def _transform_spec(self):
        self.ensure_one()
        if self.transform == "map":
            return f"map:{self.map_type}"
        if self.transform == "table":
            return f"table:{self.value_table}"
        return self.transform or ""
