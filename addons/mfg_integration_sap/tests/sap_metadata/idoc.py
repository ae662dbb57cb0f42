"""Segment hierarchies of the IDoc types the tests send: LOIPRO05 and MATMAS05.

Source: the IDoc types as SAP documents them in transaction WE60 (IDoc documentation) and
as its IDoc-XML schema generator (WE60 > XML schema) lays them out: the document element is
the basic type (``LOIPRO05``), each ``IDOC BEGIN="1"`` holds the control record ``EDI_DC40``
first and then the data segments, each segment carries ``SEGMENT="1"``, its fields come
before its child segments. Parent/child relations of LOIPRO as SAP's own mappings read them
(SAP Digital Manufacturing's LOIPRO XSLTs: ``E1AFKOL/E1AFFLL/E1AFVOL``, ``E1AFKOL/E1AFPOL``,
``E1AFVOL/E1JSTVL``; ``E1AFKOL/E1AFFLL/E1AFVOL/E1RESBL``): operations hang under their
sequence, components under the operation they are assigned to. One order per LOIPRO IDoc
and one material per MATMAS IDoc (``E1AFKOL`` and ``E1MARAM`` are mandatory with maximum 1);
several IDocs travel in one document.

Only the segments and fields the integration reads or the tests send are listed; any
other segment, a segment under the wrong parent, a field the segment does not have, or a
field after a child segment is reported, as SAP's IDoc-XML inbound (and an XSD check)
would refuse it. Customer segments (``Z1...``) are accepted anywhere, as extensions are.
"""
from lxml import etree

CONTROL_FIELDS = {"TABNAM", "MANDT", "DOCNUM", "DOCREL", "STATUS", "DIRECT", "OUTMOD",
                  "IDOCTYP", "CIMTYP", "MESTYP", "SNDPOR", "SNDPRT", "SNDPRN", "RCVPOR",
                  "RCVPRT", "RCVPRN", "CREDAT", "CRETIM", "SERIAL"}


class Segment:
    def __init__(self, fields, children=(), min_occurs=0, max_occurs=None):
        self.fields = set(fields.split())
        self.children = {child.name: child for child in children}
        self.min_occurs, self.max_occurs = min_occurs, max_occurs
        self.name = None

    def named(self, name):
        self.name = name
        return self


def S(name, fields, *children, min_occurs=0, max_occurs=None):  # noqa: N802
    return Segment(fields, children, min_occurs, max_occurs).named(name)


LOIPRO05 = [
    S("E1AFKOL", "MSGFN AUFNR AUTYP AUART WERKS MATNR KTEXT GAMNG GMEIN GSTRS GSUZS GLTRS "
      "GLUZS GSTRP GLTRP GSTRI GLTRI PLNBEZ STLAL DISPO FEVOR",
      S("E1JSTKL", "STAT INACT"),
      S("E1AFPOL", "POSNR MATNR PSMNG AMEIN LTRMI"),
      S("E1AFFLL", "APLFL FLGAT PLNFL BEZFL",
        S("E1AFVOL", "VORNR LTXA1 ARBPL ARBID WERKS STEUS MGVRG MEINH LMNGA",
          S("E1JSTVL", "STAT INACT"),
          S("E1RESBL", "RSNUM RSPOS POSNR MATNR WERKS LGORT CHARG BDMNG MEINS RGEKZ "
            "BWART"))),
      min_occurs=1, max_occurs=1),
]

MATMAS05 = [
    S("E1MARAM", "MSGFN MATNR MTART MBRSH MATKL MEINS LVORM BRGEW NTGEW GEWEI",
      S("E1MAKTM", "MSGFN SPRAS MAKTX SPRAS_ISO"),
      S("E1MARCM", "MSGFN WERKS DISPO BESKZ SOBSL",
        S("E1MARDM", "MSGFN LGORT")),
      S("E1MARMM", "MSGFN MEINH UMREZ UMREN"),
      min_occurs=1, max_occurs=1),
]

BASIC_TYPES = {"LOIPRO05": ("LOIPRO", LOIPRO05), "MATMAS05": ("MATMAS", MATMAS05)}


def idoc_problems(data):
    """Everything in an IDoc-XML document that its published segment hierarchy does not
    allow; [] when it conforms."""
    root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
    if etree.QName(root).localname == "Envelope":
        root = next(child for child in root.iter() if isinstance(child.tag, str)
                    and etree.QName(child).localname in BASIC_TYPES)
    basic_type = etree.QName(root).localname
    if basic_type not in BASIC_TYPES:
        return [f"unknown basic type {basic_type}"]
    message_type, segments = BASIC_TYPES[basic_type]
    problems = []
    idocs = [child for child in root if isinstance(child.tag, str)]
    for number, idoc in enumerate(idocs, 1):
        where = f"{basic_type}/IDOC[{number}]"
        if etree.QName(idoc).localname != "IDOC" or idoc.get("BEGIN") != "1":
            problems.append(f"{where}: expected <IDOC BEGIN=\"1\">")
            continue
        children = [child for child in idoc if isinstance(child.tag, str)]
        if not children or etree.QName(children[0]).localname != "EDI_DC40":
            problems.append(f"{where}: the control record EDI_DC40 comes first")
        else:
            control = children.pop(0)
            names = {etree.QName(field).localname: (field.text or "").strip()
                     for field in control}
            problems += [f"{where}/EDI_DC40: no field {name}"
                         for name in sorted(set(names) - CONTROL_FIELDS)]
            if names.get("IDOCTYP") != basic_type:
                problems.append(f"{where}/EDI_DC40: IDOCTYP {names.get('IDOCTYP')!r} "
                                f"is not {basic_type}")
            if names.get("MESTYP") != message_type:
                problems.append(f"{where}/EDI_DC40: MESTYP {names.get('MESTYP')!r} "
                                f"is not {message_type}")
        problems += _segments(children, {s.name: s for s in segments}, where)
    return problems


def _segments(elements, allowed, where):
    problems, counts = [], {}
    for element in elements:
        name = etree.QName(element).localname
        counts[name] = counts.get(name, 0) + 1
        if name.startswith("Z1"):
            continue
        segment = allowed.get(name)
        if segment is None:
            problems.append(f"{where}: segment {name} is not allowed here "
                            f"(allowed: {', '.join(sorted(allowed)) or 'none'})")
            continue
        path = f"{where}/{name}"
        if element.get("SEGMENT") != "1":
            problems.append(f"{path}: missing SEGMENT=\"1\"")
        fields_done = False
        child_segments = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            child_name = etree.QName(child).localname
            if len(child):  # a segment
                fields_done = True
                child_segments.append(child)
            elif child_name in segment.children:
                fields_done = True  # an empty child segment
                child_segments.append(child)
            elif fields_done:
                problems.append(f"{path}: field {child_name} after a child segment")
            elif child_name not in segment.fields:
                problems.append(f"{path}: segment {name} has no field {child_name}")
        problems += _segments(child_segments, segment.children, path)
    for name, segment in allowed.items():
        count = counts.get(name, 0)
        if count < segment.min_occurs:
            problems.append(f"{where}: segment {name} is mandatory")
        if segment.max_occurs is not None and count > segment.max_occurs:
            problems.append(f"{where}: segment {name} occurs {count} times "
                            f"(at most {segment.max_occurs})")
    return problems
