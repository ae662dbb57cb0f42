"""IDoc-XML (LOIPRO production orders, MATMAS material master) -> plain dicts.

Parsed with a hardened lxml parser (no entities, no network, no DTD): IDocs arrive over an
authenticated but external HTTP endpoint.
"""
from lxml import etree

from .sap_bapi import plain_number, sap_date_time

# System status codes of an order (JEST/E1JSTKL): deleted or flagged for deletion.
DELETED_STATUSES = {"I0076", "I0013"}
RELEASED_STATUS = "I0002"
MAX_IDOC_BYTES = 20 * 1024 * 1024


class IdocError(ValueError):
    """The document is not an IDoc we can read; the text says why (sent back as HTTP 400)."""


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, dtd_validation=False,
                           load_dtd=False, huge_tree=False, remove_blank_text=True)


def parse(data):
    """Return (message type, [idoc element]) of an IDoc-XML document."""
    if not data:
        raise IdocError("empty body: expected an IDoc-XML document")
    if len(data) > MAX_IDOC_BYTES:
        raise IdocError(f"document of {len(data)} bytes exceeds {MAX_IDOC_BYTES}")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise IdocError(f"not well-formed XML: {exc}") from None
    root = _unwrapped(root)
    idocs = root.findall("IDOC")
    if not idocs:
        raise IdocError(f"root <{root.tag}> has no <IDOC> element")
    message_types = set()
    for idoc in idocs:
        control = idoc.find("EDI_DC40")
        if control is None:
            raise IdocError("an <IDOC> lacks its control record <EDI_DC40>")
        message_types.add(_text(control, "MESTYP") or root.tag.rstrip("0123456789"))
    if len(message_types) != 1:
        raise IdocError(f"mixed message types in one document: {sorted(message_types)}")
    return message_types.pop(), idocs


def _unwrapped(root):
    """The IDoc document without namespaces and without a SOAP envelope: an IDoc sent
    through SAP's SOAP port (SOAMANAGER / PI) arrives as
    ``soap:Envelope/soap:Body/ns:LOIPRO05`` with namespaced elements."""
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = etree.QName(element).localname
    if root.tag == "Envelope":
        body = root.find("Body")
        documents = [child for child in body if isinstance(child.tag, str)] \
            if body is not None else []
        if len(documents) != 1:
            raise IdocError("SOAP envelope: expected exactly one IDoc document in its Body")
        root = documents[0]
    return root


def _text(element, tag, default=""):
    child = element.find(tag)
    return (child.text or "").strip() if child is not None and child.text else default


def _number(element, tag):
    text = _text(element, tag)
    try:
        return float(text) if text else 0.0
    except ValueError:
        raise IdocError(f"<{tag}> is not a number: {text!r}") from None


def loipro_orders(idocs, tz_name="UTC"):
    """LOIPRO IDocs -> [(docnum, normalized order dict)] (see sap_bapi.order_payload).

    Segment hierarchy of LOIPRO05 (WE60): E1AFKOL (order header) > E1AFFLL (sequence) >
    E1AFVOL (operation) > E1RESBL (component assigned to that operation). Dates and times
    (GSTRS/GSUZS, GLTRS/GLUZS) are the plant's local time, ``tz_name``."""
    orders = []
    for idoc in idocs:
        docnum = plain_number(_text(idoc.find("EDI_DC40"), "DOCNUM"))
        for header in idoc.findall("E1AFKOL"):
            order_ref = plain_number(_text(header, "AUFNR"))
            product = plain_number(_text(header, "MATNR"))
            if not order_ref or not product:
                raise IdocError(f"IDoc {docnum}: E1AFKOL needs AUFNR and MATNR")
            statuses = {_text(status, "STAT") for status in header.findall("E1JSTKL")}
            try:
                date_start = sap_date_time(_text(header, "GSTRS"), _text(header, "GSUZS"),
                                           tz_name)
                date_end = sap_date_time(_text(header, "GLTRS"), _text(header, "GLUZS"),
                                         tz_name)
            except ValueError as exc:
                raise IdocError(f"IDoc {docnum} order {order_ref}: bad date: {exc}") from None
            operations = [{
                "name": _text(op, "LTXA1") or _text(op, "VORNR"),
                "work_center": _text(op, "ARBPL"),
                "sequence": int(_text(op, "VORNR") or 0),
            } for op in header.findall("E1AFFLL/E1AFVOL") if _text(op, "ARBPL")]
            components = [{
                "product": plain_number(_text(res, "MATNR")),
                "qty": _number(res, "BDMNG"),
                "uom": _text(res, "MEINS"),
            } for res in header.findall("E1AFFLL/E1AFVOL/E1RESBL") if _text(res, "MATNR")]
            orders.append((docnum, {
                "order_ref": order_ref,
                "product": product,
                "qty": _number(header, "GAMNG"),
                "uom": _text(header, "GMEIN"),
                "plant": _text(header, "WERKS"),
                "date_start": date_start,
                "date_end": date_end,
                "version": f"IDOC{docnum}",
                "deleted": bool(statuses & DELETED_STATUSES),
                "released": RELEASED_STATUS in statuses,
                "operations": operations,
                "components": components,
            }))
    return orders


def matmas_materials(idocs, language="EN"):
    """MATMAS IDocs -> [{"material", "description", "base_uom", "material_type",
    "deleted", "plants"}]."""
    materials = []
    for idoc in idocs:
        for mara in idoc.findall("E1MARAM"):
            number = plain_number(_text(mara, "MATNR"))
            if not number:
                raise IdocError("E1MARAM without MATNR")
            descriptions = {(_text(m, "SPRAS_ISO") or _text(m, "SPRAS")).upper(): _text(m, "MAKTX")
                            for m in mara.findall("E1MAKTM")}
            description = descriptions.get(language.upper()) or next(
                iter(descriptions.values()), "")
            materials.append({
                "material": number,
                "description": description,
                "base_uom": _text(mara, "MEINS"),
                "material_type": _text(mara, "MTART"),
                "deleted": _text(mara, "LVORM").upper() == "X",
                "plants": [_text(m, "WERKS") for m in mara.findall("E1MARCM")],
            })
    return materials
