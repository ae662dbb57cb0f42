"""An in-memory SAP for the tests and the benchmark: orders, confirmations, material
documents, locks - and the RFC face of it (a pyrfc-compatible ``Connection``).

The business rules are the ones the addon relies on: BAPIRET2/BAPI_CORU_RETURN rows with
SAP's message classes, POST_WRONG_ENTRIES = '1' posting the good rows of a batch,
postings that only count after BAPI_TRANSACTION_COMMIT (RFC), and idempotency on the
external reference (CONF_TEXT per order, HEADER_TXT of a material document).
No Odoo import: the benchmark uses it as well.
"""
import threading
from datetime import datetime, timezone


def ret(type_, id_, number, message, **extra):
    row = {"TYPE": type_, "ID": id_, "NUMBER": number, "MESSAGE": message,
           "MESSAGE_V1": "", "MESSAGE_V2": "", "MESSAGE_V3": "", "MESSAGE_V4": ""}
    row.update(extra)
    return row


class SapBackend:
    def __init__(self):
        self.lock = threading.RLock()
        self.orders = {}            # "1000123" -> dict (OData field names)
        self.confirmations = {}     # (order, CONF_TEXT) -> (conf_no, conf_cnt)
        self.material_documents = {}  # HEADER_TXT -> (number, year, items)
        self.locked = {}            # order -> how many more calls find it locked
        self.products = []          # A_Product entities
        self.calls = []             # (function, rows) log
        self.next_conf = 5000
        self.next_doc = 4900000000

    # ---------------------------------------------------------------- orders
    def add_order(self, number, material="SB-200", qty=100.0, unit="ST", plant="1010",
                  changed=None, released=True, deleted=False):
        changed = changed or datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
        self.orders[number] = {
            "ManufacturingOrder": number, "Material": material, "ProductionPlant": plant,
            "MfgOrderPlannedTotalQty": str(qty), "ProductionUnit": unit,
            "MfgOrderPlannedStartDate": "/Date(1795507200000)/",
            "MfgOrderPlannedEndDate": "/Date(1795593600000)/",
            "LastChangeDateTime": changed, "OrderIsReleased": released,
            "OrderIsMarkedForDeletion": deleted, "etag_version": 1,
        }
        return self.orders[number]

    def _order_check(self, order, rows):
        """Return an error row for an unknown or locked order, else None."""
        number = order.lstrip("0")
        if number not in self.orders:
            return ret("E", "CO", "003", f"Order {number} does not exist", **rows)
        if self.locked.get(number, 0) > 0:
            self.locked[number] -= 1
            return ret("E", "CO", "469", f"Order {number} is currently being processed by "
                       "PLANNER01", FLG_LOCKED="X", **rows)
        return None

    # --------------------------------------------------------- confirmations
    def confirm(self, tickets, post_wrong_entries="0"):
        """BAPI_PRODORDCONF_CREATE_TT: returns (RETURN, DETAIL_RETURN, postings)."""
        with self.lock:
            self.calls.append(("BAPI_PRODORDCONF_CREATE_TT", len(tickets)))
            details, postings, errors = [], [], 0
            for row, ticket in enumerate(tickets, start=1):
                order = str(ticket.get("ORDERID", "")).lstrip("0")
                ref = (order, ticket.get("CONF_TEXT", ""))
                error = self._order_check(order, {"ROW": row})
                if error is None and float(ticket.get("YIELD") or 0) > \
                        float(self.orders[order]["MfgOrderPlannedTotalQty"]) * 10:
                    error = ret("E", "RU", "170", f"Yield {ticket['YIELD']} exceeds the tolerance "
                                f"of order {order}", ROW=row)
                if error is not None:
                    details.append(error)
                    errors += 1
                    continue
                if ref[1] and ref in self.confirmations:
                    conf_no, conf_cnt = self.confirmations[ref]
                    details.append(ret("I", "RU", "999", f"Confirmation of order {order} with "
                                       f"reference {ref[1]} exists already", ROW=row,
                                       CONF_NO=conf_no, CONF_CNT=conf_cnt))
                    continue
                self.next_conf += 1
                conf_no, conf_cnt = f"{self.next_conf:010d}", "00000001"
                postings.append((ref, (conf_no, conf_cnt)))
                details.append(ret("S", "RU", "100", f"Confirmation of order {order} saved",
                                   ROW=row, CONF_NO=conf_no, CONF_CNT=conf_cnt))
            if errors and post_wrong_entries == "0":
                postings = []
            overall = ret("E", "RU", "505", "Not all confirmations could be posted") if errors \
                else ret("S", "RU", "100", f"{len(postings)} confirmation(s) saved")
            return overall, details, postings

    def commit_confirmations(self, postings):
        with self.lock:
            for ref, numbers in postings:
                self.confirmations.setdefault(ref, numbers)

    # ------------------------------------------------------- goods movements
    def goods_movement(self, header, code, items):
        """BAPI_GOODSMVT_CREATE: returns (doc number, year, RETURN rows, posting)."""
        with self.lock:
            self.calls.append(("BAPI_GOODSMVT_CREATE", len(items)))
            ref = header.get("HEADER_TXT", "")
            if ref and ref in self.material_documents:
                number, year, _items = self.material_documents[ref]
                return number, year, [], None
            expected = {"03": "261", "02": "101"}.get(code.get("GM_CODE"))
            for item in items:
                if item.get("MOVE_TYPE") != expected:
                    return "", "0000", [ret("E", "M7", "092", f"Movement type "
                                            f"{item.get('MOVE_TYPE')} not allowed with "
                                            f"GM_CODE {code.get('GM_CODE')}")], None
                error = self._order_check(str(item.get("ORDERID", "")), {})
                if error is not None:
                    return "", "0000", [error], None
                if float(item.get("ENTRY_QNT") or 0) > 1000:
                    material = item.get("MATERIAL", "").lstrip("0")
                    return "", "0000", [ret("E", "M7", "021", f"Deficit of SL Unrestricted-use "
                                            f"{item['ENTRY_QNT']} ST : {material} 1010 0001")], None
            self.next_doc += 1
            posting = (ref, (str(self.next_doc), "2026", items))
            return str(self.next_doc), "2026", [], posting

    def commit_document(self, posting):
        with self.lock:
            if posting:
                self.material_documents.setdefault(posting[0], posting[1])


# ------------------------------------------------------------------- RFC face
class CommunicationError(Exception):
    """Named like pyrfc's: the addon classifies RFC errors by class name."""


class LogonError(Exception):
    pass


class FakeRfc:
    """``factory(**logon) -> Connection`` implementing pyrfc's ``call`` on a SapBackend."""

    def __init__(self, backend, user="RFC_USER", password="secret"):
        self.backend = backend
        self.user, self.password = user, password
        self.down = False
        self.lose_commit_answer = 0  # commits, then the answer is lost this many times
        self.logons = []

    def __call__(self, **params):
        self.logons.append(params)
        if self.down:
            raise CommunicationError("partner '10.0.0.5:sapgw00' not reached")
        if params.get("user") != self.user or params.get("passwd") != self.password:
            raise LogonError("Name or password is incorrect (repeat logon)")
        return _Connection(self)


class _Connection:
    def __init__(self, fake):
        self.fake = fake
        self.pending = []

    def close(self):
        self.pending = []

    def call(self, function_name, **kwargs):
        backend = self.fake.backend
        if function_name == "RFC_PING":
            return {}
        if function_name == "BAPI_PRODORDCONF_CREATE_TT":
            overall, details, postings = backend.confirm(
                kwargs.get("TIMETICKETS", []), kwargs.get("POST_WRONG_ENTRIES", "0"))
            self.pending.append(("conf", postings))
            return {"RETURN": overall, "DETAIL_RETURN": details}
        if function_name == "BAPI_GOODSMVT_CREATE":
            number, year, rows, posting = backend.goods_movement(
                kwargs["GOODSMVT_HEADER"], kwargs["GOODSMVT_CODE"], kwargs["GOODSMVT_ITEM"])
            if posting:
                self.pending.append(("doc", posting))
            return {"MATERIALDOCUMENT": number, "MATDOCUMENTYEAR": year, "RETURN": rows,
                    "GOODSMVT_HEADRET": {"MAT_DOC": number, "DOC_YEAR": year}}
        if function_name == "BAPI_TRANSACTION_COMMIT":
            for kind, posting in self.pending:
                if kind == "conf":
                    backend.commit_confirmations(posting)
                else:
                    backend.commit_document(posting)
            self.pending = []
            if self.fake.lose_commit_answer > 0:
                self.fake.lose_commit_answer -= 1
                raise CommunicationError("connection reset by peer after COMMIT WORK")
            return {"RETURN": ret("", "", "000", "")}
        if function_name == "BAPI_TRANSACTION_ROLLBACK":
            self.pending = []
            return {"RETURN": ret("", "", "000", "")}
        if function_name == "BAPI_PRODORD_GET_LIST":
            plant = (kwargs.get("PRODUCTION_PLANT_RANGE") or [{}])[0].get("LOW")
            headers = []
            for order in backend.orders.values():
                if plant and order["ProductionPlant"] != plant:
                    continue
                status = "REL  PRC" if order["OrderIsReleased"] else "CRTD"
                if order["OrderIsMarkedForDeletion"]:
                    status += " DLFL"
                headers.append({
                    "ORDER_NUMBER": order["ManufacturingOrder"].zfill(12),
                    "PRODUCTION_PLANT": order["ProductionPlant"],
                    "MATERIAL": order["Material"], "TARGET_QUANTITY": order[
                        "MfgOrderPlannedTotalQty"], "UNIT": order["ProductionUnit"],
                    "PRODUCTION_START_DATE": "20261124", "PRODUCTION_FINISH_DATE": "20261125",
                    "SYSTEM_STATUS": status})
            return {"ORDER_HEADER": headers, "RETURN": ret("", "", "000", "")}
        raise CommunicationError(f"function module {function_name} not found")
