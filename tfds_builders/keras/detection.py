"""A compact CenterNet-style detector ("Objects as Points", Zhou et al. 2019).

Why CenterNet: it is anchor-free and single-level. Each object is one peak
in a per-class heatmap at stride 4, plus its box size and sub-cell centre
offset read at that peak. So there are no anchors or per-level assignments
to tune (as in RetinaNet or FCOS); targets are dense maps with fixed shapes
built in the input pipeline; the losses are plain Keras loss functions; and
decoding is a 3x3 max-pool peak pick followed by TensorFlow's
`combined_non_max_suppression`.

Model outputs, float32 also under mixed precision (G = image_size / 4):
  heatmap: [B, G, G, C] logits of "an object of class c is centred here".
  box:     [B, G, G, 4] (height, width, dy, dx) in output cells.
Targets from `encode_targets`:
  heatmap: [G, G, C] Gaussian bumps, exactly 1 at each object's centre cell.
  box:     [G, G, 5] (height, width, dy, dx, weight), weight 1 at centres.

Heatmap Gaussians follow TTFNet (Liu et al. 2019): sigma = 0.54 * side / 6
per axis, so elongated boxes get elongated bumps.

  train = detection_dataset(builder, 'train', image_size=128, batch_size=16,
                            training=True).map(training_pairs(2, 128))
  model = detector(128, num_classes=2)
  model.compile('adam', loss=LOSSES)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import keras
from keras import layers
import tensorflow as tf

from tfds_builders.keras import backbones
from tfds_builders.keras.data import BOX_FORMAT, PAD_LABEL
from tfds_builders.keras.metrics import coco_metrics, ImageBoxes

STRIDE = 4
BACKBONES = backbones.BACKBONES
_GAUSSIAN_ALPHA = 0.54
_MIN_SIGMA = 1 / 6  # CenterNet's sigma for a radius-0 box
_SIZE_WEIGHT = 0.1  # CenterNet's weight of the size loss
_PRIOR = 0.1  # initial centre probability (focal-loss bias init)


# Model.

def detector(image_size: int, num_classes: int, backbone: str = 'small',
             weights: str | None = None, width: int = 64) -> keras.Model:
  """CenterNet heads on a feature pyramid merged top-down to stride 4.

  Args:
    image_size: square input side, divisible by 32; inputs are float RGB
      0..255, as `detection_dataset` gives them.
    num_classes: object classes (no background class).
    backbone: one of BACKBONES (see `backbones.py`).
    weights: None (random init) or 'imagenet' (downloads the weights).
    width: channels of the merged features and of the heads.
  """
  if image_size % 32:
    raise ValueError(f'image_size must be divisible by 32, not {image_size}.')
  inputs = keras.Input((image_size, image_size, 3))
  features = backbones.pyramid(inputs, backbone, weights, image_size)
  # FPN-style: upsample the coarsest map and add each finer one.
  x = backbones.conv_bn_relu(features[-1], width, kernel=1)
  for finer in reversed(features[:-1]):
    x = layers.UpSampling2D(2)(x)  # nearest, as FPN (and XLA-safe in bf16)
    x = layers.add([x, backbones.conv_bn_relu(finer, width, kernel=1)])
    x = backbones.conv_bn_relu(x, width, separable=True)
  heatmap = _head(x, num_classes, width, math.log(_PRIOR / (1 - _PRIOR)))
  box = _head(x, 4, width, 0.0)
  outputs = {
      'heatmap': layers.Activation('linear', dtype='float32',
                                   name='heatmap')(heatmap),
      'box': layers.Activation('linear', dtype='float32', name='box')(box),
  }
  return keras.Model(inputs, outputs, name=f'centernet_{backbone}')


def _head(x, outputs: int, width: int, bias: float):
  x = layers.Conv2D(width, 3, padding='same', activation='relu')(x)
  return layers.Conv2D(outputs, 1,
                       bias_initializer=keras.initializers.Constant(bias))(x)


# Targets (run in tf.data) and losses.

def encode_targets(boxes, labels, grid: int, num_classes: int) -> dict:
  """Dense training targets for one image ([N, ...]) or a batch ([B, N, ...]).

  Args:
    boxes: [(B,) N, 4] 'rel_yxyx' (relative ymin, xmin, ymax, xmax).
    labels: [(B,) N] int; rows labelled PAD_LABEL (padding, crowds) and
      empty boxes are skipped.
    grid: output side, image_size // STRIDE.
    num_classes: heatmap channels.
  """
  boxes = tf.cast(boxes, tf.float32)
  labels = tf.cast(labels, tf.int32)
  if boxes.shape.rank == 2:
    targets = encode_targets(boxes[None], labels[None], grid, num_classes)
    return {key: value[0] for key, value in targets.items()}
  batch = tf.shape(boxes)[0]
  ymin, xmin, ymax, xmax = tf.unstack(boxes * grid, 4, axis=-1)  # [B, N]
  height, width = ymax - ymin, xmax - xmin
  valid = (labels >= 0) & (height > 0) & (width > 0)
  center_y, center_x = (ymin + ymax) / 2, (xmin + xmax) / 2
  cell_y = tf.clip_by_value(tf.floor(center_y), 0, grid - 1)
  cell_x = tf.clip_by_value(tf.floor(center_x), 0, grid - 1)

  sigma_y = tf.maximum(_GAUSSIAN_ALPHA * height / 6, _MIN_SIGMA)[..., None]
  sigma_x = tf.maximum(_GAUSSIAN_ALPHA * width / 6, _MIN_SIGMA)[..., None]
  steps = tf.range(grid, dtype=tf.float32)
  bump_y = tf.exp(-(steps - cell_y[..., None])**2 / (2 * sigma_y**2))
  bump_x = tf.exp(-(steps - cell_x[..., None])**2 / (2 * sigma_x**2))
  bumps = bump_y[..., :, None] * bump_x[..., None, :]  # [B, N, G, G]
  # One channel per image and class: the max over that class's bumps.
  # Invalid rows go to an extra class per image that is dropped.
  image = tf.broadcast_to(tf.range(batch)[:, None], tf.shape(labels))
  segment = image * (num_classes + 1) + tf.where(valid, labels, num_classes)
  heatmap = tf.math.unsorted_segment_max(bumps, segment,
                                         batch * (num_classes + 1))
  heatmap = tf.reshape(heatmap, [batch, num_classes + 1, grid, grid])
  heatmap = tf.transpose(tf.maximum(heatmap[:, :num_classes], 0.0),
                         [0, 2, 3, 1])

  at = tf.cast(tf.stack([tf.cast(image, tf.float32), cell_y, cell_x],
                        axis=-1), tf.int32)
  values = tf.stack([height, width, center_y - cell_y, center_x - cell_x,
                     tf.ones_like(height)], axis=-1)
  box = tf.tensor_scatter_nd_update(
      tf.zeros([batch, grid, grid, 5]), tf.boolean_mask(at, valid),
      tf.boolean_mask(values, valid))
  return {'heatmap': heatmap, 'box': box}


def training_pairs(num_classes: int, image_size: int):
  """Maps `detection_dataset` batches to (images, targets) for `fit`.

  Crowd objects get no target (COCO ignores them in evaluation too)."""
  grid = image_size // STRIDE

  def to_model(batch: dict):
    labels = tf.where(batch['is_crowd'], PAD_LABEL,
                      batch['bounding_boxes']['labels'])
    return batch['images'], encode_targets(
        batch['bounding_boxes']['boxes'], labels, grid, num_classes)
  return to_model


@keras.saving.register_keras_serializable(package='tfds_builders')
def heatmap_focal_loss(y_true, y_pred):
  """CenterNet's penalty-reduced focal loss, per object in the batch."""
  centre = tf.cast(y_true >= 1.0, tf.float32)
  probability = tf.sigmoid(y_pred)
  positive = centre * (1 - probability)**2 * tf.math.log_sigmoid(y_pred)
  negative = ((1 - centre) * (1 - y_true)**4 * probability**2 *
              tf.math.log_sigmoid(-y_pred))
  objects = tf.maximum(tf.reduce_sum(centre), 1.0)
  return -tf.reduce_sum(positive + negative) / objects


@keras.saving.register_keras_serializable(package='tfds_builders')
def box_l1_loss(y_true, y_pred):
  """L1 on size (weighted 0.1) and centre offset, at object centres only."""
  weight = y_true[..., 4:]
  error = tf.abs(y_true[..., :4] - y_pred) * weight
  size, offset = error[..., :2], error[..., 2:]
  objects = tf.maximum(tf.reduce_sum(weight), 1.0)
  return (_SIZE_WEIGHT * tf.reduce_sum(size) + tf.reduce_sum(offset)) / objects


LOSSES = {'heatmap': heatmap_focal_loss, 'box': box_l1_loss}


# Decoding and evaluation.

class Detections(NamedTuple):
  boxes: tf.Tensor  # [B, K, 4] 'rel_yxyx'
  scores: tf.Tensor  # [B, K]
  classes: tf.Tensor  # [B, K] int32
  count: tf.Tensor  # [B] valid rows; the rest is padding


def decode(heatmap_logits: tf.Tensor, box: tf.Tensor, max_detections: int = 100,
           score_threshold: float = 0.05,
           iou_threshold: float = 0.5) -> Detections:
  """Peaks of the heatmap -> boxes -> per-class non-max suppression."""
  scores = tf.sigmoid(tf.cast(heatmap_logits, tf.float32))
  batch = tf.shape(scores)[0]
  grid_y, grid_x, num_classes = scores.shape[1:]
  peaks = tf.where(tf.nn.max_pool2d(scores, 3, 1, 'SAME') == scores, scores,
                   0.0)
  k = min(max_detections, grid_y * grid_x * num_classes)
  top_scores, index = tf.math.top_k(tf.reshape(peaks, [batch, -1]), k=k)
  classes, cell = index % num_classes, index // num_classes
  cell_y = tf.cast(cell // grid_x, tf.float32)
  cell_x = tf.cast(cell % grid_x, tf.float32)
  values = tf.gather(tf.reshape(tf.cast(box, tf.float32), [batch, -1, 4]),
                     cell, batch_dims=1)
  height, width, dy, dx = tf.unstack(tf.maximum(values, 0.0), 4, axis=-1)
  boxes = keras.utils.bounding_boxes.convert_format(
      tf.stack([cell_y + dy, cell_x + dx, height, width], axis=-1),
      source='center_yxhw', target=BOX_FORMAT, height=grid_y, width=grid_x)
  per_class = tf.one_hot(classes, num_classes) * top_scores[..., None]
  # TensorFlow's NMS rather than a Keras one: Keras 3 has none for boxes.
  nms = tf.image.combined_non_max_suppression(
      boxes[:, :, None, :], per_class, max_output_size_per_class=k,
      max_total_size=k, iou_threshold=iou_threshold,
      score_threshold=score_threshold, clip_boxes=True)
  return Detections(nms.nmsed_boxes, nms.nmsed_scores,
                    tf.cast(nms.nmsed_classes, tf.int32),
                    nms.valid_detections)


_decode = tf.function(decode)


def predict(model: keras.Model, images) -> list[ImageBoxes]:
  """Decoded detections of one batch, 'rel_yxyx' boxes, per image."""
  outputs = model.predict_on_batch(images)
  found = _decode(outputs['heatmap'], outputs['box'])
  results = []
  for boxes, scores, classes, count in zip(*(t.numpy() for t in found)):
    results.append(ImageBoxes(boxes[:count], classes[:count],
                              scores=scores[:count]))
  return results


def ground_truth(batch: dict) -> list[ImageBoxes]:
  """The real (unpadded) boxes of a `detection_dataset` batch, per image."""
  boxes = batch['bounding_boxes']['boxes'].numpy()
  labels = batch['bounding_boxes']['labels'].numpy()
  crowd, sizes = batch['is_crowd'].numpy(), batch['original_size'].numpy()
  truth = []
  for i, (height, width) in enumerate(sizes):
    real = labels[i] >= 0  # padding rows are PAD_LABEL
    truth.append(ImageBoxes(boxes[i][real], labels[i][real],
                            is_crowd=crowd[i][real], height=int(height),
                            width=int(width)))
  return truth


def evaluate(model: keras.Model, dataset: tf.data.Dataset,
             class_names: list[str]) -> dict:
  """COCO box metrics of `model` on `detection_dataset` batches."""
  truth, found = [], []
  for batch in dataset:
    for real, predicted in zip(ground_truth(batch),
                               predict(model, batch['images'])):
      truth.append(real)
      found.append(predicted._replace(height=real.height, width=real.width))
  return coco_metrics(truth, found, class_names)
