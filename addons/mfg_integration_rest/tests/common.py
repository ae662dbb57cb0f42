# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""REST fixtures: an MES connector with OAuth2 client credentials, an outbound
confirmation flow with a templated endpoint, an inbound alarm pull, and the MES itself."""
from datetime import datetime
from urllib.parse import urlsplit

from odoo.tests.common import _super_send

from odoo.addons.mfg_integration.tests.common import MfgTestCase

from .mes_server import MesServer

CONFIRMATION = {"order_ref": "MO-7", "work_center": "assy-1", "qty_good": 40, "qty_scrap": 2,
                "uom": "EA", "final": False}
TEMPLATE = ('{"orderId": "{{ payload.order_ref }}", "workCenter": "{{ payload.work_center | '
            'upper }}", "yield": "{{ payload.qty_good | float }}", "scrap": "{{ payload.qty_scrap'
            ' }}", "final": "{{ payload.final }}", "note": "ref {{ envelope.key }}", '
            '"shift": "{{ payload.shift | optional }}"}')


class RestTestCase(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mes = cls.env["mfg.connector"].create({
            "name": "MES REST", "code": "MES-REST", "connector_type": "mes_rest",
            "auth_method": "oauth2_cc", "client_id": "odoo", "client_secret": "s3cret",
            "endpoint_url": "http://127.0.0.1:9/api", "token_url": "http://127.0.0.1:9/oauth/token",
            "timeout_s": 0.5,
        })
        cls.flow_out = cls._flow("production.confirmation", connector=cls.mes, direction="out",
                                 ordering_key_field="order_ref", max_attempts=3,
                                 backoff_base_s=10, backoff_factor=2, source_of_truth="odoo")
        cls.push = cls.env["mfg.rest.endpoint"].create({
            "name": "Confirmations", "flow_id": cls.flow_out.id, "http_method": "POST",
            "path_template": "/orders/{order_ref}/confirmations", "body_mode": "template",
            "body_template": TEMPLATE, "success_codes": "201", "response_ref_path": "id",
        })
        cls.flow_in = cls._flow("machine.alarm", connector=cls.mes, sync_mode="scheduled",
                                schedule_interval_min=15)
        cls.pull = cls.env["mfg.rest.endpoint"].create({
            "name": "Alarms", "flow_id": cls.flow_in.id, "pull_path": "/alarms",
            "pagination": "page", "page_size": 2, "items_path": "data",
            "since_param": "updated_since", "since_field": "updated_at",
            "key_template": "{{ item.id }}:{{ item.updated_at }}",
            "occurred_at_path": "updated_at",
            "field_map_ids": [
                (0, 0, {"kind": "item", "target_path": "asset", "source_path": "item.machine"}),
                (0, 0, {"kind": "item", "target_path": "code", "source_path": "item.alarm"}),
                (0, 0, {"kind": "item", "target_path": "severity", "source_path": "item.level",
                        "transform": "table", "value_table": "HIGH=critical; LOW=info"}),
                (0, 0, {"kind": "item", "target_path": "active", "source_path": "item.raised",
                        "transform": "bool"}),
            ],
        })

    @classmethod
    def _request_handler(cls, session, prepared, /, **kwargs):
        # Odoo's test harness raises timeouts below 10 s to 10 s; the MES runs on
        # 127.0.0.1 and the timeout test needs the connector's own short timeout.
        if urlsplit(prepared.url).hostname == "127.0.0.1":
            return _super_send(session, prepared, **kwargs)
        return super()._request_handler(session, prepared, **kwargs)

    def setUp(self):
        super().setUp()
        self.server = MesServer()
        self.server.__enter__()
        self.addCleanup(self.server.__exit__)
        self.mes.write({"endpoint_url": f"{self.server.url}/api",
                        "token_url": f"{self.server.url}/oauth/token"})

    def send(self, key, payload=None, minute=0, **changes):
        payload = dict(payload or CONFIRMATION, **changes)
        return self.Message.create_outbound(self.mes, "production.confirmation", payload, key,
                                            occurred_at=datetime(2026, 11, 23, 8, minute))
