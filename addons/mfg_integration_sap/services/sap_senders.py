"""Send batches of outbound canonical messages to SAP, per type and transport.

Each sender takes (connector, [Row]) and returns {message id: summary text | exception}.
A row-level refusal is that row's exception; a failure of the whole call propagates and the
caller gives it to every row of the call. The message key travels as SAP's external
reference (CONF_TEXT, HEADER_TXT). Standard SAP does not deduplicate on it, so a row that
was sent before (``resend``: its outcome may be unknown) is first looked up in SAP by that
reference (services/sap_lookup.py) and only sent when SAP does not have it.

Who books goods movements is the connector's choice (``sap_goods_movements``): "sap" - SAP
backflushes and posts the automatic goods receipt from each confirmation, and consumption /
receipt messages are not posted again; "odoo" - Odoo posts each goods movement, and OData
confirmations carry APIConfHasNoGoodsMovements. BAPI confirmations have no such switch: over
RFC/SOAP each order's components are read first (BAPI_PRODORD_GET_DETAIL) and a confirmation
of an order with backflushed components is refused rather than consuming them twice; the
automatic goods receipt cannot be read there and must be off in SAP (docs/sap-interfaces.md).
"""
from collections import defaultdict, namedtuple
from functools import partial

from . import sap_bapi, sap_lookup, sap_soap
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
# ' ': rows with errors are neither posted nor put in SAP's error pool: the addon owns the
# retry (its backoff, its exception queue). '1'/'2' would also park them in COGI/CO16N,
# where a planner's reprocessing would post what the addon retries - twice.
POST_WRONG_ENTRIES = " "
NOT_POSTED = "0000000000"

Row = namedtuple("Row", "message_id key payload posting_date resend")


def _build(rows, builder):
    """[(row, built params)] and {id: exception} of rows whose payload SAP cannot take."""
    built, outcomes = [], {}
    for row in rows:
        try:
            built.append((row, builder(row)))
        except SapBusinessError as exc:
            outcomes[row.message_id] = exc
    return built, outcomes


def _caller(connector, session=None):
    if session is not None:
        return session.call
    service = connector._sap_soap_service()

    def call(function, **params):
        # ABAP tables travel as <item> sequences in SAP's WSDLs.
        return sap_soap.call(service, function, **{
            name: sap_soap.table(value) if isinstance(value, list) else value
            for name, value in params.items()})
    return call


# ------------------------------------------------------------- confirmations
def send_confirmations(connector, rows):
    built, outcomes = _build(rows, lambda row: sap_bapi.confirmation_timeticket(
        row.payload, row.key, connector.sap_plant, row.posting_date))
    if not built:
        return outcomes
    locks = connector._sap_lock_set()
    if connector.connector_type == "sap_odata":
        client = connector._sap_odata(connector.sap_odata_confirmation_service)
        todo = []
        for row, ticket in built:
            found = row.resend and sap_lookup.odata_confirmation_by_text(
                client, ticket["ORDERID"], ticket["CONF_TEXT"])
            if found:
                outcomes[row.message_id] = _already("confirmation", found)
            else:
                todo.append((row, ticket))
        if not todo:
            return outcomes
        no_goods = connector.sap_goods_movements == "odoo"
        answers = _odata_post(client, "ProdnOrdConf2", [
            sap_bapi.confirmation_odata(ticket, no_goods) for _row, ticket in todo])
        for (row, _ticket), (status, body) in zip(todo, answers, strict=True):
            outcomes[row.message_id] = _odata_outcome(status, body, locks, "confirmation",
                                                      lambda d: (
                f"SAP confirmation {d.get('ConfirmationGroup')}/{d.get('ConfirmationCount')}"))
        return outcomes
    odoo_books_goods = connector.sap_goods_movements == "odoo"
    if connector.connector_type == "sap_soap":
        outcomes.update(_send_tickets(_caller(connector), built, locks, None, odoo_books_goods))
        return outcomes
    with connector._sap_rfc_session() as session:
        outcomes.update(_send_tickets(session.call, built, locks, session, odoo_books_goods))
    return outcomes


def _send_tickets(call, built, locks, session, odoo_books_goods):
    outcomes, todo = {}, []
    for row, ticket in built:
        found = row.resend and sap_lookup.confirmation_by_text(call, ticket["ORDERID"],
                                                               ticket["CONF_TEXT"])
        if found:
            outcomes[row.message_id] = _already("confirmation", found)
        else:
            todo.append((row, ticket))
    if odoo_books_goods:
        todo = _without_backflushed_orders(call, todo, outcomes)
    if not todo:
        return outcomes
    tickets = [ticket for _row, ticket in todo]
    params = {"POST_WRONG_ENTRIES": POST_WRONG_ENTRIES, "TESTRUN": ""}
    result = call(CONFIRMATION_BAPI, TIMETICKETS=tickets, **params)
    row_outcomes = _confirmation_outcomes(result, [row.message_id for row, _t in todo], locks)
    if session is not None:
        _commit_or_rollback(session, row_outcomes, locks)
    outcomes.update(row_outcomes)
    return outcomes


def _without_backflushed_orders(call, todo, outcomes):
    """The rows whose order SAP would not backflush; the others get their refusal.

    A confirmation without GOODSMOVEMENTS makes SAP backflush the order's flagged components
    (its standard logic); Odoo books the same consumption with its own 261, so confirming
    such an order would consume the components twice."""
    backflushed = {}
    kept = []
    for row, ticket in todo:
        order = ticket["ORDERID"]
        if order not in backflushed:
            try:
                backflushed[order] = sap_lookup.backflushed_components(call, order)
            except SapBusinessError as exc:
                raise SapBusinessError(
                    f"Odoo books this connector's goods movements, so the order's backflush "
                    f"indicators are read (BAPI_PRODORD_GET_DETAIL) before confirming, and "
                    f"that failed: {exc}. Give the service or RFC user that BAPI, or let SAP "
                    f"book the goods movements.") from None
        materials = backflushed[order]
        if materials:
            outcomes[row.message_id] = SapBusinessError(
                f"Not confirmed: SAP would backflush {', '.join(sorted(set(materials)))} of "
                f"order {sap_bapi.plain_number(order)} with this confirmation, and Odoo books "
                f"the goods movements of this connector - they would be consumed twice. "
                f"Clear the backflush indicator of these components in SAP (order, routing "
                f"or material master), or let SAP book the goods movements; then Retry.")
        else:
            kept.append((row, ticket))
    return kept


def _already(what, found):
    number, counter = found
    return f"SAP {what} {number}/{counter} was already posted by an earlier send (found by " \
           "its reference; not sent again)"


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
        # CONF_NO "0000000000" (or empty) means SAP did not post this row.
        posted = next((d for d in details if str(d.get("CONF_NO") or "").strip("0 ")), None)
        if posted is None:
            outcomes[message_id] = SapRetryableError(
                f"{CONFIRMATION_BAPI}: row {row_number} was not posted (no confirmation "
                f"number; answer: {str(result)[:300]})")
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
def send_goods_movements(canonical_type, connector, rows):
    if connector.sap_goods_movements != "odoo":
        return {row.message_id: "Not sent: SAP books the goods movements of this connector's "
                "orders from their confirmations (backflush, automatic goods receipt)"
                for row in rows}
    # A warehouse receipt (a validated PO receipt in Odoo) has no production order: the
    # BAPI call here would book it as a production receipt (MVT_IND F). Recorded, not sent.
    outcomes = {row.message_id: "Not sent: only goods movements of production orders go to "
                "SAP through this connector; this one has no order (a warehouse receipt)"
                for row in rows if not row.payload.get("order_ref")}
    rows = [row for row in rows if row.message_id not in outcomes]
    built, more = _build(rows, lambda row: sap_bapi.goods_movement(
        canonical_type, row.payload, row.key, connector.sap_plant,
        connector.sap_storage_location, row.posting_date))
    outcomes.update(more)
    if not built:
        return outcomes
    locks = connector._sap_lock_set()
    if connector.connector_type == "sap_odata":
        client = connector._sap_odata(connector.sap_odata_goods_movement_service)
        todo = []
        for row, params in built:
            found = row.resend and sap_lookup.odata_document_by_text(
                client, params["GOODSMVT_HEADER"]["HEADER_TXT"])
            if found:
                outcomes[row.message_id] = _already("material document", found)
            else:
                todo.append((row, params))
        if not todo:
            return outcomes
        answers = _odata_post(client, "A_MaterialDocumentHeader",
                              [sap_bapi.goods_movement_odata(params) for _row, params in todo])
        for (row, _params), (status, body) in zip(todo, answers, strict=True):
            outcomes[row.message_id] = _odata_outcome(status, body, locks, "goods movement",
                                                      lambda d: (
                f"SAP material document {d.get('MaterialDocument')}/"
                f"{d.get('MaterialDocumentYear')}"))
        return outcomes
    if connector.connector_type == "sap_soap":
        outcomes.update(_send_documents(_caller(connector), built, locks, None))
        return outcomes
    with connector._sap_rfc_session() as session:
        outcomes.update(_send_documents(session.call, built, locks, session))
    return outcomes


def _send_documents(call, built, locks, session):
    outcomes = {}
    for row, params in built:
        try:
            found = row.resend and sap_lookup.document_by_text(
                call, params["GOODSMVT_ITEM"][0], params["GOODSMVT_HEADER"]["HEADER_TXT"])
            if found:
                outcomes[row.message_id] = _already("material document", found)
                continue
            if session is None:  # SOAP: each call is its own LUW
                result = call(GOODS_MOVEMENT_BAPI, **params)
                outcomes[row.message_id] = _goods_movement_outcome(result, locks)
                continue
            result = call(GOODS_MOVEMENT_BAPI, TESTRUN="", **params)
            summary = _goods_movement_outcome(result, locks)
            _commit_or_rollback(session, {row.message_id: summary}, locks)
            outcomes[row.message_id] = summary
        except SapBusinessError as exc:
            if session is not None:
                session.call("BAPI_TRANSACTION_ROLLBACK")
            outcomes[row.message_id] = exc
        except SapRetryableError as exc:
            outcomes[row.message_id] = exc
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
def send_order_updates(connector, rows):
    """Odoo-owned scheduling fields back to SAP (OData, optimistic locking with ETags)."""
    if connector.connector_type != "sap_odata":
        raise SapBusinessError("Production order updates go to SAP over OData only.")
    client = connector._sap_odata(connector.sap_odata_order_service)
    outcomes = {}
    for row in rows:
        payload = row.payload
        order = sap_bapi.plain_number(payload.get("order_ref"))
        try:
            values = {"TotalQuantity": sap_bapi.edm_decimal(payload.get("qty"))}
            for name, prefix in (("date_start", "MfgOrderPlannedStart"),
                                 ("date_end", "MfgOrderPlannedEnd")):
                if payload.get(name):
                    local = sap_bapi.sap_local(sap_bapi.odata_datetime(payload[name]),
                                               connector.sap_timezone)
                    values[f"{prefix}Date"] = sap_bapi.edm_date(local)
                    values[f"{prefix}Time"] = sap_bapi.edm_time(local)
            etag = client.update(f"A_ProductionOrder_2('{order}')", values)
            outcomes[row.message_id] = f"SAP order {order} updated (ETag {etag})"
        except (SapBusinessError, SapRetryableError) as exc:
            outcomes[row.message_id] = exc
        except (TypeError, ValueError) as exc:
            outcomes[row.message_id] = SapBusinessError(f"order {order}: {exc}")
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
