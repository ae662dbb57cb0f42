"""Find out whether SAP already holds a posting before sending it again.

Standard SAP does not deduplicate confirmations on CONF_TEXT nor material documents on
HEADER_TXT: a re-send after an unknown outcome (timeout, lost commit reply) posts twice.
So a message that was sent before is looked up first, by the external reference it carried:
the confirmations of its order (BAPI_PRODORDCONF_GETLIST + GETDETAIL, or ProdnOrdConf2
filtered by order and ConfirmationText), the material documents of its material and
movement type (BAPI_GOODSMVT_GETITEMS, or A_MaterialDocumentHeader filtered by
MaterialDocumentHeaderText). ``call(function, **params)`` is an RFC session's or a SOAP
service's call: the same BAPIs answer both.
"""
from .sap_bapi import plain_number
from .sap_errors import SapBusinessError


def _range(value):
    return [{"SIGN": "I", "OPTION": "EQ", "LOW": value, "HIGH": ""}]


def confirmation_by_text(call, order_id, conf_text):
    """(CONF_NO, CONF_CNT) of the confirmation of ``order_id`` with ``conf_text``, or None."""
    listing = _checked(call, "BAPI_PRODORDCONF_GETLIST", ORDER_RANGE=_range(order_id))
    for row in listing.get("CONFIRMATIONS") or []:
        detail = _checked(call, "BAPI_PRODORDCONF_GETDETAIL", CONFIRMATION=row["CONF_NO"],
                          CONFIRMATIONCOUNTER=row["CONF_CNT"])
        if str((detail.get("CONF_DETAIL") or {}).get("CONF_TEXT") or "") == conf_text:
            return row["CONF_NO"], row["CONF_CNT"]
    return None


def document_by_text(call, item, header_text):
    """(document, year) of the material document with ``header_text`` among the documents
    of the item's material, plant and movement type, or None."""
    listing = _checked(call, "BAPI_GOODSMVT_GETITEMS",
                       MATERIAL_RA=_range(item.get("MATERIAL") or ""),
                       PLANT_RA=_range(item.get("PLANT") or ""),
                       MOVE_TYPE_RA=_range(item["MOVE_TYPE"]))
    for header in listing.get("GOODSMVT_HEADER") or []:
        if str(header.get("HEADER_TXT") or "") == header_text:
            return header.get("MAT_DOC"), header.get("DOC_YEAR")
    return None


def backflushed_components(call, order_id):
    """Materials of ``order_id``'s components that SAP backflushes on confirmation
    (BAPI_PRODORD_GET_DETAIL, COMPONENT-BACKFLUSH; deleted components left out), or None
    when SAP does not know the order (the confirmation then gets SAP's own refusal)."""
    detail = call("BAPI_PRODORD_GET_DETAIL", NUMBER=order_id,
                  ORDER_OBJECTS={"COMPONENTS": "X"})
    detail = detail if isinstance(detail, dict) else {}
    answer = detail.get("RETURN") or {}
    if isinstance(answer, dict) and answer.get("TYPE") in ("E", "A"):
        return None
    return [plain_number(row.get("MATERIAL")) for row in detail.get("COMPONENT") or []
            if str(row.get("BACKFLUSH") or "").strip() and
            not str(row.get("DELETION_INDICATOR") or "").strip()]


def _checked(call, function, **params):
    try:
        result = call(function, **params)
    except SapBusinessError as exc:
        raise SapBusinessError(
            f"The outcome of an earlier send is unknown and SAP could not be asked whether "
            f"it was posted ({exc}). Check in SAP, then Retry or Cancel the message.") from None
    return result if isinstance(result, dict) else {}


def odata_confirmation_by_text(client, order_id, conf_text):
    rows = _odata_rows(client, "ProdnOrdConf2", f"OrderID eq '{plain_number(order_id)}' and "
                       f"ConfirmationText eq '{_quoted(conf_text)}'")
    return (rows[0].get("ConfirmationGroup"), rows[0].get("ConfirmationCount")) if rows else None


def odata_document_by_text(client, header_text):
    rows = _odata_rows(client, "A_MaterialDocumentHeader",
                       f"MaterialDocumentHeaderText eq '{_quoted(header_text)}'")
    return (rows[0].get("MaterialDocument"), rows[0].get("MaterialDocumentYear")) if rows \
        else None


def _odata_rows(client, entity_set, filter_expr):
    rows = []
    for page in client.iter_pages(entity_set, filter_expr, page_size=50):
        rows.extend(page)
    return rows


def _quoted(text):
    return str(text).replace("'", "''")
