"""Master data types, born in v2: materials, BoM revisions, work centers."""
import pytest
from mfg_canonical import EnvelopeError, validate_envelope


def envelope(type_name, payload):
    return {"key": "k-1", "type": type_name, "schema_version": 2, "verb": "Sync",
            "source": "PLM-1", "occurred_at": "2026-11-23T08:00:00+00:00", "payload": payload}


def test_a_material_needs_its_unit_as_rec20_code_or_the_senders_text():
    material = {"id": "40000815", "description": "Bolt", "base_unit": {"unit_text": "ST"},
                "tracking": "Lot", "gross_weight": {"value": 12, "unit_code": "GRM"}}
    validate_envelope(envelope("material.master", material))
    with pytest.raises(EnvelopeError, match="base_unit"):
        validate_envelope(envelope("material.master", dict(material, base_unit={})))
    with pytest.raises(EnvelopeError, match="tracking"):
        validate_envelope(envelope("material.master", dict(material, tracking="Batch")))


def test_a_bom_revision_has_components_and_operations_on_work_centers():
    bom = {"id": "BOM-1", "revision": "B", "material_definition_id": {"value": "SB-200"},
           "quantity": {"value": 1, "unit_code": "C62"},
           "components": [{"material_definition_id": {"value": "40000815"},
                           "quantity": {"value": 2, "unit_code": "C62"}, "operation_id": "0010"}],
           "operations": [{"id": "0010", "work_center_id": {"value": "ASSY-1"},
                           "duration": "PT90S"}]}
    validate_envelope(envelope("material.bom", bom))
    with pytest.raises(EnvelopeError, match="components"):
        validate_envelope(envelope("material.bom", dict(bom, components=[])))
    with pytest.raises(EnvelopeError, match="duration"):
        bad = dict(bom, operations=[dict(bom["operations"][0], duration="90s")])
        validate_envelope(envelope("material.bom", bad))
    center = {"id": "ASSY-1", "description": "Assembly",
              "cost_per_hour": {"value": 80, "currency": "eur"}}
    with pytest.raises(EnvelopeError, match="currency"):
        validate_envelope(envelope("equipment.work_center", center))
