"""Fuzzing the label map parser with mutated text, and the record reader
with mutated features."""

from __future__ import annotations

import struct

from hypothesis import given, strategies as st
import tensorflow as tf

from tests.fuzzing import FUZZ, JPEG, parse_and_encode
from tfds_builders.core import tfrecords
from tfds_builders.core.errors import ExportError
from tfds_builders.tfod import label_map, parse

VALID_PBTXT = ('item {\n  id: 1\n  name: "cat"\n  display_name: "Cat"\n}\n'
               "item: { name: 'dog'; id: 2 }\n")


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID_PBTXT)),
                          st.integers(0, 6), st.text(max_size=6)),
                max_size=4))
def test_label_map_mutated_text(edits):
  text = VALID_PBTXT
  for position, cut, insert in edits:
    text = text[:position] + insert + text[position + cut:]
  try:
    parsed = label_map.parse_label_map(text)
  except ExportError:
    return
  assert parsed.classes.names and len(set(parsed.classes.names)) == len(
      parsed.classes.names)


# Records: OD API keys holding any kind and any values.

_KEYS = ['image/object/bbox/xmin', 'image/object/bbox/ymin',
         'image/object/bbox/xmax', 'image/object/bbox/ymax',
         'image/object/class/text', 'image/object/class/label',
         'image/object/area', 'image/object/difficult',
         'image/object/is_crowd', 'image/object/mask', 'image/width',
         'image/height', 'image/source_id', 'image/format']
_FEATURE_VALUES = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32),
             max_size=4).map(lambda v: ('float_list', v)),
    st.lists(st.integers(-2**63, 2**63 - 1), max_size=4).map(
        lambda v: ('int64_list', v)),
    st.lists(st.binary(max_size=8) | st.sampled_from([b'cat', b'dog', b'']),
             max_size=4).map(lambda v: ('bytes_list', v)))


def _record(features: dict) -> bytes:
  """One TFRecord frame around an example with `features`."""
  feature = {'image/encoded': tf.train.Feature(
      bytes_list=tf.train.BytesList(value=[JPEG]))}
  for key, (kind, values) in features.items():
    feature[key] = tf.train.Feature(**{kind: {
        'float_list': tf.train.FloatList, 'int64_list': tf.train.Int64List,
        'bytes_list': tf.train.BytesList}[kind](value=values)})
  data = tf.train.Example(features=tf.train.Features(
      feature=feature)).SerializeToString()
  length = struct.pack('<Q', len(data))
  return (length + struct.pack('<I', tfrecords.masked_crc32c(length)) + data
          + struct.pack('<I', tfrecords.masked_crc32c(data)))


@FUZZ
@given(st.dictionaries(st.sampled_from(_KEYS), _FEATURE_VALUES, max_size=8))
def test_records_with_mutated_features(features):
  boxes = {k: ('float_list', [0.1, 0.2]) for k in _KEYS[:4]}
  good = _record({**boxes, 'image/object/class/label': ('int64_list', [1, 2])})
  parse_and_encode({'train.record': good + _record({**boxes, **features}),
                    'label_map.pbtxt': VALID_PBTXT.encode()},
                   parse.parse_export)
