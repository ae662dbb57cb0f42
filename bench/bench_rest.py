#!/usr/bin/env python3
"""MES REST delivery benchmark (issue 5): confirmations per second pushed to the test MES
over HTTP with OAuth2 client credentials, the addon's way (token cached until shortly
before expiry, refreshed on 401) vs fetching a token for every request, in the same run;
plus the cost of rendering the declarative request template alone.

Uses the addon's own code (rest_mapping templates, core send_with_auth) against the test
MES on 127.0.0.1 (real HTTP, real JSON); no Odoo database is involved, so the figures
isolate mapping and wire cost from the message pipeline.
Usage: .venv/bin/python bench/bench_rest.py [--count 2000]
"""
import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import add_addon_paths, timed  # noqa: E402


class BenchConnector(SimpleNamespace):
    """Stands in for mfg.connector: the attributes the transport reads, secrets in plain."""

    def _mfg_secret(self, name):
        return getattr(self, name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    add_addon_paths()
    from odoo.addons.mfg_integration.services import transport
    from odoo.addons.mfg_integration_rest.services import rest_mapping
    from odoo.addons.mfg_integration_rest.tests.common import CONFIRMATION, TEMPLATE
    from odoo.addons.mfg_integration_rest.tests.mes_server import MesServer

    envelopes = [{"key": f"c{i}", "payload": dict(CONFIRMATION, qty_good=i)}
                 for i in range(args.count)]

    def render(envelope):
        context = {"payload": envelope["payload"], "envelope": envelope}
        path = rest_mapping.render_path("/orders/{order_ref}/confirmations", context)
        return path, json.dumps(rest_mapping.render_template(TEMPLATE, context))

    rates = {}
    rates["render"] = timed("render template + path only", args.count,
                          lambda: [render(e) for e in envelopes])
    with MesServer() as mes:
        connector = BenchConnector(
            auth_method="oauth2_cc", client_id="odoo", client_secret="s3cret",
            token_url=f"{mes.url}/oauth/token", timeout_s=10, verify_tls=True,
            api_key=None, username=None, password=None, code="BENCH", id=1,
            endpoint_url=f"{mes.url}/api", env=SimpleNamespace(cr=SimpleNamespace(dbname="bench")))

        def push(fresh_token):
            for envelope in envelopes:
                if fresh_token:
                    transport.forget_oauth2_token(connector)
                path, body = render(envelope)
                response = transport.send_with_auth(
                    connector, "POST", f"{mes.url}/api{path}", data=body,
                    headers={"Content-Type": "application/json",
                             "Idempotency-Key": envelope["key"] + str(fresh_token)})
                assert response.status_code == 201, response.text

        rates["fresh"] = timed("POST, new OAuth2 token per request", args.count,
                             lambda: push(True))
        transport.forget_oauth2_token(connector)
        tokens_before = mes.token_requests
        rates["cached"] = timed("POST, cached OAuth2 token (addon)", args.count,
                              lambda: push(False))
        print(f"token requests in the cached run: {mes.token_requests - tokens_before}")
    print(f"cached / new token per request = {rates['cached'] / rates['fresh']:.1f}x")


if __name__ == "__main__":
    main()
