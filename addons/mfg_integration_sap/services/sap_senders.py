"""Send batches of outbound canonical messages to SAP, per type and transport.

Each sender takes (connector, [(message id, key, payload)], posting date) and returns
{message id: summary text | exception}. A row-level refusal is that row's exception; a
failure of the whole call propagates and the caller gives it to every row of the call.
The message key travels as SAP's external reference (CONF_TEXT, HEADER_TXT): SAP systems
set up for this integration recognise a re-sent key and answer with the document they
already posted, which makes retries after a lost answer safe.
"""
from collections import defaultdict
from functools import partial

from . import sap_bapi, sap_soap
from .sap_errors import (
    SapBusinessError,
    SapRetryableError,
    format_return,
    parse_lock_messages,
    raise_for_return,
)
from .sap_odata import RETRYABLE_STATUS, batch_part_error

CONFIRMATION_BAPI = "BAPI_PRODORDCONF_CREATE_TT"
GOODS_MOVEMENT_BAPI = "BAPI_GOODSMVT_CREATE"


def _build(rows, builder):
    """[(id, built params)] and {id: exception} of rows whose payload SAP cannot take."""
    built, outcomes = [], {}
    for message_id, key, payload in rows:
        try:
            built.append((message_id, builder(payload, key)))
        except SapBusinessError as exc:
            outcomes[message_id] = exc
    return built, outcomes


# ------------------------------------------------------------- confirmations
def send_confirmations(connector, rows, posting_date):
    built, outcomes = _build(rows, lambda payload, key: sap_bapi.confirmation_timeticket(
        payload, key, connector.sap_plant))
    if not built:
        return outcomes
    ids = [message_id for message_id, _ticket in built]
    tickets = [ticket for _id, ticket in built]
    locks = connector._sap_lock_set()
    if connector.connector_type == "sap_odata":
        client = connector._sap_odata(connector.sap_odata_confirmation_service)
        answers = _odata_post(client, "ProdnOrdConf2",
                              [sap_bapi.confirmation_odata(ticket) for ticket in tickets])
        for message_id, (status, body) in zip(ids, answers, strict=True):
            outcomes[message_id] = _odata_outcome(status, body, locks, "confirmation", lambda d: (
                f"SAP confirmation {d.get('ConfirmationGroup')}/{d.get('ConfirmationCount')}"))
        return outcomes
    params = {"POST_WRONG_ENTRIES": "1", "TESTRUN": ""}
    if connector.connector_type == "sap_soap":
        service = connector._sap_soap_service()
        result = sap_soap.call(service, CONFIRMATION_BAPI, TIMETICKETS=sap_soap.table(tickets),
                               **params)
        outcomes.update(_confirmation_outcomes(result, ids, locks))
        return outcomes
    with connector._sap_rfc_session() as session:
        result = session.call(CONFIRMATION_BAPI, TIMETICKETS=tickets, **params)
        row_outcomes = _confirmation_outcomes(result, ids, locks)
        _commit_or_rollback(session, row_outcomes, locks)
    outcomes.update(row_outcomes)
    return outcomes


def _confirmation_outcomes(result, ids, locks):
    if not isinstance(result, dict):
        raise SapRetryableError(f"{CONFIRMATION_BAPI}: unreadable answer {str(result)[:200]}")
    by_row = defaultdict(list)
    for detail in result.get("DETAIL_RETURN") or []:
        by_row[int(detail.get("ROW") or 0)].append(detail)
    overall = result.get("RETURN") or {}
    outcomes = {}
    for row_number, message_id in enumerate(ids, start=1):
        details = by_row.get(row_number) or ([overall] if overall else [])
        try:
            raise_for_return(details, locks, CONFIRMATION_BAPI)
        except (SapBusinessError, SapRetryableError) as exc:
            outcomes[message_id] = exc
            continue
        posted = next((d for d in details if d.get("CONF_NO")), None)
        if posted is None:
            outcomes[message_id] = SapRetryableError(
                f"{CONFIRMATION_BAPI}: no confirmation number for row {row_number} "
                f"(answer: {str(result)[:300]})")
            continue
        outcomes[message_id] = (f"SAP confirmation {posted['CONF_NO']}/{posted.get('CONF_CNT')}"
                                f": {format_return(posted)}")[:250]
    return outcomes


def _commit_or_rollback(session, outcomes, locks):
    if any(isinstance(outcome, str) for outcome in outcomes.values()):
        commit = session.call("BAPI_TRANSACTION_COMMIT", WAIT="X")
        ret = (commit or {}).get("RETURN")
        raise_for_return([ret] if isinstance(ret, dict) else ret, locks,
                         "BAPI_TRANSACTION_COMMIT")
    else:
        session.call("BAPI_TRANSACTION_ROLLBACK")


# ----------------------------------------------------------- goods movements
def send_goods_movements(canonical_type, connector, rows, posting_date):
    built, outcomes = _build(rows, lambda payload, key: sap_bapi.goods_movement(
        canonical_type, payload, key, connector.sap_plant, connector.sap_storage_location,
        posting_date))
    if not built:
        return outcomes
    locks = connector._sap_lock_set()
    if connector.connector_type == "sap_odata":
        client = connector._sap_odata(connector.sap_odata_goods_movement_service)
        answers = _odata_post(client, "A_MaterialDocumentHeader",
                              [sap_bapi.goods_movement_odata(params) for _id, params in built])
        for (message_id, _params), (status, body) in zip(built, answers, strict=True):
            outcomes[message_id] = _odata_outcome(status, body, locks, "goods movement", lambda d: (
                f"SAP material document {d.get('MaterialDocument')}/"
                f"{d.get('MaterialDocumentYear')}"))
        return outcomes
    if connector.connector_type == "sap_soap":
        service = connector._sap_soap_service()
        for message_id, params in built:
            try:
                result = sap_soap.call(service, GOODS_MOVEMENT_BAPI, GOODSMVT_HEADER=params[
                    "GOODSMVT_HEADER"], GOODSMVT_CODE=params["GOODSMVT_CODE"],
                    GOODSMVT_ITEM=sap_soap.table(params["GOODSMVT_ITEM"]))
                outcomes[message_id] = _goods_movement_outcome(result, locks)
            except (SapBusinessError, SapRetryableError) as exc:
                outcomes[message_id] = exc
        return outcomes
    with connector._sap_rfc_session() as session:
        for message_id, params in built:
            try:
                result = session.call(GOODS_MOVEMENT_BAPI, TESTRUN="", **params)
                summary = _goods_movement_outcome(result, locks)
                _commit_or_rollback(session, {message_id: summary}, locks)
                outcomes[message_id] = summary
            except SapBusinessError as exc:
                session.call("BAPI_TRANSACTION_ROLLBACK")
                outcomes[message_id] = exc
            except SapRetryableError as exc:
                outcomes[message_id] = exc
    return outcomes


def _goods_movement_outcome(result, locks):
    if not isinstance(result, dict):
        raise SapRetryableError(f"{GOODS_MOVEMENT_BAPI}: unreadable answer {str(result)[:200]}")
    raise_for_return(result.get("RETURN") or [], locks, GOODS_MOVEMENT_BAPI)
    document = str(result.get("MATERIALDOCUMENT") or "").strip()
    if not document:
        raise SapRetryableError(f"{GOODS_MOVEMENT_BAPI}: answer without MATERIALDOCUMENT "
                                f"({str(result)[:300]})")
    return f"SAP material document {document}/{result.get('MATDOCUMENTYEAR')}"


# ------------------------------------------------ production order updates
def send_order_updates(connector, rows, posting_date):
    """Odoo-owned scheduling fields back to SAP (OData, optimistic locking with ETags)."""
    if connector.connector_type != "sap_odata":
        raise SapBusinessError("Production order updates go to SAP over OData only.")
    client = connector._sap_odata(connector.sap_odata_order_service)
    outcomes = {}
    for message_id, _key, payload in rows:
        order = sap_bapi.plain_number(payload.get("order_ref"))
        values = {"MfgOrderPlannedTotalQty": str(payload.get("qty"))}
        for name, field in (("date_start", "MfgOrderPlannedStartDate"),
                            ("date_end", "MfgOrderPlannedEndDate")):
            if payload.get(name):
                values[field] = payload[name]
        try:
            etag = client.update(f"A_ProductionOrder_2('{order}')", values)
            outcomes[message_id] = f"SAP order {order} updated (ETag {etag})"
        except (SapBusinessError, SapRetryableError) as exc:
            outcomes[message_id] = exc
    return outcomes


# ------------------------------------------------------------------ OData
def _odata_post(client, entity_set, bodies):
    """[(status, body)] for bodies: one POST for one body, one $batch for several."""
    if len(bodies) > 1:
        return client.batch_create(entity_set, bodies)
    response = client._modify("POST", entity_set, json=bodies[0],
                              headers={"Content-Type": "application/json"})
    if response.status_code in (401, 403):
        client.check(response, f"POST {entity_set}")
    try:
        return [(response.status_code, response.json())]
    except ValueError:
        return [(response.status_code, response.text)]


def _error_codes(body):
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return []
    details = (error.get("innererror") or {}).get("errordetails") or error.get("details") or []
    return [error.get("code")] + [d.get("code") for d in details if isinstance(d, dict)]


def _odata_outcome(status, body, locks, what, summarize):
    if status < 300:
        entity = body.get("d", body) if isinstance(body, dict) else None
        if not isinstance(entity, dict):
            return SapRetryableError(f"{what}: SAP answered HTTP {status} with an unreadable "
                                     f"body: {str(body)[:200]!r}")
        return summarize(entity)
    text = f"{what}: {batch_part_error(status, body)}"
    codes = parse_lock_messages(",".join(code for code in _error_codes(body) if code))
    if status in RETRYABLE_STATUS or codes & locks:
        return SapRetryableError(text)
    return SapBusinessError(text)


SENDERS = {
    "production.confirmation": send_confirmations,
    "material.consumption": partial(send_goods_movements, "material.consumption"),
    "goods.receipt": partial(send_goods_movements, "goods.receipt"),
    "production.order": send_order_updates,
}
