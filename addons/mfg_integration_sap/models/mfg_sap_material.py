# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.mfg_integration.services import access

from ..services import sap_master_data
from ..services.sap_bapi import plain_number

PRODUCT_ENTITY = "A_Product"
# What a non-manager may change on a material: its Odoo product (which is the operator's
# job); the rest comes from SAP only.
OPERATOR_FIELDS = {"product_id"}


class MfgSapMaterial(models.Model):
    """SAP material master (MATMAS) as received, and the product mapping made from it.

    A material whose number matches a product's internal reference gets a product
    mapping for its connector at once; the others stay here as `unmatched` for a person
    to pick the product (or create it), so nothing SAP sent is silently dropped.
    """

    _name = "mfg.sap.material"
    _description = "SAP Material"
    _order = "state desc, material"
    _rec_name = "material"
    _check_company_auto = True

    connector_id = fields.Many2one("mfg.connector", required=True, ondelete="cascade",
                                   index=True, check_company=True)
    company_id = fields.Many2one(related="connector_id.company_id", store=True, string="Plant")
    material = fields.Char("Material number", required=True, index=True)
    description = fields.Char()
    base_uom = fields.Char("Base unit")
    material_type = fields.Char()
    sap_deleted = fields.Boolean("Flagged for deletion in SAP")
    product_id = fields.Many2one("product.product", string="Odoo product",
                                 domain="[('company_id', 'in', (False, company_id))]",
                                 check_company=True)
    mapping_id = fields.Many2one("mfg.mapping", readonly=True, ondelete="set null",
                                 check_company=True)
    state = fields.Selection([("unmatched", "No product"), ("mapped", "Mapped")],
                             compute="_compute_state", store=True, index=True)
    last_received_at = fields.Datetime(readonly=True)

    _material_uniq = models.Constraint("UNIQUE(connector_id, material)",
                                       "A material is listed once per connector.")

    @api.depends("mapping_id")
    def _compute_state(self):
        for material in self:
            material.state = "mapped" if material.mapping_id else "unmatched"

    # ------------------------------------------------------------------ sync
    @api.model
    def _sync(self, connector, materials):
        """Upsert materials of ``connector``; map those whose number is a product's
        internal reference (also with SAP's leading zeros). Returns a summary text."""
        existing = {m.material: m for m in self.search([("connector_id", "=", connector.id)])}
        numbers = [m["material"] for m in materials]
        products = self.env["product.product"].with_context(active_test=False).search([
            ("default_code", "in", numbers + [n.zfill(18) for n in numbers if n.isdigit()]),
            ("company_id", "in", (False, connector.company_id.id))])
        by_code = {}
        for product in products:
            by_code.setdefault(plain_number(product.default_code), []).append(product)
        # Two products with the same internal reference: a person decides, not the sync.
        by_code = {code: found[0] for code, found in by_code.items() if len(found) == 1}
        now = fields.Datetime.now()
        created = updated = 0
        for data in materials:
            values = {"description": data["description"], "base_uom": data["base_uom"],
                      "material_type": data["material_type"], "sap_deleted": data["deleted"],
                      "last_received_at": now}
            record = existing.get(data["material"])
            if record:
                record.write(values)
                updated += 1
            else:
                record = self.create(dict(values, connector_id=connector.id,
                                          material=data["material"]))
                existing[data["material"]] = record
                created += 1
            if not record.product_id and data["material"] in by_code:
                record.product_id = by_code[data["material"]]
            record._ensure_mapping()
        records = self.browse([existing[n].id for n in numbers])
        unmatched = records.filtered(lambda m: m.state == "unmatched")
        summary = _("%(n)s material(s): %(created)s new, %(updated)s updated, %(mapped)s mapped, "
                    "%(unmatched)s without product", n=len(materials), created=created,
                    updated=updated, mapped=len(records) - len(unmatched),
                    unmatched=len(unmatched))
        if unmatched:
            summary += _(" (%s)", ", ".join(unmatched[:20].mapped("material")))
        return summary

    def _ensure_mapping(self):
        """Create or repoint the product mapping of each material that has a product."""
        Mapping = self.env["mfg.mapping"].sudo().with_context(active_test=False)
        for material in self.filtered("product_id"):
            mapping = material.mapping_id or Mapping.search([
                ("mapping_type", "=", "product"), ("external_code", "=", material.material),
                ("connector_id", "=", material.connector_id.id),
                ("company_id", "=", material.company_id.id)], limit=1)
            values = {"product_id": material.product_id.id, "external_label": material.description,
                      "active": not material.sap_deleted}
            if mapping:
                mapping.write(values)
            else:
                mapping = Mapping.create(dict(values, mapping_type="product",
                                              external_code=material.material,
                                              connector_id=material.connector_id.id,
                                              company_id=material.company_id.id))
            material.sudo().mapping_id = mapping

    @api.model_create_multi
    def create(self, vals_list):
        materials = super().create(vals_list)
        materials.filtered("product_id")._ensure_mapping()
        return materials

    def write(self, vals):
        if not self.env.su and not self.env.user.has_group(access.MANAGER):
            forbidden = set(vals) - OPERATOR_FIELDS
            if forbidden:
                raise AccessError(_("Only Integration Managers can change %s of a SAP "
                                    "material; it comes from SAP.", ", ".join(sorted(forbidden))))
        result = super().write(vals)
        if "product_id" in vals:
            self._ensure_mapping()
        return result

    def action_map(self):
        """Create or repoint the product mappings (Integration Operators; the mappings are
        written as superuser once the materials were read with the user's rights)."""
        access.ensure_group(self.env, access.OPERATOR, _("map SAP materials"))
        self.check_access("read")
        if self.filtered(lambda m: not m.product_id):
            raise UserError(_("Choose the Odoo product of each material first."))
        self._ensure_mapping()
        return True

    @api.model
    def _pull_from_odata(self, connector):
        """Material master from API_PRODUCT_SRV (A_Product with its descriptions)."""
        if connector.connector_type != "sap_odata":
            raise UserError(_("Materials are pulled over OData; RFC/SOAP systems push MATMAS "
                              "IDocs to /mfg/sap/idoc/%s.", connector.code))
        client = connector._sap_odata(connector.sap_odata_product_service)
        materials = []
        language = (connector.sap_language or "EN").upper()
        for rows in client.iter_pages(PRODUCT_ENTITY, expand="to_Description"):
            for row in rows:
                descriptions = (row.get("to_Description") or {})
                descriptions = descriptions.get("results", descriptions) \
                    if isinstance(descriptions, dict) else descriptions
                text = next((d.get("ProductDescription") for d in descriptions or []
                             if (d.get("Language") or "").upper() in (language, language[:1])), "")
                if not row.get("Product"):
                    raise UserError(_("SAP sent a product without its number: %s", str(row)[:200]))
                materials.append({
                    "material": plain_number(row["Product"]), "description": text or "",
                    "base_uom": row.get("BaseUnit") or "", "material_type":
                    row.get("ProductType") or "", "deleted": bool(row.get("IsMarkedForDeletion")),
                    "plants": [],
                })
        summary = self._sync(connector, materials)
        result = self._ingest_material_master(connector, materials)
        if result:
            summary += _("; material master: %(accepted)s new, %(duplicates)s unchanged",
                         accepted=result["accepted"], duplicates=result["duplicates"])
        return summary

    @api.model
    def _ingest_material_master(self, connector, materials):
        """With an inbound material.master flow on the connector, the materials also go in
        as canonical material.master messages (products created/updated by their handler);
        returns the ingest answer, or None without such a flow."""
        if not self.env["mfg.flow"].sudo().search_count([
                ("connector_id", "=", connector.id), ("direction", "=", "in"),
                ("canonical_type", "=", "material.master")]):
            return None
        now = fields.Datetime.now().isoformat(timespec="seconds") + "+00:00"
        # As the caller: the IDoc's API user, whose ingest rights were checked.
        return self.env["mfg.message"].ingest(
            sap_master_data.material_envelopes(connector, materials, now))
