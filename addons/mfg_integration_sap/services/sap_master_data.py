"""SAP material master (MATMAS) as canonical ``material.master`` (v2) envelopes, for a
connector with an inbound flow of that type: products are then created and updated by the
MRP addon's handler, with the flow's field ownership, like any other owner's materials."""
import hashlib
import json

from .sap_bapi import plain_number

# SAP material types (MTART) of the standard -> B2MML-style material types.
MATERIAL_TYPES = {"FERT": "Finished", "HALB": "SemiFinished", "ROH": "Raw",
                  "VERP": "Packaging", "HIBE": "Consumable", "DIEN": "Service"}


def material_envelopes(connector, materials, occurred_at):
    """MATMAS materials (services/sap_idoc.matmas_materials) -> envelopes. The key is the
    material and a digest of what SAP sent: the same IDoc twice is a duplicate, a change
    is a new message."""
    envelopes = []
    for material in materials:
        payload = {
            "id": material["material"],
            "description": material["description"] or material["material"],
            "base_unit": {"unit_text": material["base_uom"]},
            "material_type": MATERIAL_TYPES.get(material["material_type"], "Other"),
            "deleted": material["deleted"],
            "extensions": {"sap_material_type": material["material_type"],
                           "plants": material["plants"]},
        }
        digest = hashlib.sha1(json.dumps(payload, sort_keys=True).encode(),
                              usedforsecurity=False).hexdigest()[:16]
        envelopes.append({"key": f"MATMAS/{material['material']}/{digest}",
                          "type": "material.master", "schema_version": 2, "verb": "Sync",
                          "source": connector.code, "occurred_at": occurred_at,
                          "payload": payload})
    return envelopes


def bom_envelopes(connector, boms, occurred_at):
    """MaterialBOM entities (API_BILL_OF_MATERIAL_SRV, with their items) -> material.bom
    envelopes; returns (envelopes, skipped). Stock items (category L) are components; text
    and other item categories are not material Odoo consumes. The revision is SAP's BoM
    version, or a digest of the content for unversioned BoMs, so a change in SAP becomes a
    new revision in Odoo and an unchanged BoM is a duplicate."""
    envelopes, skipped = [], 0
    for bom in boms:
        items = bom.get("to_BillOfMaterialItem") or {}
        items = items.get("results", []) if isinstance(items, dict) else items
        components = [{
            "material_definition_id": {"value": plain_number(item["BillOfMaterialComponent"])},
            "quantity": {"value": float(item["BillOfMaterialItemQuantity"]),
                         "unit_text": item["BillOfMaterialItemUnit"]},
            **({"scrap_percent": float(item["ComponentScrapInPercent"])}
               if item.get("ComponentScrapInPercent") else {}),
        } for item in items
            if item.get("BillOfMaterialItemCategory", "L") == "L" and not item.get("IsDeleted")]
        if bom.get("IsMarkedForDeletion") or not components:
            skipped += 1
            continue
        payload = {
            "id": f"{bom['BillOfMaterial']}-{bom['BillOfMaterialVariant']}",
            "material_definition_id": {"value": plain_number(bom["Material"])},
            "quantity": {"value": float(bom.get("BOMHeaderQuantityInBaseUnit") or 1),
                         "unit_text": bom.get("BOMHeaderBaseUnit") or "ST"},
            "components": components,
            "extensions": {"sap_plant": bom.get("Plant"),
                           "sap_usage": bom.get("BillOfMaterialVariantUsage")},
        }
        digest = hashlib.sha1(json.dumps(payload, sort_keys=True).encode(),
                              usedforsecurity=False).hexdigest()[:8]
        payload["revision"] = bom.get("BillOfMaterialVersion") or digest
        envelopes.append({"key": f"BOM/{payload['id']}/{payload['revision']}",
                          "type": "material.bom", "schema_version": 2, "verb": "Sync",
                          "source": connector.code, "occurred_at": occurred_at,
                          "payload": payload})
    return envelopes, skipped
