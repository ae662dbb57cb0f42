#!/usr/bin/env python3
"""SAP delivery benchmark (issue 5): confirmations per second to the SOAP and OData
simulators, batched (the addon's way) vs one call per confirmation, in the same run.

Uses the addon's own transport code (zeep client from the WSDL, OData client with CSRF
handshake) against the test simulators on 127.0.0.1 (real HTTP, real XML/JSON); no Odoo
database is involved, so the figures isolate the wire protocol cost:
  SOAP  single: BAPI_PRODORDCONF_CREATE_TT with 1 time ticket per call
  SOAP  batch : BAPI_PRODORDCONF_CREATE_TT with N time tickets per call
  OData single: POST ProdnOrdConf2 per confirmation
  OData batch : $batch with N changesets (one per confirmation) per request
Usage: .venv/bin/python bench/bench_sap.py [--count 2000] [--batch 50]
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import add_addon_paths, timed  # noqa: E402

CONFIRMATION = {"order_ref": "1000123", "work_center": "ASSY-1", "qty_good": 1,
                "qty_scrap": 0, "uom": "ST", "final": False}




def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    add_addon_paths()
    from odoo.addons.mfg_integration_sap.services import sap_bapi, sap_soap
    from odoo.addons.mfg_integration_sap.services.sap_odata import ODataClient
    from odoo.addons.mfg_integration_sap.tests.odata_server import CONF_SRV, ODataSimulator
    from odoo.addons.mfg_integration_sap.tests.sap_backend import SapBackend
    from odoo.addons.mfg_integration_sap.tests.soap_server import SoapSimulator

    backend = SapBackend()
    backend.add_order("1000123", qty=10 ** 9)
    tickets = {prefix: [sap_bapi.confirmation_timeticket(CONFIRMATION, f"{prefix}-{i}")
                        for i in range(args.count)]
               for prefix in ("soap1", "soapN", "odata1", "odataN")}
    chunks = lambda rows: [rows[i:i + args.batch] for i in range(0, len(rows), args.batch)]  # noqa: E731
    rates = {}
    with SoapSimulator(backend) as soap, ODataSimulator(backend) as odata:
        service, _client = sap_soap.build_client("bench", wsdl_url=soap.wsdl_url,
                                                 username="SOAP_USER", password="secret")

        def soap_send(rows):
            result = sap_soap.call(service, "BAPI_PRODORDCONF_CREATE_TT", POST_WRONG_ENTRIES="1",
                                   TIMETICKETS=sap_soap.table(rows))
            assert len(result["DETAIL_RETURN"]) == len(rows), result

        client = ODataClient(odata.url, CONF_SRV, auth=("ODATA_USER", "secret"))
        bodies = {k: [sap_bapi.confirmation_odata(t) for t in v] for k, v in tickets.items()}

        def odata_single():
            for body in bodies["odata1"]:
                client.create("ProdnOrdConf2", body)

        def odata_batch():
            for chunk in chunks(bodies["odataN"]):
                answers = client.batch_create("ProdnOrdConf2", chunk)
                assert all(status == 201 for status, _body in answers), answers[:2]

        print(f"{args.count} confirmations, batch size {args.batch}, simulators on 127.0.0.1")
        rates["soap1"] = timed("SOAP, one call per confirmation", args.count,
                             lambda: [soap_send([t]) for t in tickets["soap1"]])
        rates["soapN"] = timed(f"SOAP, {args.batch} time tickets per call", args.count,
                             lambda: [soap_send(c) for c in chunks(tickets["soapN"])])
        rates["odata1"] = timed("OData, one POST per confirmation", args.count, odata_single)
        rates["odataN"] = timed(f"OData, $batch of {args.batch} changesets", args.count,
                              odata_batch)
    posted = len(backend.confirmations)
    print(f"SOAP  batched / single: {rates['soapN'] / rates['soap1']:.1f}x")
    print(f"OData batched / single: {rates['odataN'] / rates['odata1']:.1f}x")
    print(f"confirmations stored by the simulated SAP: {posted} (expected {4 * args.count})")
    return 0 if posted == 4 * args.count else 1


if __name__ == "__main__":
    sys.exit(main())
