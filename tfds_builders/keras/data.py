"""Input pipeline: a built dataset of the common schema -> Keras batches.

  segmentation_dataset(builder, split, image_size=128, batch_size=16)
      (images, masks): float32 [B, S, S, 3] RGB 0..255, uint8 [B, S, S, 1]
  detection_dataset(builder, split, image_size=128, batch_size=16)
      {'images': float32 [B, S, S, 3],
       'bounding_boxes': {'boxes': float32 [B, M, 4] 'rel_yxyx',
                          'labels': int32 [B, M], -1 after the real boxes},
       'is_crowd': bool [B, M], 'original_size': int32 [B, 2]}

Images and masks are read still encoded (`tfds.decode.SkipDecoding`) and
decoded + resized in a parallel `map`: bilinear (antialiased) for images,
nearest for masks so class values (and void, 255) survive. The decoded,
resized examples are cached when they fit the memory budget. Training
batches are shuffled, repeat forever and have fixed shapes; augmentation
runs on whole batches with Keras' preprocessing layers, which move boxes and
masks with the image (`keras.layers.RandomFlip` by default). Every
per-example function works eagerly and inside `tf.data`.
"""

from __future__ import annotations

import functools
from typing import Callable

import keras
import tensorflow as tf
import tensorflow_datasets as tfds

from tfds_builders.core.errors import ExportError

# Keras' name for TFDS's BBoxFeature layout: relative (ymin, xmin, ymax, xmax).
BOX_FORMAT = 'rel_yxyx'
PAD_LABEL = -1  # label of the padding rows after the real objects (Keras')
EVAL_SPLITS = ('test', 'validation')

Augment = bool | Callable[[dict], dict] | None


def segmentation_dataset(
    builder: tfds.core.DatasetBuilder, split: str, *, image_size: int,
    batch_size: int, training: bool = False, augment: Augment = None,
    cache_budget_bytes: int = 2 << 30, seed: int | None = None
) -> tf.data.Dataset:
  """(images, masks) batches of `split` for a Keras segmentation model.

  Args:
    builder: a prepared builder of the common schema, e.g.
      `tfds.builder('voc_export', data_dir=...)` or
      `tfds.builder_from_directory(folder)`.
    split: a TFDS split, slicing allowed ('train[:80%]').
    image_size: side S of the square images and masks.
    batch_size: images per batch.
    training: shuffle, repeat forever and drop the last partial batch (fixed
      shapes); pass `steps_per_epoch` to `fit`. Otherwise the split is read
      once, in order.
    augment: None (flip left-right at random when training), False, True,
      or a callable on `{'images', 'segmentation_masks'}` batches, e.g. a
      `keras.layers.Pipeline` of Keras image preprocessing layers.
    cache_budget_bytes: cache decoded examples in memory up to this size.
    seed: shuffling and augmentation seed.

  Returns:
    `(images, masks)`: float32 [B, S, S, 3] RGB in 0..255 and uint8
    [B, S, S, 1] with 0 = background, class + 1, and `VOID` (255) for pixels
    to ignore (`keras.losses.SparseCategoricalCrossentropy(ignore_class=255)`).
  """
  ds = _examples(builder, split, image_size, masks=True, training=training,
                 cache_budget_bytes=cache_budget_bytes, seed=seed)
  ds = ds.map(lambda f: {'images': tf.cast(f['image'], tf.float32),
                         'segmentation_masks': f['mask']},
              num_parallel_calls=tf.data.AUTOTUNE)
  ds = _batch_and_augment(ds, batch_size, training, augment, seed)
  return ds.map(lambda d: (d['images'], d['segmentation_masks']),
                num_parallel_calls=tf.data.AUTOTUNE).prefetch(
                    tf.data.AUTOTUNE)


def detection_dataset(
    builder: tfds.core.DatasetBuilder, split: str, *, image_size: int,
    batch_size: int, training: bool = False, augment: Augment = None,
    max_boxes: int = 50, cache_budget_bytes: int = 2 << 30,
    seed: int | None = None) -> tf.data.Dataset:
  """Batches of `split` in Keras 3's bounding-box dict format.

  Arguments as `segmentation_dataset`; `augment` callables get the whole
  dict below (Keras preprocessing layers need `bounding_box_format=
  BOX_FORMAT`), and `max_boxes` objects are kept per image (padded to it).

  Returns:
    Dicts of `images`: float32 [B, S, S, 3] RGB 0..255; `bounding_boxes`:
    `{'boxes': float32 [B, M, 4], 'labels': int32 [B, M]}`, boxes in
    'rel_yxyx' format (relative ymin, xmin, ymax, xmax, as TFDS stores
    them), labels 0..N-1 then -1 for padding; `is_crowd`: bool [B, M];
    `original_size`: int32 [B, 2], the (height, width) the image had before
    resizing (COCO's area ranges are in those pixels).
  """
  ds = _examples(builder, split, image_size, masks=False, training=training,
                 cache_budget_bytes=cache_budget_bytes, seed=seed)

  def to_keras(features):
    padded = pad_objects(features, max_boxes)
    return {'images': tf.cast(padded['image'], tf.float32),
            'bounding_boxes': {'boxes': padded['boxes'],
                               'labels': padded['labels']},
            'is_crowd': padded['is_crowd'], 'original_size': padded['size']}

  ds = ds.map(to_keras, num_parallel_calls=tf.data.AUTOTUNE)
  return _batch_and_augment(ds, batch_size, training, augment,
                            seed).prefetch(tf.data.AUTOTUNE)


def random_flip(seed: int | None = None) -> keras.layers.RandomFlip:
  """Left-right flip of images and, with them, masks and boxes."""
  # float32 whatever the global policy: under mixed precision the layer would
  # otherwise hand bfloat16 images to the model's float32 input.
  return keras.layers.RandomFlip('horizontal', seed=seed, dtype='float32',
                                 bounding_box_format=BOX_FORMAT)


def _examples(builder, split, image_size, *, masks, training,
              cache_budget_bytes, seed) -> tf.data.Dataset:
  """Decoded, resized examples; shuffled and repeated when training."""
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
  return ds


def _batch_and_augment(ds, batch_size, training, augment,
                       seed) -> tf.data.Dataset:
  ds = ds.batch(batch_size, drop_remainder=training)
  if augment is None:
    augment = training
  if augment is True:
    augment = random_flip(seed)
  if not augment:
    return ds

  def augment_batch(batch):
    # Inside tf.data, Keras' preprocessing layers convert every tensor they
    # are given to their dtype (labels, flags and sizes too): cast back.
    dtypes = tf.nest.map_structure(lambda tensor: tensor.dtype, batch)
    return _cast_to(augment(batch), dtypes)
  return ds.map(augment_batch, num_parallel_calls=tf.data.AUTOTUNE)


def _cast_to(augmented: dict, dtypes: dict) -> dict:
  """Each tensor of `augmented` in its dtype in `dtypes` (same keys)."""
  cast = {}
  for key, value in augmented.items():
    if isinstance(value, dict) and isinstance(dtypes.get(key), dict):
      cast[key] = _cast_to(value, dtypes[key])
    elif key in dtypes:
      cast[key] = tf.cast(value, dtypes[key])
    else:  # a key the augmentation added
      cast[key] = value
  return cast


# Per-example steps.

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
  `masks`), `boxes` float32 [N, 4] 'rel_yxyx' (relative, so they need no
  change on resize), `labels` int32 [N], `is_crowd` bool [N], `size` int32
  (height, width) of the original image, `id` string.
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
    # decode_png, not decode_image: the mask is a 1-channel PNG of class
    # values (the builders write it so; palettes are resolved at build time).
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


def pad_objects(features: dict, max_boxes: int) -> dict:
  """Pads (or truncates) objects to `max_boxes` rows for fixed shapes.

  Hand-written rather than `keras.layers.MaxNumBoundingBoxes`: that layer
  pads only `boxes` and `labels` (the crowd flags must stay in step with
  them) and fills boxes with -1 instead of an empty box.
  """
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


# Splits.

def pick_splits(info: tfds.core.DatasetInfo, train_split: str,
                eval_split: str | None) -> tuple[str, str]:
  """Checks the splits; the eval split defaults to test, then validation."""
  if not eval_split:
    eval_split = next((s for s in EVAL_SPLITS if s in info.splits), None)
  if not eval_split:
    raise ExportError(
        f'{info.full_name} has splits {sorted(info.splits)} and no test or'
        ' validation split.', fix='Pass --eval_split, e.g. --train_split'
        ' "train[:80%]" --eval_split "train[80%:]".')
  for split in (train_split, eval_split):
    if num_examples(info, split) == 0:
      raise ExportError(f'split {split!r} of {info.full_name} is empty.')
  return train_split, eval_split


def num_examples(info: tfds.core.DatasetInfo, split: str) -> int:
  try:
    return info.splits[split].num_examples
  except (KeyError, ValueError) as e:
    raise ExportError(f'{info.full_name}: {e}') from None
