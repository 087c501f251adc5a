"""tfds_builders/keras/data.py: the input pipeline, on hand-made cases and on
the small VOC build of conftest.py (cat box [1/6, 0.1, 5/6, 0.5], dog box
[0.117, 0.5625, 0.967, 0.975] in every 30x40 image)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfds_builders import keras as tfb_keras
from tfds_builders.core.errors import ExportError
from tfds_builders.keras import data


# Splits.

def test_splits_fall_back_to_validation_and_explain(builder):
  assert data.pick_splits(builder.info, 'train', None) == ('train',
                                                           'validation')
  with pytest.raises(ExportError, match='train\\[80%:\\]'):
    data.pick_splits(_info_with_splits(builder, ['train']), 'train', None)


def _info_with_splits(builder, names):
  class Info:  # only what pick_splits reads
    full_name = builder.info.full_name
    splits = {n: builder.info.splits[n] for n in names}
  return Info


def test_unknown_and_empty_splits_are_explained(builder):
  with pytest.raises(ExportError, match="Unknown split 'nope'"):
    data.pick_splits(builder.info, 'train', 'nope')
  with pytest.raises(ExportError, match="split 'train\\[:0\\]' .* is empty"):
    data.pick_splits(builder.info, 'train[:0]', 'validation')


# Per-example steps.

def test_decode_is_the_same_eager_and_in_tf_data(builder):
  raw = builder.as_dataset(split='train', shuffle_files=False,
                           decoders=data.skip_decoding(builder.info.features))
  eager = [data.decode_example(example, 48) for example in raw]
  mapped = list(raw.map(lambda e: data.decode_example(e, 48)))
  assert len(eager) == len(mapped) == 2
  for a, b in zip(eager, mapped):
    assert a['image'].shape == (48, 48, 3) and a['image'].dtype == tf.uint8
    assert a['mask'].shape == (48, 48, 1)
    for key in ('image', 'mask', 'boxes', 'labels', 'size'):
      np.testing.assert_array_equal(a[key], b[key])
  decoded = builder.as_dataset(split='train', shuffle_files=False)
  for a, full in zip(eager, decoded):
    np.testing.assert_array_equal(a['size'], tf.shape(full['image'])[:2])
    assert set(np.unique(a['mask'])) <= set(np.unique(
        full['segmentation_mask']))


def test_nearest_resize_keeps_mask_values(eager_and_in_tf_data):
  mask = np.zeros((6, 9, 1), np.uint8)
  mask[:, 3:6] = 1
  mask[:, 6:] = 2
  mask[0, 0] = 255
  for size, expect_void in ((3, False), (18, True)):
    for resized in eager_and_in_tf_data(
        lambda m, size=size: data.resize_mask(m, size), mask):
      assert resized.dtype == tf.uint8 and resized.shape == (size, size, 1)
      assert set(np.unique(resized)) <= {0, 1, 2, 255}
      assert (255 in np.unique(resized)) == expect_void
  resized = data.resize_mask(mask, 18).numpy()[..., 0]
  np.testing.assert_array_equal(resized[9, :], [0] * 6 + [1] * 6 + [2] * 6)


def test_pad_objects_gives_fixed_shapes(eager_and_in_tf_data):
  features = {'boxes': np.full((3, 4), 0.5, np.float32),
              'labels': np.array([2, 0, 1], np.int32),
              'is_crowd': np.array([False, True, False])}
  for padded in eager_and_in_tf_data(lambda f: data.pad_objects(f, 5),
                                     features):
    np.testing.assert_array_equal(padded['labels'], [2, 0, 1, -1, -1])
    np.testing.assert_array_equal(padded['boxes'][3:], np.zeros((2, 4)))
    np.testing.assert_array_equal(padded['is_crowd'], [0, 1, 0, 0, 0])
  truncated = data.pad_objects(features, 2)
  np.testing.assert_array_equal(truncated['labels'], [2, 0])


def test_cache_decision_counts_decoded_size(builder):
  info = builder.info
  decoded = 2 * 100 * 100 * 4  # 2 train images, RGB + mask bytes
  assert data.fits_in_memory(info, 'train', 100, decoded)
  assert not data.fits_in_memory(info, 'train', 100, decoded - 1)


# The flip: keras.layers.RandomFlip moves image, mask and boxes together.

def _flip_batch(copies=40):
  """`copies` of one 4x8 image, bright in its left column, whose mask is
  void there, with a box (ymin .25, xmin .125, ymax .5, xmax .5) and a
  padding row."""
  image = np.zeros((copies, 4, 8, 3), np.float32)
  image[:, :, 0] = 200
  mask = np.zeros((copies, 4, 8, 1), np.uint8)
  mask[:, :, 0] = 255
  mask[:, :, 1:3] = 1
  boxes = np.zeros((copies, 2, 4), np.float32)
  boxes[:, 0] = [0.25, 0.125, 0.5, 0.5]
  labels = np.tile(np.array([[1, -1]], np.int32), (copies, 1))
  return {'images': image, 'segmentation_masks': mask,
          'bounding_boxes': {'boxes': boxes, 'labels': labels},
          'is_crowd': np.zeros((copies, 2), bool)}


def test_flip_moves_boxes_image_and_mask(eager_and_in_tf_data):
  """Each image is flipped or not, and its mask and box with it."""
  batch = _flip_batch()
  original = _flip_batch()
  for flipped in eager_and_in_tf_data(data.random_flip(seed=3), batch):
    images = flipped['images'].numpy()
    masks = flipped['segmentation_masks'].numpy()
    boxes = flipped['bounding_boxes']['boxes'].numpy()
    is_flipped = images[:, 0, 7, 0] == 200
    assert 0 < is_flipped.sum() < 40  # both outcomes occur
    for i, mirrored in enumerate(is_flipped):
      if mirrored:  # x -> 1 - x, so (xmin, xmax) = (1 - .5, 1 - .125)
        np.testing.assert_allclose(boxes[i, 0], [0.25, 0.5, 0.5, 0.875],
                                   atol=1e-7)
        np.testing.assert_array_equal(images[i], original['images'][i, :, ::-1])
        np.testing.assert_array_equal(
            masks[i], original['segmentation_masks'][i, :, ::-1])
        assert masks[i, 0, 7, 0] == 255 and images[i, 0, 0, 0] == 0
      else:
        np.testing.assert_array_equal(boxes[i, 0], [0.25, 0.125, 0.5, 0.5])
        np.testing.assert_array_equal(images[i], original['images'][i])
        np.testing.assert_array_equal(masks[i],
                                      original['segmentation_masks'][i])
    np.testing.assert_array_equal(flipped['bounding_boxes']['labels'],
                                  original['bounding_boxes']['labels'])
    np.testing.assert_array_equal(flipped['is_crowd'], original['is_crowd'])
    assert flipped['images'].dtype == tf.float32


def test_random_flip_either_flips_or_keeps():
  features = {'images': np.arange(6, dtype=np.float32).reshape(1, 2, 3),
              'bounding_boxes': {
                  'boxes': np.array([[0, 0, 1, 0.5]], np.float32),
                  'labels': np.array([0], np.int32)}}
  layer = data.random_flip()
  mapped = tf.data.Dataset.from_tensors(features).repeat(40).map(layer)
  flips = [int(f['bounding_boxes']['boxes'][0, 1] == 0.5) for f in mapped]
  assert 0 < sum(flips) < 40
  for _ in range(10):
    flipped = layer({'images': features['images'],
                     'bounding_boxes': dict(features['bounding_boxes'])})
    kept = flipped['bounding_boxes']['boxes'][0, 1] == 0
    np.testing.assert_array_equal(
        flipped['images'], features['images'] if kept
        else features['images'][:, ::-1])


def test_flip_stays_float32_under_mixed_precision():
  try:
    keras.mixed_precision.set_global_policy('mixed_bfloat16')
    flipped = data.random_flip()(_flip_batch(2))
    assert flipped['images'].dtype == tf.float32
  finally:
    keras.mixed_precision.set_global_policy('float32')


# The public datasets, on the dummy build.

def test_segmentation_dataset_shapes_dtypes_and_mask_values(builder):
  ds = tfb_keras.segmentation_dataset(builder, 'train', image_size=64,
                                      batch_size=2)
  batches = list(ds)
  assert len(batches) == 1
  images, masks = batches[0]
  assert images.shape == (2, 64, 64, 3) and images.dtype == tf.float32
  assert masks.shape == (2, 64, 64, 1) and masks.dtype == tf.uint8
  assert 0 <= float(tf.reduce_min(images)) and float(
      tf.reduce_max(images)) <= 255
  # Background, cat (label 0 + 1), dog (1 + 1) and void survive the resize,
  # and every pixel is the nearest one of the original mask.
  assert set(np.unique(masks)) == {0, 1, 2, 255}
  originals = builder.as_dataset(split='train', shuffle_files=False)
  for mask, example in zip(masks, originals):
    np.testing.assert_array_equal(
        mask, tf.image.resize(example['segmentation_mask'], [64, 64],
                              method='nearest'))


def test_training_batches_have_fixed_shapes(builder):
  ds = tfb_keras.segmentation_dataset(builder, 'train', image_size=32,
                                      batch_size=3, training=True, seed=1)
  for images, masks in ds.take(2):  # 2 images, so batches wrap around
    assert images.shape == (3, 32, 32, 3) and masks.shape == (3, 32, 32, 1)
    assert images.dtype == tf.float32 and masks.dtype == tf.uint8
    assert set(np.unique(masks)) <= {0, 1, 2, 255}


def test_detection_dataset_is_the_keras_bounding_box_dict(builder):
  ds = tfb_keras.detection_dataset(builder, 'train', image_size=64,
                                   batch_size=2, max_boxes=4)
  assert tfb_keras.BOX_FORMAT == 'rel_yxyx'
  (batch,) = list(ds)
  assert set(batch) == {'images', 'bounding_boxes', 'is_crowd',
                        'original_size'}
  assert set(batch['bounding_boxes']) == {'boxes', 'labels'}
  assert batch['images'].shape == (2, 64, 64, 3)
  assert batch['images'].dtype == tf.float32
  boxes, labels = (batch['bounding_boxes'][k] for k in ('boxes', 'labels'))
  assert boxes.shape == (2, 4, 4) and boxes.dtype == tf.float32
  assert labels.shape == (2, 4) and labels.dtype == tf.int32
  assert batch['is_crowd'].dtype == tf.bool
  np.testing.assert_array_equal(batch['original_size'], [[30, 40]] * 2)
  for i, example in enumerate(builder.as_dataset(split='train',
                                                 shuffle_files=False)):
    np.testing.assert_array_equal(labels[i], [0, 1, -1, -1])  # cat, dog
    np.testing.assert_array_equal(boxes[i, :2], example['objects']['bbox'])
    np.testing.assert_array_equal(boxes[i, 2:], np.zeros((2, 4)))
  np.testing.assert_allclose(boxes[0, 0], [1 / 6, 0.1, 5 / 6, 0.5],
                             atol=1e-6)


def test_detection_training_flips_boxes_with_the_images(builder):
  """Training batches: the real boxes either stay or are mirrored exactly,
  with the image."""
  plain = tfb_keras.detection_dataset(builder, 'train', image_size=32,
                                      batch_size=2, max_boxes=2)
  (reference,) = list(plain)
  by_image = {}  # original images are told apart by their pixels
  for image, box in zip(reference['images'].numpy(),
                        reference['bounding_boxes']['boxes'].numpy()):
    by_image[image.tobytes()] = (image, box)
  trained = tfb_keras.detection_dataset(builder, 'train', image_size=32,
                                        batch_size=2, max_boxes=2,
                                        training=True, seed=0)
  # Keras' layers turn every tensor float32 inside tf.data; not ours.
  dtype = lambda spec: spec.dtype  # pylint: disable=unnecessary-lambda-assignment
  assert (tf.nest.map_structure(dtype, trained.element_spec) ==
          tf.nest.map_structure(dtype, plain.element_spec))
  assert trained.element_spec['bounding_boxes']['labels'].dtype == tf.int32
  assert trained.element_spec['is_crowd'].dtype == tf.bool
  outcomes = set()
  for batch in trained.take(20):
    for image, box in zip(batch['images'].numpy(),
                          batch['bounding_boxes']['boxes'].numpy()):
      if image.tobytes() in by_image:
        np.testing.assert_array_equal(box, by_image[image.tobytes()][1])
        outcomes.add('kept')
        continue
      original, original_box = by_image[image[:, ::-1].tobytes()]
      ymin, xmin, ymax, xmax = original_box.T
      np.testing.assert_allclose(
          box, np.stack([ymin, 1 - xmax, ymax, 1 - xmin], -1), atol=1e-6)
      outcomes.add('flipped')
  assert outcomes == {'kept', 'flipped'}


def test_augment_can_be_off_or_any_keras_callable(builder):
  common = dict(image_size=32, batch_size=2, seed=0)
  off = tfb_keras.segmentation_dataset(builder, 'train', training=True,
                                       augment=False, **common)
  plain = tfb_keras.segmentation_dataset(builder, 'train', **common)
  originals = {bytes(i.numpy().tobytes()) for i in next(iter(plain))[0]}
  for images, _ in off.take(5):
    assert {bytes(i.numpy().tobytes()) for i in images} <= originals

  def blackout(batch):
    batch['images'] = tf.zeros_like(batch['images'])
    return batch
  for images, masks in tfb_keras.segmentation_dataset(
      builder, 'train', augment=blackout, **common):
    assert float(tf.reduce_max(images)) == 0
    assert 255 in np.unique(masks)


def test_detection_takes_a_pipeline_of_keras_box_layers(builder):
  augment = keras.layers.Pipeline([
      keras.layers.RandomFlip('horizontal', bounding_box_format='rel_yxyx'),
      keras.layers.RandomTranslation(0.1, 0.1,
                                     bounding_box_format='rel_yxyx')])
  ds = tfb_keras.detection_dataset(builder, 'train', image_size=32,
                                   batch_size=2, max_boxes=3, training=True,
                                   augment=augment, seed=0)
  for batch in ds.take(3):
    assert batch['bounding_boxes']['labels'].dtype == tf.int32
    np.testing.assert_array_equal(batch['bounding_boxes']['labels'],
                                  [[0, 1, -1]] * 2)
    boxes = batch['bounding_boxes']['boxes'].numpy()
    assert boxes.min() >= 0 and boxes.max() <= 1
    assert (boxes[:, :2, 2:] > boxes[:, :2, :2]).all()  # real boxes stay
