"""TF Object Detection API label maps (`label_map.pbtxt`): read and write.

The file is a `StringIntLabelMap` protobuf in text format. Parsing it with
`google.protobuf.text_format`, rather than a regex, accepts every spelling the
OD API accepts: fields in any order, `item {` or `item: {` (or `<...>`),
optional `,`/`;` separators, single or double quotes, `#` comments and the
optional fields (`display_name`, `keypoints`, LVIS `frequency`...).

The message classes are built here from a hand-written descriptor of
`object_detection/protos/string_int_label_map.proto`, because the OD API
package itself is not installable alongside current TensorFlow.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pathlib

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf import text_format

from tfds_builders.core.errors import ExportError
from tfds_builders.core.labels import BACKGROUND, ClassList

LABEL_MAP_FILE = 'label_map.pbtxt'
_PACKAGE = 'object_detection.protos'

_Field = descriptor_pb2.FieldDescriptorProto


def _build_messages():
  """Returns the `StringIntLabelMap` message class (a private pool)."""
  file_proto = descriptor_pb2.FileDescriptorProto(
      name='object_detection/protos/string_int_label_map.proto',
      package=_PACKAGE, syntax='proto2')
  frequency = file_proto.enum_type.add(name='LVISFrequency')
  for number, name in enumerate(('UNSPECIFIED', 'FREQUENT', 'COMMON',
                                 'RARE')):
    frequency.value.add(name=name, number=number)
  item = file_proto.message_type.add(name='StringIntLabelMapItem')
  keypoint = item.nested_type.add(name='KeypointMap')
  _add_field(keypoint, 'id', 1, _Field.TYPE_INT32)
  _add_field(keypoint, 'label', 2, _Field.TYPE_STRING)
  _add_field(item, 'name', 1, _Field.TYPE_STRING)
  _add_field(item, 'id', 2, _Field.TYPE_INT32)
  _add_field(item, 'display_name', 3, _Field.TYPE_STRING)
  _add_field(item, 'keypoints', 4, _Field.TYPE_MESSAGE, repeated=True,
             type_name=f'.{_PACKAGE}.StringIntLabelMapItem.KeypointMap')
  _add_field(item, 'ancestor_ids', 5, _Field.TYPE_INT32, repeated=True)
  _add_field(item, 'descendant_ids', 6, _Field.TYPE_INT32, repeated=True)
  _add_field(item, 'frequency', 7, _Field.TYPE_ENUM,
             type_name=f'.{_PACKAGE}.LVISFrequency')
  _add_field(item, 'instance_count', 8, _Field.TYPE_INT32)
  label_map = file_proto.message_type.add(name='StringIntLabelMap')
  _add_field(label_map, 'item', 1, _Field.TYPE_MESSAGE, repeated=True,
             type_name=f'.{_PACKAGE}.StringIntLabelMapItem')
  # A private pool: no clash if the real OD API protos are also imported.
  pool = descriptor_pool.DescriptorPool()
  pool.Add(file_proto)
  return message_factory.GetMessageClass(
      pool.FindMessageTypeByName(f'{_PACKAGE}.StringIntLabelMap'))


def _add_field(message, name: str, number: int, field_type: int, *,
               repeated: bool = False, type_name: str | None = None) -> None:
  field = message.field.add(
      name=name, number=number, type=field_type,
      label=_Field.LABEL_REPEATED if repeated else _Field.LABEL_OPTIONAL)
  if type_name:
    field.type_name = type_name


StringIntLabelMap = _build_messages()


@dataclasses.dataclass(frozen=True)
class LabelMapItem:
  id: int
  name: str
  display_name: str

  @property
  def class_name(self) -> str:
    """The human-readable name: `display_name` when given, else `name`."""
    return self.display_name or self.name


@dataclasses.dataclass(frozen=True)
class LabelMap:
  """The items of a label map, in id order, without `background` (id 0)."""
  items: tuple[LabelMapItem, ...]
  file: str

  @property
  def classes(self) -> ClassList:
    return ClassList(tuple(i.class_name for i in self.items), self.file)

  def name_for_id(self, label_id: int) -> str | None:
    item = self._by_id.get(label_id)
    return item.class_name if item else None

  def name_for_text(self, text: str) -> str | None:
    """The class a `class/text` value means: matched on `name`, then on
    `display_name` (the OD API decoder accepts either)."""
    item = self._by_name.get(text) or self._by_display_name.get(text)
    return item.class_name if item else None

  @functools.cached_property
  def _by_id(self) -> dict[int, LabelMapItem]:
    return {i.id: i for i in self.items}

  @functools.cached_property
  def _by_name(self) -> dict[str, LabelMapItem]:
    return {i.name: i for i in self.items if i.name}

  @functools.cached_property
  def _by_display_name(self) -> dict[str, LabelMapItem]:
    return {i.display_name: i for i in self.items if i.display_name}


def parse_label_map(text: str, *, file: str = LABEL_MAP_FILE) -> LabelMap:
  """Parses label map text and checks its ids and names.

  Raises:
    ExportError: not a `StringIntLabelMap`, an item without id or name, id 0
      for anything but `background`, a negative id, a duplicate id or name.
  """
  message = StringIntLabelMap()
  try:
    text_format.Parse(text, message)
  except text_format.ParseError as e:
    where = f'line {e.GetLine()}' if e.GetLine() else None
    raise ExportError(
        f'not a valid label map ({e}).', file=file, item=where,
        fix='Write items as `item { id: 1 name: "cat" }` (the TF Object'
        ' Detection API StringIntLabelMap text format).') from None
  items, seen_ids, seen_names = [], {}, {}
  for number, proto in enumerate(message.item, 1):
    where = f'item #{number}'
    if not proto.HasField('id'):
      raise ExportError('item has no id.', file=file, item=where,
                        fix='Give every item an `id:` (from 1).')
    item = LabelMapItem(proto.id, proto.name, proto.display_name)
    where = f'item #{number} (id {item.id}, {item.class_name!r})'
    if not item.class_name:
      raise ExportError('item has neither name nor display_name.', file=file,
                        item=where, fix='Add `name: "..."` to the item.')
    if item.id == 0 or BACKGROUND in (item.name, item.display_name):
      if item.id != 0 or BACKGROUND not in (item.name, item.display_name):
        raise ExportError(
            'id 0 is reserved for `background`, and `background` may only'
            ' have id 0.', file=file, item=where,
            fix='Number the classes from 1; background needs no item.')
      continue  # background is implicit in the dataset schema
    if item.id < 0:
      raise ExportError('negative id.', file=file, item=where,
                        fix='Number the classes from 1.')
    if item.id in seen_ids:
      raise ExportError(f'id {item.id} is already used by'
                        f' {seen_ids[item.id]}.', file=file, item=where,
                        fix='Give every class its own id.')
    for name in {item.name, item.class_name} - {''}:
      if name in seen_names:
        raise ExportError(f'name {name!r} is already used by'
                          f' {seen_names[name]}.', file=file, item=where,
                          fix='Remove the duplicate item or rename it.')
    seen_ids[item.id] = where
    seen_names.update({item.name: where, item.class_name: where})
    items.append(item)
  if not items:
    raise ExportError('the label map lists no classes.', file=file,
                      fix='Add one `item { id: N name: "..." }` per class.')
  return LabelMap(tuple(sorted(items, key=lambda i: i.id)), file)


def format_label_map(names: list[str] | tuple[str, ...]) -> str:
  """Label map text for class names in order, with ids from 1."""
  message = StringIntLabelMap()
  for label_id, name in enumerate(names, 1):
    message.item.add(id=label_id, name=name)
  return text_format.MessageToString(message, as_utf8=True)


def write_label_map(path: os.PathLike | str,
                    names: list[str] | tuple[str, ...]) -> None:
  pathlib.Path(path).write_text(format_label_map(names), encoding='utf-8')
