"""Canonical payloads <-> SAP structures (BAPI parameters and their OData equivalents).

Pure functions without Odoo or transport: the RFC, SOAP and OData transports send the
same content, and the simulators in the tests read it back with the same field names
SAP uses (TIMETICKETS, GOODSMVT_ITEM, ProdnOrdConf2, A_MaterialDocumentHeader...).
"""
from datetime import date, datetime, timezone

import pytz

from .sap_errors import SapBusinessError, external_ref

# Canonical type -> (goods movement code, movement type): 261 = issue to the order,
# 101 = receipt of the finished product from the order.
GOODS_MOVEMENTS = {
    "material.consumption": ("03", "261"),
    "goods.receipt": ("02", "101"),
}
CONF_TEXT_LEN = 40
HEADER_TXT_LEN = 25


def sap_number(value, width):
    """ALPHA input conversion: numeric SAP keys are stored with leading zeros."""
    text = str(value or "").strip()
    return text.zfill(width) if text.isdigit() else text


def plain_number(value):
    """ALPHA output conversion: "000001000123" -> "1000123" (non-numeric unchanged)."""
    text = str(value or "").strip()
    return text.lstrip("0") or "0" if text.isdigit() else text


def _require(payload, *names):
    missing = [name for name in names if payload.get(name) in (None, "")]
    if missing:
        raise SapBusinessError(f"payload lacks {', '.join(missing)} needed by SAP")


def confirmation_timeticket(payload, key, plant=""):
    """production.confirmation -> one BAPI_PP_TIMETICKET row of BAPI_PRODORDCONF_CREATE_TT."""
    _require(payload, "order_ref", "uom")
    return {
        "ORDERID": sap_number(payload["order_ref"], 12),
        "OPERATION": sap_number(payload.get("operation") or "0010", 4),
        "PLANT": plant or "",
        "WORK_CNTR": payload.get("work_center") or "",
        "YIELD": float(payload.get("qty_good") or 0),
        "SCRAP": float(payload.get("qty_scrap") or 0),
        "CONF_QUAN_UNIT": payload["uom"],
        # "X" = final confirmation, "1" = partial (SAP domain AUERU).
        "FIN_CONF": "X" if payload.get("final") else "1",
        "DEV_REASON": (payload.get("scrap_reason") or "")[:4],
        "CONF_TEXT": external_ref(key, CONF_TEXT_LEN),
    }


def goods_movement(canonical_type, payload, key, plant, storage_location, posting_date):
    """material.consumption / goods.receipt -> BAPI_GOODSMVT_CREATE parameters."""
    _require(payload, "order_ref", "product", "qty", "uom")
    code, movement_type = GOODS_MOVEMENTS[canonical_type]
    item = {
        "MATERIAL": sap_number(payload["product"], 18),
        "PLANT": plant or "",
        "STGE_LOC": payload.get("location") or storage_location or "",
        "MOVE_TYPE": movement_type,
        "ENTRY_QNT": float(payload["qty"]),
        "ENTRY_UOM": payload["uom"],
        "ORDERID": sap_number(payload["order_ref"], 12),
        "BATCH": payload.get("lot") or "",
    }
    if movement_type == "101":
        item["MVT_IND"] = "F"  # goods movement for a production order
    stamp = posting_date.strftime("%Y%m%d")
    return {
        "GOODSMVT_HEADER": {"PSTNG_DATE": stamp, "DOC_DATE": stamp,
                            "HEADER_TXT": external_ref(key, HEADER_TXT_LEN)},
        "GOODSMVT_CODE": {"GM_CODE": code},
        "GOODSMVT_ITEM": [item],
    }


# ------------------------------------------------------------------ OData bodies
def confirmation_odata(timeticket):
    """BAPI time ticket -> API_PROD_ORDER_CONFIRMATION_2_SRV ProdnOrdConf2 entity."""
    return {
        "OrderID": plain_number(timeticket["ORDERID"]),
        "OrderOperation": timeticket["OPERATION"],
        "Plant": timeticket["PLANT"],
        "WorkCenter": timeticket["WORK_CNTR"],
        "ConfirmationYieldQuantity": str(timeticket["YIELD"]),
        "ConfirmationScrapQuantity": str(timeticket["SCRAP"]),
        "ConfirmationUnit": timeticket["CONF_QUAN_UNIT"],
        "FinalConfirmationType": timeticket["FIN_CONF"],
        "VarianceReasonCode": timeticket["DEV_REASON"],
        "ConfirmationText": timeticket["CONF_TEXT"],
    }


def goods_movement_odata(params):
    """BAPI_GOODSMVT_CREATE parameters -> A_MaterialDocumentHeader deep insert."""
    header = params["GOODSMVT_HEADER"]
    stamp = header["PSTNG_DATE"]
    odata_date = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:]}T00:00:00"
    return {
        "GoodsMovementCode": params["GOODSMVT_CODE"]["GM_CODE"],
        "PostingDate": odata_date,
        "DocumentDate": odata_date,
        "MaterialDocumentHeaderText": header["HEADER_TXT"],
        "to_MaterialDocumentItem": {"results": [{
            "Material": plain_number(item["MATERIAL"]),
            "Plant": item["PLANT"],
            "StorageLocation": item["STGE_LOC"],
            "GoodsMovementType": item["MOVE_TYPE"],
            "QuantityInEntryUnit": str(item["ENTRY_QNT"]),
            "EntryUnit": item["ENTRY_UOM"],
            "ManufacturingOrder": plain_number(item["ORDERID"]),
            "Batch": item["BATCH"],
            "GoodsMovementRefDocType": "F" if item.get("MVT_IND") == "F" else "",
        } for item in params["GOODSMVT_ITEM"]]},
    }


# ------------------------------------------------------------ orders from SAP
def odata_datetime(value):
    """OData v2 "/Date(1700000000000+0000)/" or v4 ISO text -> aware datetime (None if empty)."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.startswith("/Date("):
        inner = text[6:text.index(")")]
        millis = inner
        for sign in ("+", "-"):
            if sign in inner[1:]:
                millis = inner[:inner.index(sign, 1)]
        return datetime.fromtimestamp(int(millis) / 1000, tz=timezone.utc)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def sap_date_time(day, time_of_day="000000", tz_name="UTC"):
    """IDoc/RFC DATS + TIMS ("20261124", "060000") in SAP's local time zone ``tz_name``
    -> aware UTC datetime, None if empty. SAP sends these without a zone: they are the
    plant's (or system's) local time, so the connector's time zone says which."""
    day = (day or "").strip()
    if not day or set(day) == {"0"}:
        return None
    time_of_day = (time_of_day or "000000").strip().ljust(6, "0")
    naive = datetime.strptime(day + time_of_day, "%Y%m%d%H%M%S")
    local = pytz.timezone(tz_name or "UTC").localize(naive, is_dst=False)
    return local.astimezone(timezone.utc)


def iso(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc).isoformat()
    return value


def order_from_odata(entity):
    """An A_ProductionOrder_2 entity -> normalized order dict (see order_payload)."""
    for name in ("ManufacturingOrder", "Material", "MfgOrderPlannedTotalQty", "ProductionUnit"):
        if entity.get(name) in (None, ""):
            raise ValueError(f"production order entity lacks {name}: {str(entity)[:200]}")
    metadata = entity.get("__metadata") or {}
    return {
        "order_ref": plain_number(entity["ManufacturingOrder"]),
        "product": plain_number(entity["Material"]),
        "qty": float(entity["MfgOrderPlannedTotalQty"]),
        "uom": entity["ProductionUnit"],
        "plant": entity.get("ProductionPlant") or "",
        "date_start": odata_datetime(entity.get("MfgOrderPlannedStartDate")),
        "date_end": odata_datetime(entity.get("MfgOrderPlannedEndDate")),
        "changed_at": odata_datetime(entity.get("LastChangeDateTime")),
        "version": metadata.get("etag") or entity.get("@odata.etag") or "",
        "deleted": bool(entity.get("OrderIsDeleted") or entity.get("OrderIsMarkedForDeletion")),
        "released": bool(entity.get("OrderIsReleased")),
    }


def order_payload(order, action):
    """Normalized order -> canonical production.order payload."""
    payload = {"order_ref": order["order_ref"], "product": order["product"],
               "qty": order["qty"], "uom": order["uom"], "action": action}
    for name in ("date_start", "date_end"):
        if order.get(name):
            payload[name] = iso(order[name])
    for name in ("components", "operations"):
        if order.get(name):
            payload[name] = order[name]
    payload["external_refs"] = {"sap_order": order["order_ref"],
                                "sap_plant": order.get("plant") or ""}
    return payload
