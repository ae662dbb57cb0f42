"""Units of measure as UN/ECE Recommendation 20 common codes (what OPC UA's EUInformation
and B2MML's UnitOfMeasure carry), and how v1's free-text units reach them.

Source: UN/ECE Recommendation No. 20, "Codes for Units of Measure Used in International
Trade" (Revision 17, annexes I-III): the common codes below are copied from its code list.
Only the units of manufacturing are listed; any other valid code passes the schema
(pattern ``^[A-Z0-9]{2,3}$``) and is mapped to an Odoo unit like any other code.

v1 ``uom`` was free text: a SAP internal unit ("ST"), an Odoo name ("Units"), a symbol
("kg"). ``ALIASES`` turns the unambiguous ones into a code; anything else stays the
sender's own text (``unit_text``) and is mapped by the connector's unit mappings, as v1
was. Deliberately absent: "ST" (SAP's piece, but Rec 20's "sheet"), "PC" (Rec 20 "piece"
is H87, "PCE" is gone) - a guess there would book the wrong unit.
"""

REC20 = {
    "C62": "one (unit count)",
    "H87": "piece",
    "EA": "each",
    "DZN": "dozen",
    "SET": "set",
    "PR": "pair",
    "KGM": "kilogram",
    "GRM": "gram",
    "MGM": "milligram",
    "TNE": "tonne",
    "LBR": "pound",
    "ONZ": "ounce",
    "LTR": "litre",
    "MLT": "millilitre",
    "MTQ": "cubic metre",
    "MTR": "metre",
    "MMT": "millimetre",
    "CMT": "centimetre",
    "KMT": "kilometre",
    "INH": "inch",
    "FOT": "foot",
    "MTK": "square metre",
    "SEC": "second",
    "MIN": "minute",
    "HUR": "hour",
    "DAY": "day",
    "CEL": "degree Celsius",
    "FAH": "degree Fahrenheit",
    "KEL": "kelvin",
    "BAR": "bar",
    "PAL": "pascal",
    "KPA": "kilopascal",
    "P1": "percent",
    "KWH": "kilowatt hour",
    "KWT": "kilowatt",
    "WTT": "watt",
    "VLT": "volt",
    "AMP": "ampere",
    "HTZ": "hertz",
    "RPM": "revolutions per minute",
    "MQH": "cubic metre per hour",
    "L2": "litre per minute",
    "KGH": "kilogram per hour",
    "MTS": "metre per second",
    "NEW": "newton",
    "NU": "newton metre",
}

# Free-text units of v1 senders (compared case-insensitively) with one meaning.
ALIASES = {
    "unit": "C62", "units": "C62", "pcs": "H87", "piece": "H87", "pieces": "H87",
    "ea": "EA", "each": "EA", "dozen": "DZN", "dozens": "DZN",
    "kg": "KGM", "g": "GRM", "mg": "MGM", "t": "TNE", "lb": "LBR", "lbs": "LBR", "oz": "ONZ",
    "l": "LTR", "litre": "LTR", "liter": "LTR", "ml": "MLT", "m3": "MTQ", "m³": "MTQ",
    "m": "MTR", "mm": "MMT", "cm": "CMT", "km": "KMT", "in": "INH", "ft": "FOT",
    "m2": "MTK", "m²": "MTK",
    "s": "SEC", "sec": "SEC", "min": "MIN", "h": "HUR", "hour": "HUR", "hours": "HUR",
    "day": "DAY", "days": "DAY",
    "°c": "CEL", "degc": "CEL", "°f": "FAH", "k": "KEL",
    "bar": "BAR", "pa": "PAL", "kpa": "KPA", "%": "P1", "percent": "P1",
    "kwh": "KWH", "kw": "KWT", "w": "WTT", "v": "VLT", "a": "AMP", "hz": "HTZ", "rpm": "RPM",
    "m3/h": "MQH", "l/min": "L2", "kg/h": "KGH", "m/s": "MTS",
}

# Odoo's own units (uom module XML ids) and their Rec 20 code; the first listed code of a
# unit is the one sent for it.
ODOO_UOM_CODES = {
    "uom.product_uom_unit": "C62",
    "uom.product_uom_dozen": "DZN",
    "uom.product_uom_kgm": "KGM",
    "uom.product_uom_gram": "GRM",
    "uom.product_uom_ton": "TNE",
    "uom.product_uom_lb": "LBR",
    "uom.product_uom_oz": "ONZ",
    "uom.product_uom_litre": "LTR",
    "uom.product_uom_milliliter": "MLT",
    "uom.product_uom_cubic_meter": "MTQ",
    "uom.product_uom_meter": "MTR",
    "uom.product_uom_millimeter": "MMT",
    "uom.product_uom_cm": "CMT",
    "uom.product_uom_km": "KMT",
    "uom.product_uom_inch": "INH",
    "uom.product_uom_foot": "FOT",
    "uom.product_uom_square_meter": "MTK",
    "uom.product_uom_minute": "MIN",
    "uom.product_uom_hour": "HUR",
    "uom.product_uom_day": "DAY",
    "uom.product_uom_kwh": "KWH",
}
# Codes that mean "count of items" in Odoo's Units.
COUNT_CODES = ("C62", "H87", "EA")


def unit_code(text):
    """The Rec 20 code for a v1 unit text, or None when it has no single meaning."""
    if not isinstance(text, str) or not text.strip():
        return None
    stripped = text.strip()
    if stripped in REC20:
        return stripped
    return ALIASES.get(stripped.lower())


def quantity(value, text):
    """A v2 quantity from a v1 number and unit text."""
    code = unit_code(text)
    if code:
        return {"value": value, "unit_code": code}
    return {"value": value, "unit_text": str(text)}


def odoo_uom_xmlid(code):
    """The XML id of Odoo's own unit for a Rec 20 code, or None (then: unit mappings)."""
    if code in COUNT_CODES:
        return "uom.product_uom_unit"
    return next((xmlid for xmlid, known in ODOO_UOM_CODES.items() if known == code), None)
