"""tfds_builders/keras/detection.py and backbones.py: the CenterNet-style
detector, its targets, losses and decoding, on hand-computed cases."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfds_builders.keras import data
from tfds_builders.keras import detection


def test_targets_decode_back_to_the_boxes(eager_and_in_tf_data):
  boxes = tf.constant([[0.1, 0.2, 0.5, 0.7], [0.55, 0.05, 0.95, 0.45],
                       [0, 0, 0, 0]], tf.float32)
  labels = tf.constant([1, 0, data.PAD_LABEL])
  for targets in eager_and_in_tf_data(
      lambda b, l: detection.encode_targets(b, l, 16, 3), boxes, labels):
    heatmap = targets['heatmap'].numpy()
    assert heatmap.shape == (16, 16, 3) and heatmap.max() == 1.0
    # Centres: (0.3, 0.45) * 16 -> cell (4, 7); (0.75, 0.25) -> (12, 4).
    assert heatmap[4, 7, 1] == 1.0 and heatmap[12, 4, 0] == 1.0
    assert (heatmap == 1.0).sum() == 2 and heatmap[..., 2].max() == 0
    box = targets['box'].numpy()
    np.testing.assert_allclose(box[4, 7], [6.4, 8, 0.8, 0.2, 1], rtol=1e-5)
    assert box[..., 4].sum() == 2

  # Targets as predictions: logits of the heatmap, the box map as is.
  logits = np.log(np.clip(heatmap, 1e-6, 1 - 1e-6) /
                  (1 - np.clip(heatmap, 1e-6, 1 - 1e-6)))
  found = detection.decode(logits[None], box[None, ..., :4],
                           score_threshold=0.5)
  assert int(found.count[0]) == 2
  order = np.argsort(found.boxes[0, :2, 0])  # equal scores: sort by ymin
  np.testing.assert_allclose(tf.gather(found.boxes[0], order), boxes[:2],
                             atol=1e-5)
  np.testing.assert_array_equal(tf.gather(found.classes[0], order), [1, 0])


def test_batch_targets_are_the_per_image_targets():
  boxes = np.array([[[0.1, 0.2, 0.5, 0.7], [0.55, 0.05, 0.95, 0.45]],
                    [[0.2, 0.2, 0.9, 0.4], [0, 0, 0, 0]]], np.float32)
  labels = np.array([[1, 1], [2, data.PAD_LABEL]], np.int32)
  batch = detection.encode_targets(boxes, labels, 8, 3)
  assert batch['heatmap'].shape == (2, 8, 8, 3)
  assert batch['box'].shape == (2, 8, 8, 5)
  for i in range(2):
    single = detection.encode_targets(boxes[i], labels[i], 8, 3)
    for key in ('heatmap', 'box'):
      np.testing.assert_array_equal(batch[key][i], single[key])
  # Two cats in image 0, nothing of class 1 in image 1 (no leak between
  # the images of a batch).
  assert (batch['heatmap'][0, ..., 1].numpy() == 1).sum() == 2
  assert batch['heatmap'][1, ..., 1].numpy().max() == 0


def test_training_pairs_skip_crowds_and_padding():
  batch = {
      'images': tf.zeros((1, 32, 32, 3)),
      'bounding_boxes': {
          'boxes': tf.constant([[[0.1, 0.1, 0.4, 0.4], [0.5, 0.5, 0.9, 0.9],
                                 [0, 0, 0, 0]]]),
          'labels': tf.constant([[0, 1, -1]])},
      'is_crowd': tf.constant([[False, True, False]]),
      'original_size': tf.constant([[64, 64]]),
  }
  images, targets = detection.training_pairs(2, 32)(batch)
  assert images.shape == (1, 32, 32, 3)
  assert targets['heatmap'].shape == (1, 8, 8, 2)
  assert float(tf.reduce_sum(targets['box'][..., 4])) == 1  # only the first
  assert float(tf.reduce_max(targets['heatmap'][..., 1])) == 0


def test_losses_are_zero_for_perfect_predictions_only():
  boxes = tf.constant([[0.1, 0.2, 0.5, 0.7]])
  targets = detection.encode_targets(boxes, tf.constant([0]), 8, 1)
  heatmap, box = targets['heatmap'][None], targets['box'][None]
  sure = tf.where(heatmap == 1.0, 30.0, -30.0)
  assert float(detection.heatmap_focal_loss(heatmap, sure)) < 1e-6
  assert float(detection.box_l1_loss(box, box[..., :4])) == 0.0
  off_by_one = box[..., :4] + tf.constant([1.0, 0, 0, 0])
  # Height off by 1 cell at the one centre: 0.1 * 1 / 1 object.
  assert float(detection.box_l1_loss(box, off_by_one)) == pytest.approx(0.1)


def test_ground_truth_drops_padding_and_keeps_sizes():
  batch = {
      'images': tf.zeros((1, 32, 32, 3)),
      'bounding_boxes': {'boxes': tf.constant([[[0.1, 0.1, 0.4, 0.4],
                                                [0, 0, 0, 0]]]),
                         'labels': tf.constant([[1, -1]])},
      'is_crowd': tf.constant([[True, False]]),
      'original_size': tf.constant([[30, 40]]),
  }
  (truth,) = detection.ground_truth(batch)
  np.testing.assert_allclose(truth.boxes, [[0.1, 0.1, 0.4, 0.4]])
  np.testing.assert_array_equal(truth.labels, [1])
  np.testing.assert_array_equal(truth.is_crowd, [True])
  assert (truth.height, truth.width) == (30, 40)


def test_detector_outputs_float32_under_mixed_precision():
  try:
    keras.mixed_precision.set_global_policy('mixed_float16')
    detector = detection.detector(64, 2)
    assert {o.dtype for o in detector.outputs} == {'float32'}
  finally:
    keras.mixed_precision.set_global_policy('float32')


def test_detector_bfloat16_xla_train_step_compiles():
  """The GPU default (bfloat16 + XLA), on the CPU: every op must lower."""
  images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3))
  targets = detection.encode_targets(tf.constant([[0.2, 0.2, 0.8, 0.6]]),
                                     tf.constant([0]), 16, 1)
  truth = {k: np.stack([v.numpy()] * 2) for k, v in targets.items()}
  try:
    keras.mixed_precision.set_global_policy('mixed_bfloat16')
    model = detection.detector(64, 1)
    assert model.layers[-1].compute_dtype == 'float32'
    assert model.get_layer(index=2).compute_dtype == 'bfloat16'
    model.compile(optimizer='adam', loss=detection.LOSSES, jit_compile=True)
    assert np.all(np.isfinite(model.train_on_batch(images, truth)))
  finally:
    keras.mixed_precision.set_global_policy('float32')


@pytest.mark.parametrize('backbone', ['mobilenet_v2', 'resnet50'])
def test_applications_backbones_build(backbone):
  model = detection.detector(64, 3, backbone=backbone)
  outputs = model.predict_on_batch(np.zeros((1, 64, 64, 3), np.float32))
  assert outputs['heatmap'].shape == (1, 16, 16, 3)


def test_unknown_backbone_is_explained():
  with pytest.raises(ValueError, match='choose from'):
    detection.detector(64, 1, backbone='vgg')
