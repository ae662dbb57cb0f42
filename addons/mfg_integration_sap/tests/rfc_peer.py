"""The RFC face of the simulated SAP: a pyrfc-compatible ``Connection`` factory.

Every call is checked against the published signature first (tests/sap_metadata/bapi.py),
the way pyrfc and the RFC runtime refuse it: an unknown parameter or field, a value too long
for its field, a malformed date are an ``ExternalRuntimeError`` - no retry fixes them.
"""
from .sap_backend import NOT_POSTED, ret
from .sap_metadata.bapi import FUNCTIONS
from .sap_metadata.rfc import call_problems


class CommunicationError(Exception):
    """Named like pyrfc's: the addon classifies RFC errors by class name."""


class LogonError(Exception):
    pass


class ExternalRuntimeError(Exception):
    """pyrfc's error for RFC_INVALID_PARAMETER / RFC_CONVERSION_FAILURE."""


class WorkerKilled(BaseException):
    """The Odoo worker dies (kill -9) right after SAP committed: nothing of the job's
    transaction survives, the posting in SAP does."""


class FakeRfc:
    """``factory(**logon) -> Connection`` implementing pyrfc's ``call`` on a SapBackend."""

    def __init__(self, backend, user="RFC_USER", password="secret"):
        self.backend = backend
        self.user, self.password = user, password
        self.down = False
        self.lose_commit_answer = 0  # commits, then the answer is lost this many times
        self.die_after_commit = 0    # commits, then the calling worker dies
        self.logons = []
        self.refused = []            # (function, problems) of calls SAP refused
        self.called = []             # function names, in call order

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
        function = FUNCTIONS.get(function_name)
        if function is None:
            raise ExternalRuntimeError(f"FU_NOT_FOUND: function module {function_name} "
                                       "not found")
        self.fake.called.append(function_name)
        problems = call_problems(function, kwargs)
        if problems:
            self.fake.refused.append((function_name, problems))
            raise ExternalRuntimeError("RFC_INVALID_PARAMETER (rc=20): " + "; ".join(problems))
        handler = getattr(self, "_" + function_name.lower(), None)
        return handler(**kwargs)

    def _rfc_ping(self):
        return {}

    def _bapi_prodordconf_create_tt(self, TIMETICKETS=(), POST_WRONG_ENTRIES="0",  # noqa: N803
                                    GOODSMOVEMENTS=(), LINK_CONF_GOODSMOV=(), **_other):
        overall, details, postings = self.fake.backend.confirm(
            list(TIMETICKETS), POST_WRONG_ENTRIES, list(GOODSMOVEMENTS), list(LINK_CONF_GOODSMOV))
        self.pending.append(("conf", postings))
        return {"RETURN": overall, "DETAIL_RETURN": details}

    def _bapi_goodsmvt_create(self, GOODSMVT_HEADER, GOODSMVT_CODE, GOODSMVT_ITEM,  # noqa: N803
                              **_other):
        number, year, rows, posting = self.fake.backend.goods_movement(
            GOODSMVT_HEADER, GOODSMVT_CODE, GOODSMVT_ITEM)
        if posting:
            self.pending.append(("doc", posting))
        return {"MATERIALDOCUMENT": number, "MATDOCUMENTYEAR": year, "RETURN": rows,
                "GOODSMVT_HEADRET": {"MAT_DOC": number, "DOC_YEAR": year}}

    def _bapi_transaction_commit(self, **_kwargs):
        backend = self.fake.backend
        for kind, posting in self.pending:
            if kind == "conf":
                backend.commit_confirmations(posting)
            else:
                backend.commit_document(posting)
        self.pending = []
        if self.fake.die_after_commit > 0:
            self.fake.die_after_commit -= 1
            raise WorkerKilled("worker killed after COMMIT WORK")
        if self.fake.lose_commit_answer > 0:
            self.fake.lose_commit_answer -= 1
            raise CommunicationError("connection reset by peer after COMMIT WORK")
        return {"RETURN": ret("", "", "000", "")}

    def _bapi_transaction_rollback(self):
        self.pending = []
        return {"RETURN": ret("", "", "000", "")}

    def _bapi_prodordconf_getlist(self, ORDER_RANGE=(), CONF_RANGE=(), **_other):  # noqa: N803
        orders = {row["LOW"].lstrip("0") for row in ORDER_RANGE}
        rows = [{"CONF_NO": c["CONF_NO"], "CONF_CNT": c["CONF_CNT"],
                 "ORDERID": c["ORDERID"], "OPERATION": c.get("OPERATION", "")}
                for c in self.fake.backend.confirmations
                if not orders or c["ORDERID"].lstrip("0") in orders]
        return {"CONFIRMATIONS": rows, "RETURN": ret("", "", "000", "")}

    def _bapi_prodordconf_getdetail(self, CONFIRMATION, CONFIRMATIONCOUNTER, **_other):  # noqa: N803
        for conf in self.fake.backend.confirmations:
            if (conf["CONF_NO"], conf["CONF_CNT"]) == (CONFIRMATION, CONFIRMATIONCOUNTER):
                detail = {k: v for k, v in conf.items() if k != "goods"}
                return {"CONF_DETAIL": detail, "RETURN": ret("", "", "000", ""),
                        "GOODSMOVEMENTS": [], "FAILEDGMOVES": []}
        return {"CONF_DETAIL": {"CONF_NO": NOT_POSTED},
                "RETURN": ret("E", "RU", "011", f"Confirmation {CONFIRMATION} does not exist")}

    def _bapi_goodsmvt_getitems(self, MATERIAL_RA=(), PLANT_RA=(), MOVE_TYPE_RA=(),  # noqa: N803
                                PSTNG_DATE_RA=(), **_other):
        wanted = {row["LOW"] for row in MATERIAL_RA}
        moves = {row["LOW"] for row in MOVE_TYPE_RA}
        headers, items = [], []
        for doc in self.fake.backend.material_documents:
            hits = [i for i in doc["items"] if (not wanted or i.get("MATERIAL") in wanted)
                    and (not moves or i["MOVE_TYPE"] in moves)]
            if hits:
                headers.append({"MAT_DOC": doc["number"], "DOC_YEAR": doc["year"],
                                "HEADER_TXT": doc["header_txt"],
                                "PSTNG_DATE": doc["posting_date"]})
                items.extend({"MAT_DOC": doc["number"], "MATERIAL": i.get("MATERIAL"),
                              "MOVE_TYPE": i["MOVE_TYPE"], "ENTRY_QNT": i["ENTRY_QNT"]}
                             for i in hits)
        return {"GOODSMVT_HEADER": headers, "GOODSMVT_ITEMS": items, "RETURN": []}

    def _bapi_prodord_get_detail(self, NUMBER, ORDER_OBJECTS=None, **_other):  # noqa: N803
        order = self.fake.backend.orders.get(NUMBER.lstrip("0"))
        if order is None:
            return {"RETURN": ret("E", "C6", "003", f"Order {NUMBER.lstrip('0')} does not "
                                  "exist"), "HEADER": [], "COMPONENT": []}
        objects = ORDER_OBJECTS or {}
        header = [{"ORDER_NUMBER": NUMBER.zfill(12), "MATERIAL": order["Material"],
                   "PRODUCTION_PLANT": order["ProductionPlant"],
                   "TARGET_QUANTITY": order["TotalQuantity"],
                   "UNIT": order["ProductionUnit"]}] if objects.get("HEADER") == "X" else []
        components = [{
            "RESERVATION_NUMBER": "0000047110", "RESERVATION_ITEM": f"{index:04d}",
            "RESERVATION_TYPE": "", "DELETION_INDICATOR": "", "MATERIAL": c["material"],
            "PROD_PLANT": order["ProductionPlant"],
            "REQ_QUAN": c["qty"] * float(order["TotalQuantity"]), "BASE_UOM": c["unit"],
            "WITHDRAWN_QUANTITY": 0.0, "BACKFLUSH": "X" if c["backflush"] else "",
            "ORDER_NUMBER": NUMBER.zfill(12), "OPERATION": "0010",
        } for index, c in enumerate(order["components"], start=1)] \
            if objects.get("COMPONENTS") == "X" else []
        # The SOAP face answers in this order: the WSDL's sequence (COMPONENT before RETURN).
        return {"HEADER": header, "COMPONENT": components, "RETURN": ret("S", "C6", "000", "")}

    def _bapi_prodord_get_list(self, PRODPLANT_RANGE=(), **_other):  # noqa: N803
        backend = self.fake.backend
        plants = {row["LOW"] for row in PRODPLANT_RANGE}
        headers = []
        for order in backend.orders.values():
            if plants and order["ProductionPlant"] not in plants:
                continue
            status = "REL  PRC" if order["OrderIsReleased"] else "CRTD"
            if order["OrderIsMarkedForDeletion"]:
                status += " DLFL"
            headers.append({
                "ORDER_NUMBER": order["ManufacturingOrder"].zfill(12),
                "PRODUCTION_PLANT": order["ProductionPlant"],
                "MATERIAL": order["Material"], "TARGET_QUANTITY": order["TotalQuantity"],
                "UNIT": order["ProductionUnit"],
                "START_DATE": order["start"].strftime("%Y%m%d"),
                "START_TIME": order["start"].strftime("%H%M%S"),
                "FINISH_DATE": order["end"].strftime("%Y%m%d"),
                "FINISH_TIME": order["end"].strftime("%H%M%S"),
                "SYSTEM_STATUS": status})
        return {"ORDER_HEADER": headers, "RETURN": ret("", "", "000", "")}
