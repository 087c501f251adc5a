"""Input pipeline: a built dataset of the common schema -> Keras batches.

Images and masks are read still encoded (`tfds.decode.SkipDecoding`) and
decoded + resized in a parallel `map`: bilinear (antialiased) for images,
nearest for masks so class values (and 255 "void") survive. The decoded,
resized examples are cached when they fit the memory budget; training then
shuffles, repeats, flips (boxes too), batches with fixed shapes and
prefetches. Every per-example function works eagerly and inside `tf.data`.
"""

from __future__ import annotations

import functools
import pathlib
from typing import Callable

import tensorflow as tf
import tensorflow_datasets as tfds

IGNORE = 255  # segmentation_mask value of void / unknown pixels
PAD_LABEL = -1  # label of the padding rows after the real objects
EVAL_SPLITS = ('test', 'validation')


class DataError(ValueError):
  """The dataset or split asked for cannot be used; the message says why."""


def load_builder(dataset: str | None = None, data_dir: str | None = None,
                 dataset_dir: str | None = None) -> tfds.core.DatasetBuilder:
  """The builder of a built dataset, by name or by directory.

  Args:
    dataset: `name`, `name/config`, `name:version` or `name/config:version`
      of a tfds_builders (or any registered) dataset built in `data_dir`.
    data_dir: where `tfds build` wrote it (None: the TFDS default).
    dataset_dir: a built dataset folder instead (the one holding
      dataset_info.json, or a parent with exactly one below it). Read through
      `tfds.builder_from_directory`: no builder code is needed.
  """
  if dataset_dir:
    return tfds.builder_from_directory(str(_info_dir(dataset_dir)))
  if not dataset:
    raise DataError('give --dataset NAME or --dataset_dir PATH.')
  # Registers the builders; a --dataset_dir needs none of them.
  import tfds_builders  # pylint: disable=g-import-not-at-top,unused-import
  try:
    builder = tfds.builder(dataset, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError as e:
    first_line = str(e).splitlines()[0]  # the rest lists all of TFDS
    raise DataError(f'{first_line} Give a tfds_builders dataset (voc_export,'
                    ' coco_export, labelbox_export, tfod_export,'
                    ' labelbox_cars) or --dataset_dir.') from None
  if not builder.is_prepared():
    raise DataError(
        f'{dataset} is not built in {builder.data_dir}. Build it first:'
        f' `tfds build {dataset.split(":")[0].split("/")[0]} --imports'
        ' tfds_builders --manual_dir EXPORT_DIR'
        f'{" --data_dir " + data_dir if data_dir else ""}`.')
  return builder


def _info_dir(path: str) -> pathlib.Path:
  root = pathlib.Path(path).expanduser()
  if (root / 'dataset_info.json').is_file():
    return root
  found = sorted(p.parent for p in root.glob('**/dataset_info.json'))
  if len(found) == 1:
    return found[0]
  if not found:
    raise DataError(f'no built dataset (dataset_info.json) under {root}.')
  raise DataError(f'{len(found)} built datasets under {root}; pass one of: '
                  + ', '.join(map(str, found)))


def pick_splits(info: tfds.core.DatasetInfo, train_split: str,
                eval_split: str | None) -> tuple[str, str]:
  """Checks the splits; the eval split defaults to test, then validation."""
  if not eval_split:
    eval_split = next((s for s in EVAL_SPLITS if s in info.splits), None)
  if not eval_split:
    raise DataError(
        f'{info.full_name} has splits {sorted(info.splits)} and no test or'
        ' validation split; pass --eval_split, e.g. --train_split'
        ' "train[:80%]" --eval_split "train[80%:]".')
  for split in (train_split, eval_split):
    if num_examples(info, split) == 0:
      raise DataError(f'split {split!r} of {info.full_name} is empty.')
  return train_split, eval_split


def num_examples(info: tfds.core.DatasetInfo, split: str) -> int:
  try:
    return info.splits[split].num_examples
  except (KeyError, ValueError) as e:
    raise DataError(f'{info.full_name}: {e}') from None


def skip_decoding(features: tfds.features.FeaturesDict) -> dict:
  """Decoders keeping every image/mask encoded until `decode_example`."""
  decoders = {'image': tfds.decode.SkipDecoding()}
  if 'segmentation_mask' in features:
    decoders['segmentation_mask'] = tfds.decode.SkipDecoding()
  if 'objects' in features and 'mask' in features['objects']:
    decoders['objects'] = {'mask': tfds.decode.SkipDecoding()}  # never read
  return decoders


def decode_example(example: dict, image_size: int,
                   masks: bool = True) -> dict:
  """Decodes and resizes one example read with `skip_decoding()`.

  Returns a flat dict: `image` uint8 [S, S, 3], `mask` uint8 [S, S, 1] (when
  `masks`), `boxes` float32 [N, 4] relative (ymin, xmin, ymax, xmax, so they
  need no change on resize), `labels` int32 [N], `is_crowd` bool [N], `size`
  int32 (height, width) of the original image, `id` string.
  """
  image = tf.io.decode_image(example['image'], channels=3,
                             expand_animations=False)
  features = {
      'image': resize_image(image, image_size),
      'boxes': tf.cast(example['objects']['bbox'], tf.float32),
      'labels': tf.cast(example['objects']['label'], tf.int32),
      'is_crowd': tf.cast(example['objects']['is_crowd'], tf.bool),
      'size': tf.shape(image)[:2],
      'id': example['image/id'],
  }
  if masks:
    mask = tf.io.decode_png(example['segmentation_mask'], channels=1)
    features['mask'] = resize_mask(mask, image_size)
  return features


def resize_image(image: tf.Tensor, size: int) -> tf.Tensor:
  """Bilinear (antialiased when shrinking) resize to [size, size], uint8."""
  resized = tf.image.resize(image, [size, size], method='bilinear',
                            antialias=True)
  return tf.cast(tf.round(tf.clip_by_value(resized, 0, 255)), tf.uint8)


def resize_mask(mask: tf.Tensor, size: int) -> tf.Tensor:
  """Nearest-neighbour resize: every output pixel is an input class value."""
  return tf.image.resize(mask, [size, size], method='nearest')


def flip_horizontal(features: dict) -> dict:
  """Mirrors image, mask and boxes left-right (relative x -> 1 - x)."""
  flipped = dict(features)
  flipped['image'] = tf.reverse(features['image'], axis=[1])
  if 'mask' in features:
    flipped['mask'] = tf.reverse(features['mask'], axis=[1])
  ymin, xmin, ymax, xmax = tf.unstack(features['boxes'], 4, axis=-1)
  flipped['boxes'] = tf.stack([ymin, 1 - xmax, ymax, 1 - xmin], axis=-1)
  return flipped


def random_flip(features: dict, seed: int | None = None) -> dict:
  return tf.cond(tf.random.uniform([], seed=seed) < 0.5,
                 lambda: flip_horizontal(features), lambda: features)


def pad_objects(features: dict, max_boxes: int) -> dict:
  """Pads (or truncates) objects to `max_boxes` rows for fixed shapes."""
  padded = dict(features)
  count = tf.minimum(tf.shape(features['labels'])[0], max_boxes)
  for key, value in (('boxes', 0.0), ('labels', PAD_LABEL),
                     ('is_crowd', False)):
    kept = tf.convert_to_tensor(features[key])[:count]
    rows = [[0, max_boxes - count]] + [[0, 0]] * (len(kept.shape) - 1)
    padded[key] = tf.ensure_shape(tf.pad(kept, rows, constant_values=value),
                                  [max_boxes, *kept.shape[1:]])
  return padded


def fits_in_memory(info: tfds.core.DatasetInfo, split: str, image_size: int,
                   budget_bytes: int) -> bool:
  """Whether caching the split's decoded, resized examples is affordable.

  Counts the larger of the split's size on disk (`info.splits[...].
  num_bytes`, encoded) and its decoded size (RGB + mask bytes per example).
  """
  decoded = num_examples(info, split) * image_size * image_size * 4
  return max(int(info.splits[split].num_bytes), decoded) <= budget_bytes


def make_dataset(builder: tfds.core.DatasetBuilder, split: str, *,
                 image_size: int, batch_size: int, training: bool,
                 to_model: Callable[[dict], tuple], masks: bool = True,
                 max_boxes: int = 50, cache_budget_bytes: int = 2 << 30,
                 seed: int | None = None) -> tf.data.Dataset:
  """Batches of `to_model(features)` pairs for `model.fit` / evaluation.

  Training batches repeat forever with `drop_remainder` (fixed shapes, so
  XLA compiles once); pass `steps_per_epoch` to `fit`. Evaluation batches
  run through the split once, in order.
  """
  ds = builder.as_dataset(
      split=split, decoders=skip_decoding(builder.info.features),
      shuffle_files=training, read_config=tfds.ReadConfig(shuffle_seed=seed))
  ds = ds.map(functools.partial(decode_example, image_size=image_size,
                                masks=masks),
              num_parallel_calls=tf.data.AUTOTUNE)
  if fits_in_memory(builder.info, split, image_size, cache_budget_bytes):
    ds = ds.cache()
  if training:
    count = num_examples(builder.info, split)
    ds = ds.shuffle(min(count, 4096), seed=seed).repeat()
    ds = ds.map(functools.partial(random_flip, seed=seed),
                num_parallel_calls=tf.data.AUTOTUNE)
  ds = ds.map(lambda f: to_model(pad_objects(f, max_boxes)),
              num_parallel_calls=tf.data.AUTOTUNE)
  ds = ds.batch(batch_size, drop_remainder=training)
  return ds.prefetch(tf.data.AUTOTUNE)


def segmentation_pair(features: dict) -> tuple[tf.Tensor, tf.Tensor]:
  """(float32 image 0..255, uint8 mask) for the segmentation models."""
  return tf.cast(features['image'], tf.float32), features['mask']
