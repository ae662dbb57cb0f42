# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..services import access

# mapping type -> (target field on mfg.mapping, how the resolved value is exposed)
MAPPING_TARGETS = {
    "product": "product_id",
    "work_center": "workcenter_id",
    "location": "location_id",
    "uom": "uom_id",
    "partner": "partner_id",
    "equipment": "equipment_id",
    "downtime_reason": "loss_id",
    "scrap_reason": "scrap_reason_tag_id",
    "quality_reason": "value",
}
MAPPING_TYPES = [
    ("product", "Product"),
    ("work_center", "Work center"),
    ("location", "Location"),
    ("uom", "Unit of measure"),
    ("partner", "Partner"),
    ("equipment", "Equipment"),
    ("scrap_reason", "Scrap reason code"),
    ("downtime_reason", "Downtime reason code"),
    ("quality_reason", "Quality reason code"),
]


class MfgMapping(models.Model):
    """Translation of one external code to an Odoo record or value, per plant.

    A mapping without connector applies to every connector of its plant; one with a
    connector overrides it for that system (SAP and the MES rarely agree on codes).
    """

    _name = "mfg.mapping"
    _description = "Integration Mapping"
    _inherit = ["mail.thread"]
    _order = "mapping_type, external_code"
    # Operators maintain mappings: connector and targets must belong to the mapping's plant.
    _check_company_auto = True

    mapping_type = fields.Selection(MAPPING_TYPES, required=True, tracking=True, index=True)
    external_code = fields.Char(required=True, tracking=True, index=True)
    external_label = fields.Char(help="Description in the external system.")
    connector_id = fields.Many2one("mfg.connector", tracking=True, ondelete="cascade",
                                   check_company=True,
                                   help="Empty: valid for all connectors of the plant.")
    company_id = fields.Many2one("res.company", string="Plant", required=True, tracking=True,
                                 default=lambda self: self.env.company)
    active = fields.Boolean(default=True, tracking=True)
    product_id = fields.Many2one("product.product", tracking=True, check_company=True)
    workcenter_id = fields.Many2one("mrp.workcenter", string="Work center", tracking=True,
                                    check_company=True)
    location_id = fields.Many2one("stock.location", tracking=True, check_company=True)
    uom_id = fields.Many2one("uom.uom", string="Unit of measure", tracking=True)
    partner_id = fields.Many2one("res.partner", tracking=True, check_company=True)
    equipment_id = fields.Many2one("maintenance.equipment", tracking=True, check_company=True)
    loss_id = fields.Many2one("mrp.workcenter.productivity.loss", string="Loss reason",
                              tracking=True)
    scrap_reason_tag_id = fields.Many2one("stock.scrap.reason.tag", string="Scrap reason",
                                          tracking=True)
    value = fields.Char("Odoo value", tracking=True,
                        help="For value maps without an Odoo record (e.g. quality reason codes).")
    target_display = fields.Char("Maps to", compute="_compute_target_display")

    _code_uniq = models.Constraint(
        "UNIQUE NULLS NOT DISTINCT (mapping_type, external_code, connector_id, company_id)",
        "This external code is already mapped for this plant and connector.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        mappings = super().create(vals_list)
        access.ensure_companies_allowed(self.env, mappings.company_id, _("A mapping"))
        return mappings

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals:
            # The record rule only saw the plant before the write.
            access.ensure_companies_allowed(self.env, self.company_id, _("A mapping"))
        return result

    @api.depends("mapping_type", *set(MAPPING_TARGETS.values()))
    def _compute_target_display(self):
        for mapping in self:
            field_name = MAPPING_TARGETS.get(mapping.mapping_type)
            target = mapping[field_name] if field_name else False
            mapping.target_display = (target.display_name if isinstance(target, models.BaseModel)
                                      else target) or False

    @api.depends("mapping_type", "external_code")
    def _compute_display_name(self):
        labels = dict(MAPPING_TYPES)
        for mapping in self:
            label = labels.get(mapping.mapping_type, "")
            mapping.display_name = f"{label}: {mapping.external_code}"

    @api.constrains("mapping_type", *set(MAPPING_TARGETS.values()))
    def _check_target(self):
        labels = dict(MAPPING_TYPES)
        for mapping in self:
            field_name = MAPPING_TARGETS[mapping.mapping_type]
            if not mapping[field_name]:
                raise ValidationError(_(
                    "Mapping %(code)s of type %(type)s needs a value in '%(field)s'.",
                    code=mapping.external_code, type=labels[mapping.mapping_type],
                    field=mapping._fields[field_name].string))

    @api.model
    def _lookup_cache(self):
        """Return lookup(connector_id, company_id, type, code) -> value or None.

        Memoizes within one job so a chunk of 500 messages costs a handful of queries.
        Connector-specific mappings win over plant-wide ones.
        """
        cache = {}
        Mapping = self.sudo().with_context(active_test=True)

        def lookup(connector_id, company_id, mapping_type, code):
            key = (connector_id, company_id, mapping_type, code)
            if key not in cache:
                candidates = Mapping.search([
                    ("mapping_type", "=", mapping_type), ("external_code", "=", code),
                    ("company_id", "=", company_id),
                    ("connector_id", "in", [connector_id, False])])
                best = candidates.sorted(lambda m: not m.connector_id)[:1]
                if not best:
                    cache[key] = None
                else:
                    value = best[MAPPING_TARGETS[mapping_type]]
                    cache[key] = value.id if isinstance(value, models.BaseModel) else value
            return cache[key]

        return lookup

    def action_reprocess_waiting(self):
        """Requeue the exception messages that were waiting for these codes (Operators)."""
        access.ensure_group(self.env, access.OPERATOR, _("requeue waiting messages"))
        Message = self.env["mfg.message"]
        waiting = Message.search([("state", "=", "exception"),
                                  ("company_id", "in", self.company_id.ids)])
        codes = {(m.mapping_type, m.external_code) for m in self}
        targets = waiting.filtered(lambda msg: any(
            (kind, code) in codes for kind, code, _field in (msg.missing_mappings or [])))
        if targets:
            targets.action_requeue()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": _("%s waiting message(s) requeued.", len(targets)),
                       "type": "success" if targets else "info"},
        }
