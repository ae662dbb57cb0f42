"""B2MML XML <-> B2MML-JSON, element for element.

MESA's B2MML-JSON (``Schema/AllSchemas.json``, generated from the XSDs) names every element
as in XML, attributes with ``@``, an element's own text ``$`` (or the plain value when it has
no attribute), and repeatable elements as arrays. Building keeps the insertion order of
the dicts, which the builders write in the XSD's sequence order; reading accepts a single
element where an array is allowed (XML does not say which is which)."""
from lxml import etree

NAMESPACE = "http://www.mesa.org/xml/B2MML"
MAX_BYTES = 20 * 1024 * 1024


class B2mmlError(ValueError):
    """The document is not B2MML this integration reads; the text says why."""


def to_xml(document):
    """{"ProcessOperationsSchedule": {...}} -> XML bytes in the B2MML namespace."""
    (name, body), = document.items()
    root = _element(name, body)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _element(name, body, parent=None):
    tag = f"{{{NAMESPACE}}}{name}"
    element = etree.Element(tag, nsmap={None: NAMESPACE}) if parent is None \
        else etree.SubElement(parent, tag)
    if isinstance(body, dict):
        for key, value in body.items():
            if key.startswith("@"):
                element.set(key[1:], _text(value))
            elif key == "$":
                element.text = _text(value)
            else:
                for item in value if isinstance(value, list) else [value]:
                    _element(key, item, element)
    elif body is not None:
        element.text = _text(body)
    return element


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_blank_text=True, remove_comments=True)


def from_xml(data):
    """XML bytes -> B2MML-JSON dict; namespaces dropped, a repeated element becomes a list."""
    if not data:
        raise B2mmlError("empty body: expected a B2MML document")
    if len(data) > MAX_BYTES:
        raise B2mmlError(f"document of {len(data)} bytes exceeds {MAX_BYTES}")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise B2mmlError(f"not well-formed XML: {exc}") from None
    if etree.QName(root).namespace != NAMESPACE:
        raise B2mmlError(f"root <{etree.QName(root).localname}> is not in the B2MML namespace "
                         f"{NAMESPACE}")
    return {etree.QName(root).localname: _value(root)}


def _value(element):
    children = [child for child in element if isinstance(child.tag, str)]
    attributes = {f"@{etree.QName(name).localname}": value
                  for name, value in element.attrib.items()}
    text = (element.text or "").strip()
    if not children:
        if attributes:
            return {**attributes, "$": text} if text else attributes
        return text
    body = dict(attributes)
    for child in children:
        name = etree.QName(child).localname
        value = _value(child)
        if name in body:
            if not isinstance(body[name], list):
                body[name] = [body[name]]
            body[name].append(value)
        else:
            body[name] = value
    return body


# ------------------------------------------------------------- reading helpers
def many(node, name):
    """The elements ``name`` of ``node`` as a list, whether one was sent or several."""
    if not isinstance(node, dict) or node.get(name) is None:
        return []
    value = node[name]
    return value if isinstance(value, list) else [value]


def one(node, name):
    values = many(node, name)
    return values[0] if values else None


def text(node, name=None, default=None):
    """The text of element ``name`` of ``node`` (or of ``node`` itself)."""
    value = one(node, name) if name else node
    if isinstance(value, dict):
        value = value.get("$")
    if value is None or value == "":
        return default
    return str(value).strip()


def attribute(node, name, attr):
    value = one(node, name)
    return value.get(f"@{attr}") if isinstance(value, dict) else None
