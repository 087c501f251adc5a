"""Serializing an example of the common schema, as TFDS would, 10x faster.

TFDS encodes an example feature by feature (a generic walk over nested
dicts, numpy stacking, a Python check per value) and then builds the
`tf.train.Example`: about 0.5 ms per image, a third of what a worker spends
on an image once the image check is done. The common schema is flat and
known, so `serialize` builds the same `tf.train.Example` directly from what
`encode_record` returns: the same keys, the same value types (float32
boxes and areas, int64 labels and flags, bytes), serialized
deterministically. `tests/core/test_serialize.py` holds it byte for byte to
TFDS's serializer; a schema with other keys goes the TFDS way.
"""

from __future__ import annotations

import numpy as np

from tfds_builders.core.example_proto import Example

_INT_FIELDS = ('label', 'is_crowd', 'is_difficult', 'is_truncated',
               'has_mask')
_SCHEMA = {'image', 'image/filename', 'image/id', 'segmentation_mask',
           'objects/bbox', 'objects/area', *(f'objects/{k}' for k in
                                             _INT_FIELDS)}


def handles(serialized_info: dict) -> bool:
  """Whether the features are the common schema (with or without masks)."""
  keys = {k for k in serialized_info if k != 'objects'} | {
      f'objects/{k}' for k in serialized_info.get('objects', {})}
  return keys in (_SCHEMA, _SCHEMA | {'objects/mask'})


def serialize(example: dict) -> bytes:
  """The serialized `tf.train.Example` of one example of the schema."""
  proto = Example()
  feature = proto.features.feature
  for key in ('image', 'segmentation_mask'):
    feature[key].bytes_list.value.append(example[key])
  for key in ('image/filename', 'image/id'):
    feature[key].bytes_list.value.append(example[key].encode('utf-8'))
  objects = example['objects']
  boxes = np.asarray([tuple(b) for b in objects['bbox']],
                     np.float32).reshape(-1)
  _floats(feature['objects/bbox'], boxes)
  _floats(feature['objects/area'], np.asarray(objects['area'], np.float32))
  for key in _INT_FIELDS:
    ints = feature[f'objects/{key}'].int64_list
    ints.SetInParent()
    ints.value.extend(int(v) for v in objects[key])
  if 'mask' in objects:
    masks = feature['objects/mask'].bytes_list
    masks.SetInParent()
    masks.value.extend(objects['mask'])
  return proto.SerializeToString(deterministic=True)


def _floats(feature, values: np.ndarray) -> None:
  floats = feature.float_list
  floats.SetInParent()
  floats.value.extend(values.tolist())
