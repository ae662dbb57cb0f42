"""SAP material master (MATMAS) as canonical ``material.master`` (v2) envelopes, for a
connector with an inbound flow of that type: products are then created and updated by the
MRP addon's handler, with the flow's field ownership, like any other owner's materials."""
import hashlib
import json

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
