# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from ..services import rest_mapping
from .common import CONFIRMATION, RestTestCase


@tagged("post_install", "-at_install")
class TestMapping(RestTestCase):
    def test_preview_renders_the_request_for_a_sample(self):
        self.push.sample = json.dumps(CONFIRMATION)
        lines = self.push.preview.splitlines()
        self.assertEqual(lines[0], f"POST {self.server.url}/api/orders/MO-7/confirmations")
        body = json.loads("\n".join(lines[2:]))
        self.assertEqual(body["yield"], 40.0)
        self.assertEqual(body["workCenter"], "ASSY-1")
        self.assertEqual(body["note"], "ref SAMPLE-1")

    def test_preview_shows_errors_as_text(self):
        self.push.sample = json.dumps({"order_ref": "MO-7"})
        self.assertIn("Error: payload.work_center: no value at 'work_center'", self.push.preview)
        self.push.sample = "{broken"
        self.assertTrue(self.push.preview.startswith("Error:"))

    def test_preview_in_the_form_follows_the_edits(self):
        with Form(self.push) as form:
            form.sample = json.dumps(CONFIRMATION)
            form.body_template = ('{"qty": "{{ payload.qty_good | int }}", '
                                  '"u": "{{ payload.uom | lower }}"}')
            self.assertIn('"qty": 40', form.preview)
            self.assertIn('"u": "ea"', form.preview)

    def test_pull_preview_shows_the_envelopes_of_a_sample_page(self):
        self.pull.sample = json.dumps({"data": [{"id": 9, "machine": "M1", "alarm": "E9",
                                                 "level": "HIGH", "raised": "false",
                                                 "updated_at": "2026-11-23T09:00:00+01:00"}]})
        envelopes = json.loads(self.pull.preview)
        self.assertEqual(envelopes[0]["key"], "9:2026-11-23T09:00:00+01:00")
        self.assertEqual(envelopes[0]["occurred_at"], "2026-11-23T08:00:00Z")
        self.assertEqual(envelopes[0]["payload"], {"asset": "M1", "code": "E9",
                                                   "severity": "critical", "active": False})

    def test_field_list_with_mapping_transform(self):
        product = self.env["product.product"].create({"name": "Bracket", "default_code": "BRKT"})
        self.env["mfg.mapping"].create({"mapping_type": "product", "external_code": "MAT-4711",
                                        "product_id": product.id, "connector_id": self.mes.id})
        self.push.write({"body_mode": "fields", "field_map_ids": [
            (0, 0, {"target_path": "material.number", "source_path": "payload.product",
                    "transform": "map", "map_type": "product"}),
            (0, 0, {"target_path": "quantity", "source_path": "payload.qty_good",
                    "transform": "str"}),
            (0, 0, {"target_path": "comment", "source_path": "payload.comment",
                    "required": False}),
        ]})
        _url, body, _headers = self.push._build_request({
            "key": "k", "payload": dict(CONFIRMATION, product="BRKT")})
        self.assertEqual(body, {"material": {"number": "MAT-4711"}, "quantity": "40"})
        with self.assertRaisesRegex(rest_mapping.MappingError, "no mapping of MES-REST"):
            self.push._build_request({"key": "k", "payload": dict(CONFIRMATION, product="X")})

    def test_templates_never_evaluate_code(self):
        context = {"payload": {"a": 1}}
        with self.assertRaisesRegex(rest_mapping.MappingError, "invalid path"):
            rest_mapping.render_text("{{ __import__('os').getcwd() }}", context)
        with self.assertRaisesRegex(rest_mapping.MappingError, "unknown transform"):
            rest_mapping.render_text("{{ payload.a | eval }}", context)

    def test_path_values_are_url_encoded(self):
        path = rest_mapping.render_path("/orders/{order_ref}/x/{envelope.key}",
                                        {"payload": {"order_ref": "A/B 1"},
                                         "envelope": {"key": "k?1"}})
        self.assertEqual(path, "/orders/A%2FB%201/x/k%3F1")

    def test_invalid_configuration_is_refused_when_saved(self):
        with self.assertRaisesRegex(ValidationError, "not valid JSON"):
            self.push.body_template = '{"a": '
        with self.assertRaisesRegex(ValidationError, "HTTP status numbers"):
            self.push.success_codes = "2xx"
        with self.assertRaisesRegex(ValidationError, "invalid path"):
            self.push.field_map_ids = [(0, 0, {"target_path": "a b", "source_path": "payload.x"})]
