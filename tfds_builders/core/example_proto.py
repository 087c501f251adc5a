"""`tf.train.Example` for reading records without importing TensorFlow.

Reading an export (`tfds_builders check`, the TFRecord parsers) needs only
the protobuf messages of `tensorflow/core/example/{example,feature}.proto`,
not TensorFlow itself, whose import costs seconds. So the messages are built
here from a descriptor of those two files, in a private pool: the same wire
format, parsed by the same protobuf runtime. (TensorFlow's own
`example_pb2` is in the `tensorflow` package, whose import loads all of it.)
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_Field = descriptor_pb2.FieldDescriptorProto


def _messages():
  proto = descriptor_pb2.FileDescriptorProto(
      name='tfds_builders/example.proto', package='tensorflow',
      syntax='proto3')
  for name, kind in (('BytesList', _Field.TYPE_BYTES),
                     ('FloatList', _Field.TYPE_FLOAT),
                     ('Int64List', _Field.TYPE_INT64)):
    _field(proto.message_type.add(name=name), 'value', 1, kind, repeated=True)
  feature = proto.message_type.add(name='Feature')
  feature.oneof_decl.add(name='kind')
  for number, name in enumerate(('bytes_list', 'float_list', 'int64_list'),
                                1):
    _field(feature, name, number, _Field.TYPE_MESSAGE, oneof=0,
           type_name='.tensorflow.' + ''.join(
               w.capitalize() for w in name.split('_')).replace(
                   'list', 'List'))
  features = proto.message_type.add(name='Features')
  entry = features.nested_type.add(name='FeatureEntry')
  entry.options.map_entry = True
  _field(entry, 'key', 1, _Field.TYPE_STRING)
  _field(entry, 'value', 2, _Field.TYPE_MESSAGE, type_name='.tensorflow.Feature')
  _field(features, 'feature', 1, _Field.TYPE_MESSAGE, repeated=True,
         type_name='.tensorflow.Features.FeatureEntry')
  _field(proto.message_type.add(name='Example'), 'features', 1,
         _Field.TYPE_MESSAGE, type_name='.tensorflow.Features')
  pool = descriptor_pool.DescriptorPool()
  pool.Add(proto)
  return message_factory.GetMessageClass(
      pool.FindMessageTypeByName('tensorflow.Example'))


def _field(message, name: str, number: int, kind: int, *,
           repeated: bool = False, type_name: str | None = None,
           oneof: int | None = None) -> None:
  field = message.field.add(
      name=name, number=number, type=kind,
      label=_Field.LABEL_REPEATED if repeated else _Field.LABEL_OPTIONAL)
  if type_name:
    field.type_name = type_name
  if oneof is not None:
    field.oneof_index = oneof


Example = _messages()
