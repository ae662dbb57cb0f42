"""RFC function signatures as SAP publishes them (SE37 / BAPI Explorer), and their checker.

A signature lists the IMPORTING, TABLES (and CHANGING) parameters with their DDIC structures:
field name -> Field(ABAP type, length, decimals). The fake RFC peer refuses what a real
system refuses through pyrfc: an unknown parameter or field name, a value too long for its
CHAR/NUMC field, a non-numeric NUMC, a number that does not fit its packed field. pyrfc
applies no conversion exit: what is sent is what lands in the field (units in SAP's internal
code, material numbers with ALPHA zeros, batches as given).
"""
from collections import namedtuple

Field = namedtuple("Field", "abap_type length decimals", defaults=(0,))


class Function:
    def __init__(self, name, importing=None, tables=None, changing=None, exporting=(),
                 source=""):
        self.name = name
        self.importing = dict(importing or {})  # param -> Field or {field: Field}
        self.tables = dict(tables or {})        # param -> {field: Field}
        self.changing = dict(changing or {})
        self.exporting = tuple(exporting)
        self.source = source                    # where the signature was read


def field_problem(where, field, value):
    """Why ``value`` cannot go into ``field`` through pyrfc (None when it can)."""
    if value is None:
        return f"{where}: None is not a value"
    kind, length, decimals = field
    if kind in ("C", "N", "D", "T"):
        text = value if isinstance(value, str) else str(value)
        if kind in ("C",) and len(text) > length:
            return f"{where}: '{text[:50]}' is {len(text)} characters, field has {length}"
        if kind == "N" and (len(text) > length or (text and not text.isdigit())):
            return f"{where}: '{text[:50]}' is not NUMC{length}"
        if kind in ("D", "T") and text and (len(text) != length or not text.isdigit()):
            expected = "date YYYYMMDD" if kind == "D" else "time HHMMSS"
            return f"{where}: '{text[:50]}' is not a {expected}"
        return None
    if kind == "P":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"{where}: {value!r} is not a number"
        digits = 2 * length - 1 - decimals
        if abs(number) >= 10 ** digits:
            return f"{where}: {value!r} does not fit P({length},{decimals})"
        return None
    if kind in ("I", "b", "s"):
        return None if isinstance(value, int) else f"{where}: {value!r} is not an integer"
    if kind == "F":
        return None if isinstance(value, (int, float)) else f"{where}: {value!r} is not a float"
    return None


def structure_problems(where, fields, row):
    if not isinstance(row, dict):
        return [f"{where}: expected a structure (dict), got {type(row).__name__}"]
    problems = []
    for name, value in row.items():
        field = fields.get(name)
        if field is None:
            problems.append(f"{where}: field '{name}' not found")
            continue
        problem = field_problem(f"{where}-{name}", field, value)
        if problem:
            problems.append(problem)
    return problems


def call_problems(function, kwargs):
    """Problems of a ``Connection.call(function.name, **kwargs)`` (empty: SAP takes it)."""
    problems = []
    for param, value in kwargs.items():
        if param in function.tables:
            if not isinstance(value, (list, tuple)):
                problems.append(f"{param}: a table parameter needs a list of rows")
                continue
            for index, row in enumerate(value, start=1):
                problems.extend(structure_problems(f"{param}[{index}]",
                                                   function.tables[param], row))
            continue
        spec = function.importing.get(param) or function.changing.get(param)
        if spec is None:
            problems.append(f"parameter '{param}' not found in {function.name}")
        elif isinstance(spec, dict):
            problems.extend(structure_problems(param, spec, value))
        else:
            problem = field_problem(param, spec, value)
            if problem:
                problems.append(problem)
    return problems
