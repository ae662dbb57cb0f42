# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the addon sends and reads, checked against SAP's published interface definitions.

Each test pins one mismatch the addon once had (issue 13 of the project) against the strict
simulators: they refuse what SAP refuses (tests/sap_metadata/), so the old shapes fail here.
"""
import json
from datetime import datetime

import requests

from odoo.tests import tagged

from ..services import sap_rfc
from ..services.sap_errors import SapBusinessError
from .common import CONFIRMATION, CONSUMPTION, SapTestCase
from .odata_server import CONF_SRV, ORDER_SRV, ODataSimulator


@tagged("post_install", "-at_install")
class TestPublishedOData(SapTestCase):
    def setUp(self):
        super().setUp()
        self.server = ODataSimulator(self.backend).__enter__()
        self.addCleanup(self.server.__exit__)
        self.odata.endpoint_url = self.server.url
        self.flow = self.odata.flow_ids.filtered(lambda f: f.direction == "in")

    def raw(self, method, path, body=None, **params):
        session = requests.Session()
        session.auth = ("ODATA_USER", "secret")
        token = session.get(self.server.url + ORDER_SRV + "/",
                            headers={"x-csrf-token": "fetch"}).headers.get("x-csrf-token")
        return session.request(method, self.server.url + path, params=params,
                               data=json.dumps(body) if body is not None else None,
                               headers={"x-csrf-token": token or "",
                                        "Content-Type": "application/json",
                                        "Accept": "application/json"})

    def test_order_quantity_and_planned_times_are_read_as_published(self):
        self.odata.sap_timezone = "Europe/Berlin"
        self.backend.orders["1000123"].update(TotalQuantity="75", start=datetime(
            2026, 11, 24, 6, 30), end=datetime(2026, 11, 25, 14, 0))
        self.flow._sap_pull_orders()
        message = self.message("SAP-PRD:1000123:20261123T080000Z", source="SAP-ODATA")
        self.assertEqual(message.payload["qty"], 75.0, "TotalQuantity, not MfgOrderPlannedTotalQty")
        self.assertEqual(message.payload["date_start"], "2026-11-24T05:30:00+00:00",
                         "Edm.DateTime date + Edm.Time, local time of the plant (CET)")
        self.assertEqual(message.payload["date_end"], "2026-11-25T13:00:00+00:00")

    def test_change_stamp_is_a_14_digit_string_in_filter_and_checkpoint(self):
        self.backend.orders["1000124"]["LastChangeDateTime"] = self.changed(9, 15)
        self.flow._sap_pull_orders()
        self.assertEqual(self.flow.sap_checkpoint, datetime(2026, 11, 23, 9, 15))
        self.flow._sap_pull_orders()
        self.assertIn("LastChangeDateTime ge '20261123091500'", self.server.requests[-1][2][
            "$filter"])
        refused = self.raw("GET", ORDER_SRV + "/A_ProductionOrder_2", **{
            "$filter": "LastChangeDateTime ge datetimeoffset'2026-11-23T08:00:00Z'"})
        self.assertEqual(refused.status_code, 400, "Gateway refuses the old literal")

    def test_gateway_refuses_unknown_properties_and_wrong_types(self):
        answer = self.raw("POST", CONF_SRV + "/ProdnOrdConf2", {
            "OrderID": "1000123", "MfgOrderPlannedTotalQty": "1",
            "ConfirmationYieldQuantity": 40})
        self.assertEqual(answer.status_code, 400)
        text = answer.json()["error"]["message"]["value"]
        self.assertIn("'MfgOrderPlannedTotalQty' is invalid", text)
        self.assertIn("Edm.Decimal as a JSON string", text)
        self.assertFalse(self.backend.confirmations)

    def test_order_update_sends_total_quantity_and_local_date_time(self):
        self.odata.sap_timezone = "Europe/Berlin"
        payload = {"order_ref": "1000123", "product": "SB-200", "qty": 90, "uom": "ST",
                   "action": "update", "date_start": "2026-11-26T05:00:00+00:00"}
        message = self.send(self.odata, "production.order", payload, "OU-PUB")
        self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        order = self.backend.orders["1000123"]
        self.assertEqual(order["TotalQuantity"], "90.000")
        self.assertEqual(order["start"], datetime(2026, 11, 26, 6, 0), "06:00 in the plant")

    def test_confirmation_body_final_type_posting_date_and_goods_switch(self):
        partial = self.send(self.odata, "production.confirmation", CONFIRMATION, "OC-P")
        final = self.send(self.odata, "production.confirmation", dict(CONFIRMATION, final=True),
                          "OC-F", minute=5)
        self.run_jobs()
        self.assertEqual((partial.state, final.state), ("done", "done"),
                         (partial.last_error, final.last_error))
        sent = {c["CONF_TEXT"]: c for c in self.backend.confirmations}
        self.assertEqual(sent["OC-P"]["FIN_CONF"], " ", "' ' is a partial confirmation")
        self.assertEqual(sent["OC-F"]["FIN_CONF"], "X")
        self.assertEqual(sent["OC-P"]["POSTG_DATE"], "20261123")

    def test_batch_answers_are_json_because_each_part_asks_for_it(self):
        self.batched(self.odata)
        messages = [self.send(self.odata, "production.confirmation", CONFIRMATION, f"OB-A{i}")
                    for i in range(3)]
        self.run_batch()
        self.assertEqual([m.state for m in messages], ["done"] * 3,
                         [m.last_error for m in messages])
        self.assertEqual(len(self.backend.confirmations), 3)


@tagged("post_install", "-at_install")
class TestPublishedRfc(SapTestCase):
    def session(self):
        return sap_rfc.RfcSession(self.fake_rfc, {"user": "RFC_USER", "passwd": "secret"})

    def test_wrong_parameter_is_a_configuration_error_not_a_retry(self):
        with self.assertRaises(SapBusinessError) as caught:
            self.session().call("BAPI_PRODORD_GET_LIST", PRODUCTION_PLANT_RANGE=[], MAX_ROWS=5)
        self.assertIn("parameter 'PRODUCTION_PLANT_RANGE' not found", str(caught.exception))
        with self.assertRaises(SapBusinessError):
            self.session().call("BAPI_PRODORDCONF_CREATE_TT", TIMETICKETS=[
                {"ORDERID": "1000123", "CONF_TEXT": "x" * 41}])

    def test_pull_uses_the_published_range_and_local_basic_dates(self):
        self.rfc.sap_timezone = "America/Chicago"
        flow = self.rfc.flow_ids.filtered(lambda f: f.direction == "in")
        self.assertIn("3 new message(s)", flow._sap_pull_orders())
        self.assertFalse(self.fake_rfc.refused)
        message = self.Message.search([("source", "=", "SAP-RFC")], limit=1)
        self.assertEqual(message.payload["date_start"], "2026-11-24T12:00:00+00:00",
                         "06:00 in Chicago")

    def test_partial_and_final_confirmation_and_posting_date_in_plant_time(self):
        self.rfc.sap_timezone = "Europe/Berlin"
        late = self.Message.create_outbound(self.rfc, "production.confirmation", CONFIRMATION,
                                            "CONF-LATE", occurred_at=datetime(2026, 11, 23, 23, 30))
        final = self.send(self.rfc, "production.confirmation", dict(CONFIRMATION, final=True),
                          "CONF-FINAL")
        self.run_jobs()
        self.assertEqual((late.state, final.state), ("done", "done"), late.last_error)
        sent = {c["CONF_TEXT"]: c for c in self.backend.confirmations}
        self.assertEqual(sent["CONF-LATE"]["FIN_CONF"], " ")
        self.assertEqual(sent["CONF-LATE"]["POSTG_DATE"], "20261124",
                         "23:30 UTC is already the 24th in the plant")
        self.assertEqual(sent["CONF-FINAL"]["FIN_CONF"], "X")

    def test_bad_rows_are_neither_posted_nor_parked_in_the_error_pool(self):
        self.batched(self.rfc)
        good = self.send(self.rfc, "production.confirmation", CONFIRMATION, "CONF-G")
        bad = self.send(self.rfc, "production.confirmation", dict(CONFIRMATION, uom="PCE"),
                        "CONF-U")
        self.run_batch()
        self.assertEqual((good.state, bad.state), ("done", "exception"), good.last_error)
        self.assertIn("Unit PCE is not defined", bad.last_error)
        self.assertFalse(self.backend.error_pool, "POST_WRONG_ENTRIES ' ': nothing in COGI")
        self.backend.reprocess_error_pool()
        self.assertEqual(len(self.backend.confirmations), 1)

    def test_a_row_answered_with_conf_no_zero_is_not_done(self):
        original = self.backend.confirm

        def confirm_nothing(*args, **kwargs):
            overall, details, _postings = original(*args, **kwargs)
            for detail in details:
                detail["CONF_NO"] = "0000000000"
            return overall, details, []

        self.backend.confirm = confirm_nothing
        message = self.send(self.rfc, "production.confirmation", CONFIRMATION, "CONF-ZERO")
        self.run_jobs()
        self.assertEqual(message.state, "failed", message.result_summary)
        self.assertIn("was not posted", message.last_error)

    def test_batch_material_and_unit_as_rfc_needs_them(self):
        long_material = "BRACKET-STEEL-SB200-L"
        issue = self.send(self.rfc, "material.consumption",
                          dict(CONSUMPTION, lot="lot-7a"), "GI-LOT")
        long_one = self.send(self.rfc, "material.consumption",
                             dict(CONSUMPTION, product=long_material), "GI-LONG")
        too_long = self.send(self.rfc, "material.consumption",
                             dict(CONSUMPTION, lot="LOT-2026-11-23"), "GI-LOT11")
        self.run_jobs()
        self.assertEqual((issue.state, long_one.state), ("done", "done"),
                         (issue.last_error, long_one.last_error))
        items = {d["header_txt"]: d["items"][0] for d in self.backend.material_documents}
        self.assertEqual(items["GI-LOT"]["BATCH"], "LOT-7A")
        self.assertEqual(items["GI-LONG"]["MATERIAL_LONG"], long_material)
        self.assertNotIn("MATERIAL", items["GI-LONG"])
        self.assertEqual(too_long.state, "exception")
        self.assertIn("10-character batch", too_long.last_error)

    def test_a_hostile_row_never_blocks_its_batch(self):
        """pyrfc refuses a whole call for one value that does not fit its field: such rows are
        refused on their own, before the call, and the rest of the batch goes through."""
        self.batched(self.rfc)
        hostile = [dict(CONFIRMATION, qty_good=1e12), dict(CONFIRMATION, qty_scrap=float("nan")),
                   dict(CONFIRMATION, operation="ASSEMBLY-STEP-1"),
                   dict(CONFIRMATION, order_ref="1000123-EXTRA-LONG"),
                   dict(CONFIRMATION, qty_good="forty")]
        good = [self.send(self.rfc, "production.confirmation", CONFIRMATION, f"CONF-OK{i}")
                for i in range(2)]
        bad = [self.Message.create_outbound(self.rfc, "production.confirmation", payload,
                                            f"CONF-H{i}")
               for i, payload in enumerate(hostile)]
        self.run_batch()
        self.assertEqual([m.state for m in good], ["done", "done"],
                         [m.last_error for m in good])
        self.assertFalse(self.fake_rfc.refused, "no call was refused as a whole")
        for message in bad:
            self.assertEqual(message.state, "exception", message.key)
            self.assertTrue(message.last_error, message.key)
        self.assertIn("payload.qty_scrap: not a finite number", bad[1].last_error,
                      "NaN is kept (as null) with its reason, not lost")
        self.assertEqual(len(self.backend.confirmations), 2)
