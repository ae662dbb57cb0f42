"""Canonical payloads <-> SAP structures (BAPI parameters and their OData equivalents).

Pure functions without Odoo or transport: the RFC, SOAP and OData transports send the
same content, and the simulators in the tests read it back with the same field names
SAP uses (TIMETICKETS, GOODSMVT_ITEM, ProdnOrdConf2, A_MaterialDocumentHeader...).
"""
import math
import re
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


def confirmation_timeticket(payload, key, plant="", posting_date=None):
    """production.confirmation -> one BAPI_PP_TIMETICKET row of BAPI_PRODORDCONF_CREATE_TT."""
    _require(payload, "order_ref", "uom")
    ticket = {
        "ORDERID": sap_key(payload["order_ref"], 12, "order"),
        "OPERATION": sap_key(payload.get("operation") or "0010", 4, "operation"),
        "PLANT": plant or "",
        "WORK_CNTR": (payload.get("work_center") or "")[:8],
        "YIELD": sap_quantity(payload.get("qty_good"), "qty_good"),
        "SCRAP": sap_quantity(payload.get("qty_scrap"), "qty_scrap"),
        "CONF_QUAN_UNIT": sap_unit(payload["uom"]),
        # Domain AUERU: " " partial, "1" automatic final (SAP decides), "X" final.
        "FIN_CONF": "X" if payload.get("final") else " ",
        "DEV_REASON": (payload.get("scrap_reason") or "")[:4],
        "CONF_TEXT": external_ref(key, CONF_TEXT_LEN),
    }
    if posting_date:
        ticket["POSTG_DATE"] = posting_date.strftime("%Y%m%d")
    return ticket


# QUAN 13,3: ten digits before the decimal point.
MAX_QUANTITY = 10 ** 10


def sap_quantity(value, name):
    """A quantity that fits SAP's QUAN 13,3 (pyrfc refuses the whole call - every row of a
    batch - for one value that does not fit, so it is refused here, for its row only)."""
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        raise SapBusinessError(f"{name} {str(value)[:30]!r} is not a number") from None
    if not math.isfinite(number) or number < 0 or number >= MAX_QUANTITY:
        raise SapBusinessError(f"{name} {number!r} does not fit SAP's quantity field "
                               "(0 to 9,999,999,999.999)")
    return round(number, 3)


def sap_key(value, width, name):
    """An order number (CHAR12, ALPHA) or operation (CHAR4): too long is this row's error."""
    text = sap_number(value, width)
    if len(text) > width:
        raise SapBusinessError(f"{name} {text[:40]!r} is longer than SAP's {width} characters")
    return text


def sap_unit(code):
    """A unit as the RFC layer needs it: SAP's internal code (pyrfc applies no conversion
    exit), which the connector's unit mappings give; at most 3 characters."""
    code = str(code or "").strip()
    if not code or len(code) > 3:
        raise SapBusinessError(f"unit {code!r} is not an SAP unit code (map the Odoo unit to "
                               "SAP's internal code, e.g. ST, KG, in the connector's mappings)")
    return code


def sap_batch(lot):
    """SAP batches are CHAR10 and stored in upper case; a longer lot cannot be booked."""
    batch = str(lot or "").strip().upper()
    if len(batch) > 10:
        raise SapBusinessError(f"lot {lot!r} is longer than SAP's 10-character batch number")
    return batch


def material_fields(product):
    """MATERIAL (CHAR18, ALPHA zeros for numeric numbers) or, for longer material numbers,
    MATERIAL_LONG (CHAR40) - BAPI2017_GM_ITEM_CREATE has both since S/4HANA."""
    text = str(product or "").strip()
    if len(text) > 40:
        raise SapBusinessError(f"material {text[:50]!r} is longer than 40 characters")
    if len(text) > 18:
        return {"MATERIAL_LONG": text.upper()}
    return {"MATERIAL": sap_number(text, 18).upper()}


def goods_movement(canonical_type, payload, key, plant, storage_location, posting_date):
    """material.consumption / goods.receipt -> BAPI_GOODSMVT_CREATE parameters."""
    _require(payload, "order_ref", "product", "qty", "uom")
    code, movement_type = GOODS_MOVEMENTS[canonical_type]
    item = {
        **material_fields(payload["product"]),
        "PLANT": plant or "",
        "STGE_LOC": payload.get("location") or storage_location or "",
        "MOVE_TYPE": movement_type,
        "ENTRY_QNT": sap_quantity(payload["qty"], "qty"),
        "ENTRY_UOM": sap_unit(payload["uom"]),
        "ORDERID": sap_key(payload["order_ref"], 12, "order"),
        "BATCH": sap_batch(payload.get("lot")),
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
def confirmation_odata(timeticket, no_goods_movements=False):
    """BAPI time ticket -> API_PROD_ORDER_CONFIRMATION_2_SRV ProdnOrdConf2 entity.
    ``no_goods_movements``: APIConfHasNoGoodsMovements, the API's switch that keeps SAP from
    backflushing and posting the automatic goods receipt for this confirmation."""
    body = {
        "OrderID": plain_number(timeticket["ORDERID"]),
        "OrderOperation": timeticket["OPERATION"],
        "Plant": timeticket["PLANT"],
        "WorkCenter": timeticket["WORK_CNTR"],
        "ConfirmationYieldQuantity": edm_decimal(timeticket["YIELD"]),
        "ConfirmationScrapQuantity": edm_decimal(timeticket["SCRAP"]),
        "ConfirmationUnit": timeticket["CONF_QUAN_UNIT"],
        "FinalConfirmationType": timeticket["FIN_CONF"],
        "VarianceReasonCode": timeticket["DEV_REASON"],
        "ConfirmationText": timeticket["CONF_TEXT"],
        "APIConfHasNoGoodsMovements": bool(no_goods_movements),
    }
    if timeticket.get("POSTG_DATE"):
        body["PostingDate"] = edm_date(timeticket["POSTG_DATE"])
    return body


def goods_movement_odata(params):
    """BAPI_GOODSMVT_CREATE parameters -> A_MaterialDocumentHeader deep insert."""
    header = params["GOODSMVT_HEADER"]
    return {
        "GoodsMovementCode": params["GOODSMVT_CODE"]["GM_CODE"],
        "PostingDate": edm_date(header["PSTNG_DATE"]),
        "DocumentDate": edm_date(header["DOC_DATE"]),
        "MaterialDocumentHeaderText": header["HEADER_TXT"],
        "to_MaterialDocumentItem": {"results": [{
            "Material": plain_number(item.get("MATERIAL_LONG") or item["MATERIAL"]),
            "Plant": item["PLANT"],
            "StorageLocation": item["STGE_LOC"],
            "GoodsMovementType": item["MOVE_TYPE"],
            "QuantityInEntryUnit": edm_decimal(item["ENTRY_QNT"]),
            "EntryUnit": item["ENTRY_UOM"],
            "ManufacturingOrder": plain_number(item["ORDERID"]),
            "Batch": item["BATCH"],
            "GoodsMovementRefDocType": "F" if item.get("MVT_IND") == "F" else "",
        } for item in params["GOODSMVT_ITEM"]]},
    }


def edm_decimal(value, scale=3):
    """Edm.Decimal travels as a JSON string ("40.000"), never as a JSON number."""
    return f"{float(value):.{scale}f}"


def edm_date(stamp):
    """DATS "20261123" -> Edm.DateTime "/Date(ms)/" (the day at 00:00, as Gateway sends
    date-only Edm.DateTime values)."""
    if isinstance(stamp, (date, datetime)):
        stamp = stamp.strftime("%Y%m%d")
    day = datetime.strptime(str(stamp), "%Y%m%d").replace(tzinfo=timezone.utc)
    return f"/Date({int(day.timestamp()) * 1000})/"


def edm_time(moment):
    """A time of day -> Edm.Time "PT06H30M00S"."""
    return f"PT{moment.hour:02d}H{moment.minute:02d}M{moment.second:02d}S"


def sap_local(moment, tz_name):
    """Aware datetime -> naive local datetime of the plant's time zone."""
    return moment.astimezone(pytz.timezone(tz_name or "UTC")).replace(tzinfo=None)


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


def odata_date_time(day, time_of_day, tz_name="UTC"):
    """Edm.DateTime date ("/Date(ms)/", the day at 00:00 UTC) + Edm.Time ("PT06H00M00S")
    in the plant's local time -> aware UTC datetime (None without a date)."""
    parsed = odata_datetime(day)
    if parsed is None:
        return None
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.\d+)?S)?", str(time_of_day or ""))
    hours, minutes, seconds = (int(part or 0) for part in match.groups()) if match else (0, 0, 0)
    return sap_date_time(parsed.strftime("%Y%m%d"), f"{hours:02d}{minutes:02d}{seconds:02d}",
                         tz_name)


def sap_timestamp(value):
    """A 14-digit SAP time stamp (TZNTSTMPS, UTC by definition) -> aware datetime."""
    text = str(value or "").strip()
    if not text or set(text) <= {"0"}:
        return None
    if not re.fullmatch(r"\d{14}", text):
        raise ValueError(f"LastChangeDateTime {text[:30]!r} is not a 14-digit time stamp")
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


def order_from_odata(entity, tz_name="UTC"):
    """An A_ProductionOrder_2 entity -> normalized order dict (see order_payload)."""
    for name in ("ManufacturingOrder", "Material", "TotalQuantity", "ProductionUnit"):
        if entity.get(name) in (None, ""):
            raise ValueError(f"production order entity lacks {name}: {str(entity)[:200]}")
    metadata = entity.get("__metadata") or {}
    flag = lambda name: str(entity.get(name) or "").strip().upper() in ("X", "TRUE")  # noqa: E731
    return {
        "order_ref": plain_number(entity["ManufacturingOrder"]),
        "product": plain_number(entity["Material"]),
        "qty": float(entity["TotalQuantity"]),
        "uom": entity["ProductionUnit"],
        "plant": entity.get("ProductionPlant") or "",
        "date_start": odata_date_time(entity.get("MfgOrderPlannedStartDate"),
                                      entity.get("MfgOrderPlannedStartTime"), tz_name),
        "date_end": odata_date_time(entity.get("MfgOrderPlannedEndDate"),
                                    entity.get("MfgOrderPlannedEndTime"), tz_name),
        "changed_at": sap_timestamp(entity.get("LastChangeDateTime")),
        "version": metadata.get("etag") or entity.get("@odata.etag") or "",
        "deleted": flag("OrderIsDeleted") or flag("OrderIsMarkedForDeletion"),
        "released": flag("OrderIsReleased"),
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
