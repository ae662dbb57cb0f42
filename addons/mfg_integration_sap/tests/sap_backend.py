"""An in-memory SAP for the tests and the benchmark: orders, confirmations, material
documents, locks, a ledger of every quantity booked - and the RFC face of it (a
pyrfc-compatible ``Connection`` that checks each call against the published signatures).

The business rules follow SAP's documentation, not the addon (see tests/sap_metadata/ and
docs/sap-interfaces.md):
- BAPI_PRODORDCONF_CREATE_TT: FIN_CONF ' ' partial, '1' automatic final, 'X' final;
  POST_WRONG_ENTRIES ' '/'0' posts the good rows and drops the bad ones, '1' puts rows with
  wrong data in the error pool (COGI/CO16N reprocesses them later), '2' every failed row;
  a row that was not posted answers CONF_NO '0000000000'. Without GOODSMOVEMENTS a
  confirmation books the order's backflush components (261) and, when the order has
  automatic goods receipt, the yield (101) - SAP's standard logic.
- No duplicate check on CONF_TEXT or HEADER_TXT: standard SAP posts what it is sent, twice
  if it is sent twice. Postings only count after BAPI_TRANSACTION_COMMIT (RFC).
- Values as pyrfc hands them over, without conversion exits: materials with ALPHA zeros,
  units in SAP's internal code, batches as stored (upper case).
No Odoo import: the benchmark uses it as well.
"""
import threading
from collections import Counter
from datetime import date, datetime, timezone

from .sap_metadata.bapi import INTERNAL_UNITS

NOT_POSTED = "0000000000"


def ret(type_, id_, number, message, **extra):
    row = {"TYPE": type_, "ID": id_, "NUMBER": number, "MESSAGE": message,
           "MESSAGE_V1": "", "MESSAGE_V2": "", "MESSAGE_V3": "", "MESSAGE_V4": ""}
    row.update(extra)
    return row


def material_problem(item):
    """Why SAP would not find the material of a goods movement item (None when it would)."""
    material = str(item.get("MATERIAL_LONG") or item.get("MATERIAL") or "")
    if material.isdigit() and len(material) != 18 and not item.get("MATERIAL_LONG"):
        return f"Material {material} does not exist (no ALPHA conversion over RFC)"
    if material != material.upper():
        return f"Material {material} does not exist"
    return None


class SapBackend:
    def __init__(self, tz="UTC"):
        self.lock = threading.RLock()
        self.tz = tz                # the plant's time zone: dates and times are local
        self.orders = {}            # "1000123" -> dict (OData names, python values)
        self.confirmations = []     # committed confirmations (dicts)
        self.material_documents = []  # committed material documents (dicts)
        self.error_pool = []        # time tickets kept as incorrect (COGI/CO16N)
        self.locked = {}            # order -> how many more calls find it locked
        self.products = []          # A_Product entities
        self.boms = []              # MaterialBOM entities (with to_BillOfMaterialItem)
        self.calls = []             # (function, rows) log
        self.next_conf = 5000
        self.next_doc = 4900000000

    # ---------------------------------------------------------------- orders
    def add_order(self, number, material="SB-200", qty=100.0, unit="ST", plant="1010",
                  changed=None, released=True, deleted=False, components=(), auto_gr=False,
                  start=datetime(2026, 11, 24, 6, 0), end=datetime(2026, 11, 25, 14, 0)):
        """``components``: [(material, qty per unit of the header, unit, backflush)]."""
        changed = changed or datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
        self.orders[number] = {
            "ManufacturingOrder": number, "Material": material, "ProductionPlant": plant,
            "TotalQuantity": str(qty), "ProductionUnit": unit,
            "start": start, "end": end,  # plant-local, naive
            "LastChangeDateTime": changed, "OrderIsReleased": released,
            "OrderIsMarkedForDeletion": deleted, "etag_version": 1,
            "components": [dict(zip(("material", "qty", "unit", "backflush"), c, strict=True))
                           for c in components],
            "auto_gr": auto_gr,
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
    def _ticket_error(self, ticket, row):
        order = str(ticket.get("ORDERID", "")).lstrip("0")
        error = self._order_check(order, {"ROW": row})
        if error is not None:
            return error, "lock" if error.get("FLG_LOCKED") else "data"
        fin_conf = ticket.get("FIN_CONF", " ") or " "
        if fin_conf not in (" ", "1", "X"):
            return ret("E", "RU", "122", f"Final confirmation indicator '{fin_conf}' is not "
                       "allowed (' ', '1', 'X')", ROW=row), "data"
        unit = ticket.get("CONF_QUAN_UNIT", "")
        if unit not in INTERNAL_UNITS:
            return ret("E", "RU", "024", f"Unit {unit} is not defined (internal unit code "
                       "expected)", ROW=row), "data"
        if float(ticket.get("YIELD") or 0) > float(self.orders[order]["TotalQuantity"]) * 10:
            return ret("E", "RU", "170", f"Yield {ticket['YIELD']} exceeds the tolerance of "
                       f"order {order}", ROW=row), "data"
        return None, None

    def confirm(self, tickets, post_wrong_entries=" ", goods_movements=None, links=None,
                no_goods_movements=False):
        """BAPI_PRODORDCONF_CREATE_TT: returns (RETURN, DETAIL_RETURN, postings)."""
        with self.lock:
            self.calls.append(("BAPI_PRODORDCONF_CREATE_TT", len(tickets)))
            mode = (post_wrong_entries or " ").strip() or "0"
            details, postings, errors = [], [], 0
            linked = {}
            for link in links or ():
                linked.setdefault(int(link["INDEX_CONFIRM"]), []).append(
                    (goods_movements or [])[int(link["INDEX_GOODSMOV"]) - 1])
            for row, ticket in enumerate(tickets, start=1):
                error, kind = self._ticket_error(ticket, row)
                if error is not None:
                    errors += 1
                    error.update(CONF_NO=NOT_POSTED, CONF_CNT="00000000")
                    details.append(error)
                    if mode == "2" or (mode == "1" and kind == "data"):
                        postings.append(("pool", ticket))
                    continue
                self.next_conf += 1
                conf_no, conf_cnt = f"{self.next_conf:010d}", "00000001"
                postings.append(("conf", dict(ticket, CONF_NO=conf_no, CONF_CNT=conf_cnt,
                                              goods=self._confirmation_goods(
                                                  ticket, linked.get(row),
                                                  no_goods_movements))))
                details.append(ret("S", "RU", "100", f"Confirmation of order "
                                   f"{ticket['ORDERID'].lstrip('0')} saved", ROW=row,
                                   CONF_NO=conf_no, CONF_CNT=conf_cnt))
            overall = ret("E", "RU", "505", "Not all confirmations could be posted") if errors \
                else ret("S", "RU", "100", f"{len(postings)} confirmation(s) saved")
            return overall, details, postings

    def _confirmation_goods(self, ticket, given, no_goods_movements):
        """The goods movements a confirmation books: the ones given with it, or SAP's
        standard backflush and automatic goods receipt when none were given."""
        if given:
            return [dict(item, origin="confirmation") for item in given]
        if no_goods_movements:
            return []
        order = self.orders[ticket["ORDERID"].lstrip("0")]
        quantity = float(ticket.get("YIELD") or 0) + float(ticket.get("SCRAP") or 0)
        items = [{"MATERIAL": c["material"], "MOVE_TYPE": "261", "ENTRY_QNT": c["qty"] * quantity,
                  "ENTRY_UOM": c["unit"], "ORDERID": ticket["ORDERID"], "origin": "backflush"}
                 for c in order["components"] if c["backflush"] and quantity]
        if order["auto_gr"] and float(ticket.get("YIELD") or 0):
            items.append({"MATERIAL": order["Material"], "MOVE_TYPE": "101",
                          "ENTRY_QNT": float(ticket["YIELD"]), "ENTRY_UOM": order[
                              "ProductionUnit"], "ORDERID": ticket["ORDERID"],
                          "origin": "auto_gr"})
        return items

    def commit_confirmations(self, postings):
        with self.lock:
            for kind, record in postings:
                if kind == "pool":
                    self.error_pool.append(record)
                    continue
                goods = record.pop("goods")
                self.confirmations.append(record)
                if goods:
                    self._store_document({"HEADER_TXT": "", "PSTNG_DATE": record.get(
                        "POSTG_DATE", "")}, goods, conf=(record["CONF_NO"], record["CONF_CNT"]))

    def reprocess_error_pool(self):
        """A planner corrects the pooled confirmations in CO16N: SAP posts them now."""
        with self.lock:
            pool, self.error_pool = self.error_pool, []
            for ticket in pool:
                self.next_conf += 1
                self.commit_confirmations([("conf", dict(
                    ticket, CONF_NO=f"{self.next_conf:010d}", CONF_CNT="00000001",
                    goods=self._confirmation_goods(ticket, None, False)))])

    # ------------------------------------------------------- goods movements
    def goods_movement(self, header, code, items):
        """BAPI_GOODSMVT_CREATE: returns (doc number, year, RETURN rows, posting)."""
        with self.lock:
            self.calls.append(("BAPI_GOODSMVT_CREATE", len(items)))
            expected = {"03": "261", "02": "101"}.get(code.get("GM_CODE"))
            for item in items:
                if item.get("MOVE_TYPE") != expected:
                    return "", "0000", [ret("E", "M7", "092", f"Movement type "
                                            f"{item.get('MOVE_TYPE')} not allowed with "
                                            f"GM_CODE {code.get('GM_CODE')}")], None
                error = self._order_check(str(item.get("ORDERID", "")), {})
                if error is not None:
                    return "", "0000", [error], None
                problem = material_problem(item)
                if problem:
                    return "", "0000", [ret("E", "M3", "305", problem)], None
                if item.get("ENTRY_UOM") not in INTERNAL_UNITS:
                    return "", "0000", [ret("E", "M7", "002", f"Unit {item.get('ENTRY_UOM')} "
                                            "is not defined")], None
                batch = str(item.get("BATCH") or "")
                if batch != batch.upper():
                    return "", "0000", [ret("E", "M7", "042", f"Batch {batch} does not "
                                            "exist")], None
                if float(item.get("ENTRY_QNT") or 0) > 1000:
                    material = str(item.get("MATERIAL", "")).lstrip("0")
                    return "", "0000", [ret("E", "M7", "021", f"Deficit of SL Unrestricted-use "
                                            f"{item['ENTRY_QNT']} ST : {material} 1010 0001")], None
            self.next_doc += 1
            number, year = str(self.next_doc), "2026"
            posting = (dict(header), [dict(item, origin="api") for item in items], number)
            return number, year, [], posting

    def commit_document(self, posting):
        with self.lock:
            if posting:
                header, items, number = posting
                self._store_document(header, items, number=number)

    def _store_document(self, header, items, number=None, conf=None):
        if number is None:
            self.next_doc += 1
            number = str(self.next_doc)
        self.material_documents.append({
            "number": number, "year": "2026", "header_txt": header.get("HEADER_TXT", ""),
            "posting_date": header.get("PSTNG_DATE", ""), "items": items, "conf": conf})

    # ----------------------------------------------------------- read backs
    def document_texts(self):
        return [doc["header_txt"] for doc in self.material_documents]

    def ledger(self):
        """Every quantity booked: {(order, material, movement type): quantity}, and the
        confirmed yield per order under (order, "yield", "")."""
        with self.lock:
            booked = Counter()
            for doc in self.material_documents:
                for item in doc["items"]:
                    material = str(item.get("MATERIAL_LONG") or item.get("MATERIAL")).lstrip("0")
                    booked[(str(item.get("ORDERID", "")).lstrip("0"), material,
                            item["MOVE_TYPE"])] += float(item["ENTRY_QNT"])
            for conf in self.confirmations:
                booked[(conf["ORDERID"].lstrip("0"), "yield", "")] += float(conf["YIELD"])
            return dict(booked)

    def order_confirmations(self, order):
        return [c for c in self.confirmations if c["ORDERID"].lstrip("0") == order.lstrip("0")]

    def local_date(self, stamp):
        return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
