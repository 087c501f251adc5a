"""Writes a built dataset as TF Object Detection API TFRecords.

Output: `OUT/<split>.record-00000-of-0000N` shards (examples dealt round-robin
over the shards, as the OD API's `create_*_tf_record.py` do) and
`OUT/label_map.pbtxt` with ids from 1 in class order. Image and mask bytes
are copied from the dataset, never re-encoded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import pathlib

import numpy as np
from PIL import Image
import tensorflow as tf
import tensorflow_datasets as tfds

from tfds_builders.core.errors import ExportError
from tfds_builders.core.loading import load_builder  # pylint: disable=unused-import  (kept as writer.load_builder)
from tfds_builders.tfod.label_map import LABEL_MAP_FILE, write_label_map


@dataclasses.dataclass
class ExportSummary:
  output: pathlib.Path
  classes: list[str]
  images: dict[str, int] = dataclasses.field(default_factory=dict)
  objects: dict[str, int] = dataclasses.field(default_factory=dict)
  files: list[pathlib.Path] = dataclasses.field(default_factory=list)


def export(builder, output: os.PathLike | str, num_shards: int = 1,
           masks: bool = False) -> ExportSummary:
  """Writes every split of a prepared builder under `output`."""
  if num_shards < 1:
    raise ExportError(f'--num_shards is {num_shards}.', fix='Use 1 or more.')
  features = builder.info.features
  if masks and 'mask' not in features['objects'].feature.keys():
    raise ExportError(
        f'{builder.info.full_name} has no instance masks (a `boxes`'
        ' config?).', fix='Export a config with masks, or leave out'
        ' --masks.')
  classes = list(features['objects']['label'].names)
  output = pathlib.Path(output)
  output.mkdir(parents=True, exist_ok=True)
  summary = ExportSummary(output, classes)
  write_label_map(output / LABEL_MAP_FILE, classes)
  summary.files.append(output / LABEL_MAP_FILE)
  for split in sorted(builder.info.splits):
    dataset = builder.as_dataset(split=split, shuffle_files=False,
                                 decoders=_skip_decoding(features))
    paths = shard_paths(output, split, num_shards)
    for stale in output.glob(f'{split}.record-*-of-*'):
      if stale not in paths:
        stale.unlink()  # from an earlier export with another shard count
    images = objects = 0
    with contextlib.ExitStack() as stack:
      writers = [stack.enter_context(tf.io.TFRecordWriter(str(p)))
                 for p in paths]
      for index, example in enumerate(tfds.as_numpy(dataset)):
        record = tf_example(example, classes, masks)
        writers[index % num_shards].write(
            record.SerializeToString(deterministic=True))
        images += 1
        objects += len(example['objects']['label'])
    summary.images[split], summary.objects[split] = images, objects
    summary.files += paths
  return summary


def shard_paths(output: pathlib.Path, split: str,
                num_shards: int) -> list[pathlib.Path]:
  return [output / f'{split}.record-{i:05d}-of-{num_shards:05d}'
          for i in range(num_shards)]


def _skip_decoding(features) -> dict:
  """Keeps encoded image and mask bytes as stored: copied, not re-encoded."""
  decoders = {'image': tfds.decode.SkipDecoding()}
  if 'mask' in features['objects'].feature.keys():
    decoders['objects'] = {'mask': tfds.decode.SkipDecoding()}
  if 'segmentation_mask' in features.keys():
    decoders['segmentation_mask'] = tfds.decode.SkipDecoding()
  return decoders


def tf_example(example: dict, classes: list[str],
               masks: bool) -> tf.train.Example:
  """One example of the common schema -> an OD API `tf.train.Example`."""
  image = example['image']
  with Image.open(io.BytesIO(image)) as im:  # reads the header only
    width, height = im.size
    image_format = (im.format or '').lower()
  objects = example['objects']
  bbox = np.asarray(objects['bbox'], np.float32).reshape(-1, 4)
  labels = np.asarray(objects['label'], np.int64)
  features = {
      'image/encoded': _bytes([image]),
      'image/format': _bytes([image_format.encode()]),
      'image/filename': _bytes([example['image/filename']]),
      'image/source_id': _bytes([example['image/id']]),
      'image/key/sha256': _bytes([hashlib.sha256(image).hexdigest().encode()]),
      'image/height': _ints([height]),
      'image/width': _ints([width]),
      'image/object/bbox/ymin': _floats(bbox[:, 0]),
      'image/object/bbox/xmin': _floats(bbox[:, 1]),
      'image/object/bbox/ymax': _floats(bbox[:, 2]),
      'image/object/bbox/xmax': _floats(bbox[:, 3]),
      'image/object/class/text': _bytes(
          [classes[i].encode('utf-8') for i in labels]),
      'image/object/class/label': _ints(labels + 1),
      'image/object/difficult': _ints(objects['is_difficult']),
      'image/object/truncated': _ints(objects['is_truncated']),
      'image/object/is_crowd': _ints(objects['is_crowd']),
      'image/object/area': _floats(objects['area']),
  }
  if masks:
    features['image/object/mask'] = _bytes(list(objects['mask']))
  return tf.train.Example(features=tf.train.Features(feature=features))


def _bytes(values) -> tf.train.Feature:
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def _ints(values) -> tf.train.Feature:
  return tf.train.Feature(int64_list=tf.train.Int64List(
      value=np.asarray(values, np.int64).tolist()))


def _floats(values) -> tf.train.Feature:
  return tf.train.Feature(float_list=tf.train.FloatList(
      value=np.asarray(values, np.float32).tolist()))
