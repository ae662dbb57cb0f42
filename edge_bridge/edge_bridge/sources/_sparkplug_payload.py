"""The Sparkplug B payload (protobuf), described in code instead of compiled from a .proto.

Source of the definition: Eclipse Tahu ``sparkplug_b/sparkplug_b.proto`` (package
``org.eclipse.tahu.protobuf``, proto2), which the Sparkplug 3.0 specification (chapter 6.4,
"Payload") refers to. Only what a consumer of metrics reads is described - the same field
numbers and wire types, so it parses every Sparkplug B payload; the fields left out
(``metadata`` 8, ``properties`` 9, ``dataset_value`` 17, ``template_value`` 18, extensions) are
skipped by the protobuf parser as unknown fields. Describing it here keeps a build step
(protoc) and generated code out of the repository; ``tests/test_sparkplug.py`` checks the field
numbers against hand-encoded wire bytes.

Metric data types (``Payload.Metric.datatype``) as listed in the same file.
"""
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

DATA_TYPES = {1: "Int8", 2: "Int16", 3: "Int32", 4: "Int64", 5: "UInt8", 6: "UInt16", 7: "UInt32",
              8: "UInt64", 9: "Float", 10: "Double", 11: "Boolean", 12: "String", 13: "DateTime",
              14: "Text", 15: "UUID", 16: "DataSet", 17: "Bytes", 18: "File", 19: "Template"}
SIGNED_BITS = {1: 8, 2: 16, 3: 32, 4: 64}      # Int8..Int64 travel as two's complement in uint32/uint64
SCALAR_TYPES = frozenset(range(0, 16))          # Unknown (0) to UUID: one value a tag can hold

_F = descriptor_pb2.FieldDescriptorProto
_METRIC_FIELDS = [
    ("name", 1, _F.TYPE_STRING, None), ("alias", 2, _F.TYPE_UINT64, None),
    ("timestamp", 3, _F.TYPE_UINT64, None), ("datatype", 4, _F.TYPE_UINT32, None),
    ("is_historical", 5, _F.TYPE_BOOL, None), ("is_transient", 6, _F.TYPE_BOOL, None),
    ("is_null", 7, _F.TYPE_BOOL, None),
    ("int_value", 10, _F.TYPE_UINT32, 0), ("long_value", 11, _F.TYPE_UINT64, 0),
    ("float_value", 12, _F.TYPE_FLOAT, 0), ("double_value", 13, _F.TYPE_DOUBLE, 0),
    ("boolean_value", 14, _F.TYPE_BOOL, 0), ("string_value", 15, _F.TYPE_STRING, 0),
    ("bytes_value", 16, _F.TYPE_BYTES, 0),
]
_PAYLOAD_FIELDS = [("timestamp", 1, _F.TYPE_UINT64), ("seq", 3, _F.TYPE_UINT64), ("uuid", 4, _F.TYPE_STRING),
                   ("body", 5, _F.TYPE_BYTES)]


def _build():
    file = descriptor_pb2.FileDescriptorProto(name="edge_bridge/sparkplug_b.proto",
                                              package="org.eclipse.tahu.protobuf", syntax="proto2")
    payload = file.message_type.add(name="Payload")
    metric = payload.nested_type.add(name="Metric")
    metric.oneof_decl.add(name="value")
    for name, number, kind, oneof in _METRIC_FIELDS:
        field = metric.field.add(name=name, number=number, type=kind, label=_F.LABEL_OPTIONAL)
        if oneof is not None:
            field.oneof_index = oneof
    for name, number, kind in _PAYLOAD_FIELDS:
        payload.field.add(name=name, number=number, type=kind, label=_F.LABEL_OPTIONAL)
    payload.field.add(name="metrics", number=2, type=_F.TYPE_MESSAGE, label=_F.LABEL_REPEATED,
                      type_name=".org.eclipse.tahu.protobuf.Payload.Metric")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("org.eclipse.tahu.protobuf.Payload"))


Payload = _build()


def metric_value(metric):
    """(value, None) of a metric by its data type, or (None, reason) when it has no usable value."""
    if metric.is_null:
        return None, "null value (is_null)"
    datatype = metric.datatype
    if datatype not in SCALAR_TYPES:
        return None, f"data type {DATA_TYPES.get(datatype, datatype)} is not a tag value"
    field = metric.WhichOneof("value")
    if field is None:
        return None, "no value"
    value = getattr(metric, field)
    if datatype in SIGNED_BITS:
        bits = SIGNED_BITS[datatype]
        value &= (1 << bits) - 1
        return (value - (1 << bits) if value >> (bits - 1) else value), None
    return value, None
