"""The BAPIs the addon calls over RFC (and SOAP), with their published signatures.

Source: the function modules' interfaces as SAP documents them (SE37 / BAPI Explorer BAPI,
and the function documentation SAP ships, e.g. BAPI_PRODORDCONF_CREATE_TT's "PostWrongEntries"
and "no goods movements entered -> backflush and automatic goods receipt"), with the DDIC
structures BAPI_PP_TIMETICKET, BAPI_CORU_RETURN, BAPI2017_GM_HEAD_01, BAPI2017_GM_CODE,
BAPI2017_GM_ITEM_CREATE, BAPI_ORDER_HEADER1 and the *_RANGE structures; the parameter list of
BAPI_PRODORD_GET_LIST as SAP's node-rfc call template prints it (IMPORT COLLECTIVE_ORDER;
TABLES MATERIAL_RANGE ... PRODPLANT_RANGE ... ORDER_HEADER). Lengths are the DDIC lengths:
CHAR/NUMC/DATS/TIMS in characters, QUAN 13,3 is a packed field of 7 bytes.
Only the fields this integration uses are listed per structure, plus their neighbours the
simulators need; any other name is refused as pyrfc refuses an unknown field.
"""
from .rfc import Field, Function

C = lambda n: Field("C", n)  # noqa: E731
N = lambda n: Field("N", n)  # noqa: E731
DATS, TIMS = Field("D", 8), Field("T", 6)
QUAN = Field("P", 7, 3)
INT4 = Field("I", 4)


def range_of(low):
    return {"SIGN": C(1), "OPTION": C(2), "LOW": low, "HIGH": low}


BAPIRET2 = {"TYPE": C(1), "ID": C(20), "NUMBER": N(3), "MESSAGE": C(220), "LOG_NO": C(20),
            "LOG_MSG_NO": N(6), "MESSAGE_V1": C(50), "MESSAGE_V2": C(50), "MESSAGE_V3": C(50),
            "MESSAGE_V4": C(50), "PARAMETER": C(32), "ROW": INT4, "FIELD": C(30),
            "SYSTEM": C(10)}

TIMETICKET = {
    "CONF_NO": N(10), "CONF_CNT": N(8), "ORDERID": C(12), "SEQUENCE": C(6), "OPERATION": C(4),
    "SUB_OPER": C(4), "CAPA_CATEGORY": C(3), "FIN_CONF": C(1), "CLEAR_RES": C(1),
    "POSTG_DATE": DATS, "DEV_REASON": C(4), "CONF_TEXT": C(40), "PLANT": C(4),
    "WORK_CNTR": C(8), "PERS_NO": N(8), "EXEC_START_DATE": DATS, "EXEC_START_TIME": TIMS,
    "EXEC_FIN_DATE": DATS, "EXEC_FIN_TIME": TIMS, "CONF_QUAN_UNIT": C(3),
    "CONF_QUAN_UNIT_ISO": C(3), "YIELD": QUAN, "SCRAP": QUAN, "RECORDTYPE": C(1),
    "EX_CREATED_BY": C(12), "EX_CREATED_DATE": DATS, "EX_CREATED_TIME": TIMS,
}
GM_ITEM = {
    "MATERIAL": C(18), "MATERIAL_LONG": C(40), "PLANT": C(4), "STGE_LOC": C(4),
    "BATCH": C(10), "MOVE_TYPE": C(3), "STCK_TYPE": C(1), "ENTRY_QNT": QUAN,
    "ENTRY_UOM": C(3), "ENTRY_UOM_ISO": C(3), "ORDERID": C(12), "ORDER_ITNO": N(4),
    "RESERV_NO": N(10), "RES_ITEM": N(4), "WITHDRAWN": C(1), "MOVE_REAS": N(4),
    "MVT_IND": C(1), "ITEM_TEXT": C(50), "NO_MORE_GR": C(1),
}
# BAPI_PP_ORDER_OBJECTS: which parts of the order BAPI_PRODORD_GET_DETAIL returns.
ORDER_OBJECTS = {name: C(1) for name in (
    "HEADER", "POSITIONS", "SEQUENCES", "OPERATIONS", "COMPONENTS", "PROD_REL_TOOLS",
    "TRIGGER_POINTS", "SUBOPERATIONS")}
# BAPI_ORDER_COMPONENT (se80.co.uk / sapdatasheet.org field lists: RESERVATION_NUMBER RSNUM
# NUMC 10, RESERVATION_ITEM RSPOS NUMC 4, RESERVATION_TYPE, DELETION_INDICATOR XLOEK,
# MATERIAL MATNR CHAR 18, ...); BACKFLUSH is data element RGEKZ ("Indicator: Backflush",
# CHAR 1, default component name BACKFLUSH). The simulator answers with these fields.
ORDER_COMPONENT = {
    "RESERVATION_NUMBER": N(10), "RESERVATION_ITEM": N(4), "RESERVATION_TYPE": C(1),
    "DELETION_INDICATOR": C(1), "MATERIAL": C(18), "PROD_PLANT": C(4), "REQ_QUAN": QUAN,
    "BASE_UOM": C(3), "WITHDRAWN_QUANTITY": QUAN, "BACKFLUSH": C(1), "ORDER_NUMBER": C(12),
    "OPERATION": C(4),
}
GM_HEADER = {"PSTNG_DATE": DATS, "DOC_DATE": DATS, "REF_DOC_NO": C(16), "PR_UNAME": C(12),
             "HEADER_TXT": C(25), "BILL_OF_LADING": C(16), "GR_GI_SLIP_NO": C(10)}

FUNCTIONS = {f.name: f for f in (
    Function("RFC_PING", source="SE37 RFC_PING (no parameters)"),
    Function("BAPI_PRODORD_GET_LIST", importing={"COLLECTIVE_ORDER": C(1)}, tables={
        "MATERIAL_RANGE": dict(range_of(C(18)), LOW_LONG=C(40), HIGH_LONG=C(40)),
        "MRP_CNTRL_RANGE": range_of(C(3)), "ORDER_NUMBER_RANGE": range_of(C(12)),
        "ORDER_TYPE_RANGE": range_of(C(4)), "PLANPLANT_RANGE": range_of(C(4)),
        "PROD_SCHED_RANGE": range_of(C(3)), "PRODPLANT_RANGE": range_of(C(4)),
        "ORDER_HEADER": {}}, exporting=("RETURN",),
        source="BAPI_PRODORD_GET_LIST; ranges BAPI_ORDER_*_RANGE, ORDER_HEADER BAPI_ORDER_HEADER1"),
    Function("BAPI_PRODORD_GET_DETAIL",
             importing={"NUMBER": C(12), "COLLECTIVE_ORDER": C(1),
                        "ORDER_OBJECTS": ORDER_OBJECTS},
             tables={"HEADER": {}, "POSITION": {}, "SEQUENCE": {}, "OPERATION": {},
                     "TRIGGER_POINT": {}, "COMPONENT": {}, "PROD_REL_TOOL": {}},
             exporting=("RETURN",),
             source="BAPI_PRODORD_GET_DETAIL (ORDER_OBJECTS BAPI_PP_ORDER_OBJECTS; TABLES "
                    "HEADER BAPI_ORDER_HEADER1 ... COMPONENT BAPI_ORDER_COMPONENT)"),
    Function("BAPI_PRODORDCONF_CREATE_TT",
             importing={"POST_WRONG_ENTRIES": C(1), "TESTRUN": C(1),
                        "CALL_ON_INBOUND_QUEUE": C(1)},
             tables={"TIMETICKETS": TIMETICKET, "GOODSMOVEMENTS": GM_ITEM,
                     "LINK_CONF_GOODSMOV": {"INDEX_CONFIRM": INT4, "INDEX_GOODSMOV": INT4},
                     "DETAIL_RETURN": {}},
             exporting=("RETURN",), source="BAPI_PRODORDCONF_CREATE_TT (BAPI_PP_TIMETICKET)"),
    Function("BAPI_PRODORDCONF_GETLIST",
             tables={"CONF_RANGE": range_of(N(10)), "ORDER_RANGE": range_of(C(12)),
                     "CONFIRMATIONS": {}},
             exporting=("RETURN",), source="BAPI_PRODORDCONF_GETLIST (BAPI_CONF_KEY)"),
    Function("BAPI_PRODORDCONF_GETDETAIL",
             importing={"CONFIRMATION": N(10), "CONFIRMATIONCOUNTER": N(8)},
             tables={"GOODSMOVEMENTS": {}, "FAILEDGMOVES": {}},
             exporting=("RETURN", "CONF_DETAIL"),
             source="BAPI_PRODORDCONF_GETDETAIL (BAPI_PP_CONFIRM)"),
    Function("BAPI_GOODSMVT_CREATE",
             importing={"GOODSMVT_HEADER": GM_HEADER, "GOODSMVT_CODE": {"GM_CODE": C(2)},
                        "TESTRUN": C(1)},
             tables={"GOODSMVT_ITEM": GM_ITEM, "RETURN": {}},
             exporting=("GOODSMVT_HEADRET", "MATERIALDOCUMENT", "MATDOCUMENTYEAR"),
             source="BAPI_GOODSMVT_CREATE (BAPI2017_GM_HEAD_01, BAPI2017_GM_ITEM_CREATE)"),
    Function("BAPI_GOODSMVT_GETITEMS",
             tables={"MATERIAL_RA": range_of(C(18)), "PLANT_RA": range_of(C(4)),
                     "MOVE_TYPE_RA": range_of(C(3)), "PSTNG_DATE_RA": range_of(DATS),
                     "GOODSMVT_HEADER": {}, "GOODSMVT_ITEMS": {}, "RETURN": {}},
             source="BAPI_GOODSMVT_GETITEMS (BAPI2017_GM_HEAD_02 carries HEADER_TXT)"),
    Function("BAPI_TRANSACTION_COMMIT", importing={"WAIT": C(1)}, exporting=("RETURN",),
             source="BAPI_TRANSACTION_COMMIT"),
    Function("BAPI_TRANSACTION_ROLLBACK", exporting=("RETURN",),
             source="BAPI_TRANSACTION_ROLLBACK"),
)}
# Units of measure the simulated SAP knows, by internal (commercial-to-internal converted)
# code: pyrfc applies no conversion exit, so "PC" (the ISO/commercial code) is not "ST".
INTERNAL_UNITS = {"ST", "KG", "G", "M", "L", "H", "MIN", "EA"}
