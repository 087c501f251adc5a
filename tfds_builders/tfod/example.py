"""One record of a TF Object Detection API export, as a `tf.train.Example`
whose features are read with their kinds checked.

A record that is no `tf.train.Example`, or one without `image/encoded` and
`image/filename`, is not an OD API example: an ExportError (the file is
something else). A feature of the wrong kind (`image/object/bbox/xmin` as
bytes) or a per-object list of the wrong length is a SkippableError: that
record is skipped and reported.
"""

from __future__ import annotations

from google.protobuf import message as protobuf_message

from tfds_builders.core.errors import ExportError, SkippableError
from tfds_builders.core.example_proto import Example

BOX_KEYS = tuple(f'image/object/bbox/{c}'
                 for c in ('xmin', 'ymin', 'xmax', 'ymax'))
MASK_KEY = 'image/object/mask'
# The OD API's lists of one value per object (the mask: one PNG each).
PER_OBJECT_KEYS = BOX_KEYS + tuple(f'image/object/{k}' for k in (
    'class/text', 'class/label', 'area', 'difficult', 'truncated', 'is_crowd',
    'mask'))
_NOT_OD_API = 'Only TF Object Detection API TFRecords can be read here.'


def parse_example(serialized: bytes, file: str, index: int) -> Example:
  """The record as an OD API example, or an ExportError: a file of other
  records is not an export this builder reads."""
  try:
    example = Example.FromString(serialized)
  except protobuf_message.DecodeError as e:
    raise ExportError(f'record is not a tf.train.Example ({e}).', file=file,
                      item=f'record {index}', fix=_NOT_OD_API) from None
  keys = example.features.feature
  if 'image/encoded' not in keys and 'image/filename' not in keys:
    raise ExportError(
        'record has neither image/encoded nor image/filename: not a TF Object'
        ' Detection API example.', file=file, item=f'record {index}',
        fix=_NOT_OD_API)
  return example


class Features:
  """The features of one example, read with their kinds checked."""

  def __init__(self, example: Example, where: str):
    self._features = example.features.feature
    self._where = where

  def kind(self, key: str) -> str | None:
    feature = self._features.get(key)
    return feature.WhichOneof('kind') if feature is not None else None

  def object_count(self) -> int:
    """Objects in the record: the longest per-object list, whatever its kind
    (for the report, so objects count even when their lists are broken:
    int64 boxes, labels without boxes). Dense float masks hold objects x
    height x width values and keypoint lists several per object, so only the
    lists that hold one value per object are counted."""
    lengths = [0]
    for key in PER_OBJECT_KEYS:
      kind = self.kind(key)
      if kind is not None and not (key == MASK_KEY and kind == 'float_list'):
        lengths.append(len(getattr(self._features[key], kind).value))
    return max(lengths)

  def values(self, key: str, kind: str):
    actual = self.kind(key)
    if actual is None:
      return []
    if actual != kind:
      raise SkippableError(f'{key} holds {actual}, expected {kind}.',
                           file=self._where, fix='Re-export the records.')
    return getattr(self._features[key], kind).value

  def per_object(self, key: str, kind: str, count: int) -> list:
    found = list(self.values(key, kind))
    if found and len(found) != count:
      raise SkippableError(
          f'{key} has {len(found)} values for {count} boxes; which belongs'
          ' to which cannot be told.', file=self._where,
          fix='Re-export the records.')
    return found

  def scalar(self, key: str, kind: str):
    found = self.values(key, kind)
    return found[0] if found else None

  def text(self, key: str) -> str:
    return (self.scalar(key, 'bytes_list') or b'').decode('utf-8', 'replace')

  def name_text(self, key: str) -> tuple[str, str]:
    """`(text, problem)` of an id or file name; problem is '' for UTF-8.

    Bytes that are not UTF-8 are kept as backslash escapes: U+FFFD
    replacement would make different names equal (b'\\xff\\xfe' and
    b'\\xfe\\xff' both '\\ufffd\\ufffd', the second record then a
    "duplicate"); escapes keep distinct bytes distinct and invent nothing.
    """
    data = self.scalar(key, 'bytes_list') or b''
    try:
      return data.decode('utf-8'), ''
    except UnicodeDecodeError as e:
      text = data.decode('utf-8', 'backslashreplace')
      return text, (f'{not_utf8(key, data, e)}; kept as "{text}" (backslash'
                    ' escapes)')


def not_utf8(key: str, data: bytes, error: UnicodeDecodeError) -> str:
  return (f'{key} {data[:40]!r} is not UTF-8 (byte 0x{data[error.start]:02x}'
          f' at offset {error.start})')
