"""quality.result v1 -> v2: one TestResult (the characteristic, its value, pass/fail),
evaluated when the v1 event occurred."""
from ._common import extensions, to_v2

TYPE = "quality.result"
KNOWN = {"characteristic", "result", "order_ref", "lot", "value", "reason_code"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    result = {"id": envelope["key"][:200], "characteristic": old["characteristic"],
              "value": old.get("value"), "result": old["result"],
              "evaluated_at": envelope["occurred_at"], "reason_code": old.get("reason_code")}
    payload = {"lot_id": old.get("lot"), "operations_request_id": old.get("order_ref"),
               "test_results": [result], "extensions": extensions(old, KNOWN)}
    return to_v2(envelope, payload, verb="Notify")
