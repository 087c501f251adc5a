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
"""

from __future__ import annotations

import math
from typing import NamedTuple

import keras
from keras import layers
import numpy as np
import tensorflow as tf

from trainlib import metrics
from trainlib.data import PAD_LABEL
from trainlib.models import BATCHNORM_MOMENTUM

STRIDE = 4
BACKBONES = ('small', 'mobilenet_v2', 'efficientnet_b0', 'resnet50')
_GAUSSIAN_ALPHA = 0.54
_MIN_SIGMA = 1 / 6  # CenterNet's sigma for a radius-0 box
_SIZE_WEIGHT = 0.1  # CenterNet's weight of the size loss
_PRIOR = 0.1  # initial centre probability (focal-loss bias init)


# Model.

def detector(image_size: int, num_classes: int, backbone: str = 'small',
             weights: str | None = None, width: int = 64) -> keras.Model:
  """CenterNet heads on a feature pyramid merged top-down to stride 4.

  Args:
    image_size: square input side, divisible by 32.
    num_classes: object classes (no background class).
    backbone: 'small' (built in, trains from scratch on a CPU) or a
      `keras.applications` model: 'mobilenet_v2', 'efficientnet_b0',
      'resnet50'.
    weights: None (random init) or 'imagenet' (downloads the weights).
    width: channels of the merged features and of the heads.
  """
  if image_size % 32:
    raise ValueError(f'image_size must be divisible by 32, not {image_size}.')
  inputs = keras.Input((image_size, image_size, 3))  # RGB, 0..255
  if backbone == 'small':
    features = _small_backbone(layers.Rescaling(1 / 255)(inputs))
  else:
    features = _applications_backbone(inputs, backbone, weights, image_size)
  x = _merge_top_down(features, width)
  heatmap = _head(x, num_classes, width, math.log(_PRIOR / (1 - _PRIOR)))
  box = _head(x, 4, width, 0.0)
  outputs = {
      'heatmap': layers.Activation('linear', dtype='float32',
                                   name='heatmap')(heatmap),
      'box': layers.Activation('linear', dtype='float32', name='box')(box),
  }
  return keras.Model(inputs, outputs, name=f'centernet_{backbone}')


def _conv(x, filters: int, kernel: int = 3, strides: int = 1,
          separable: bool = False):
  conv = layers.SeparableConv2D if separable else layers.Conv2D
  x = conv(filters, kernel, strides=strides, padding='same',
           use_bias=False)(x)
  x = layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM)(x)
  return layers.Activation('relu')(x)


def _small_backbone(x) -> list:
  """Features at strides 4, 8, 16, 32; ~0.5 M parameters."""
  x = _conv(x, 24, strides=2)
  features = []
  for width in (32, 64, 128, 192):
    x = _conv(x, width, strides=2)
    x = layers.add([x, _conv(x, width, separable=True)])
    features.append(x)
  return features


_APPLICATIONS = {
    # name: (constructor, input scale, input offset); see _preprocess.
    'mobilenet_v2': (keras.applications.MobileNetV2, 1 / 127.5, -1.0),
    'efficientnet_b0': (keras.applications.EfficientNetB0, None, None),
    'resnet50': (keras.applications.ResNet50, 'caffe', None),
}


def _applications_backbone(inputs, name: str, weights: str | None,
                           image_size: int) -> list:
  if name not in _APPLICATIONS:
    raise ValueError(f'unknown backbone {name!r}; choose from {BACKBONES}.')
  constructor, scale, offset = _APPLICATIONS[name]
  model = constructor(include_top=False, weights=weights,
                      input_shape=(image_size, image_size, 3))
  # The last layer at each stride is that stage's output.
  by_stride = {}
  for layer in model.layers:
    if isinstance(layer, layers.BatchNormalization):
      layer.momentum = BATCHNORM_MOMENTUM
    shape = getattr(layer, 'output', None)
    shape = getattr(shape, 'shape', None)
    if shape is None or len(shape) != 4 or not shape[1]:
      continue
    stride = image_size // shape[1]
    if stride * shape[1] == image_size and stride in (4, 8, 16, 32):
      by_stride[stride] = layer.output
  pyramid = keras.Model(model.input,
                        [by_stride[s] for s in (4, 8, 16, 32)], name=name)
  return pyramid(_preprocess(inputs, scale, offset))


def _preprocess(inputs, scale, offset):
  """The input scaling each ImageNet model was trained with."""
  if scale is None:  # EfficientNet rescales inside the model
    return inputs
  if scale != 'caffe':
    return layers.Rescaling(scale, offset)(inputs)
  # Caffe: RGB -> BGR minus the ImageNet mean, as a frozen 1x1 convolution.
  to_bgr = np.eye(3, dtype=np.float32)[::-1].reshape(1, 1, 3, 3)
  mean = np.array([103.939, 116.779, 123.68], np.float32)
  return layers.Conv2D(
      3, 1, trainable=False, name='caffe_preprocess',
      kernel_initializer=keras.initializers.Constant(to_bgr),
      bias_initializer=keras.initializers.Constant(-mean))(inputs)


def _merge_top_down(features: list, width: int):
  """FPN-style: upsample the coarsest map and add each finer one."""
  x = _conv(features[-1], width, kernel=1)
  for finer in reversed(features[:-1]):
    x = layers.UpSampling2D(2)(x)  # nearest, as FPN (and XLA-safe in bf16)
    x = layers.add([x, _conv(finer, width, kernel=1)])
    x = _conv(x, width, separable=True)
  return x


def _head(x, outputs: int, width: int, bias: float):
  x = layers.Conv2D(width, 3, padding='same', activation='relu')(x)
  return layers.Conv2D(outputs, 1,
                       bias_initializer=keras.initializers.Constant(bias))(x)


# Targets (run in tf.data) and losses.

def encode_targets(boxes: tf.Tensor, labels: tf.Tensor, grid: int,
                   num_classes: int) -> dict:
  """Dense training targets for one image.

  Args:
    boxes: [N, 4] relative (ymin, xmin, ymax, xmax).
    labels: [N] int32; rows labelled PAD_LABEL (padding, crowds) are skipped.
    grid: output side, image_size // STRIDE.
    num_classes: heatmap channels.
  """
  cells = tf.cast(boxes, tf.float32) * grid
  ymin, xmin, ymax, xmax = tf.unstack(cells, 4, axis=-1)
  height, width = ymax - ymin, xmax - xmin
  valid = (labels >= 0) & (height > 0) & (width > 0)
  center_y, center_x = (ymin + ymax) / 2, (xmin + xmax) / 2
  cell_y = tf.clip_by_value(tf.floor(center_y), 0, grid - 1)
  cell_x = tf.clip_by_value(tf.floor(center_x), 0, grid - 1)

  sigma_y = tf.maximum(_GAUSSIAN_ALPHA * height / 6, _MIN_SIGMA)
  sigma_x = tf.maximum(_GAUSSIAN_ALPHA * width / 6, _MIN_SIGMA)
  steps = tf.range(grid, dtype=tf.float32)
  bump_y = tf.exp(-(steps - cell_y[:, None]) ** 2 / (2 * sigma_y[:, None]**2))
  bump_x = tf.exp(-(steps - cell_x[:, None]) ** 2 / (2 * sigma_x[:, None]**2))
  bumps = bump_y[:, :, None] * bump_x[:, None, :]  # [N, G, G]
  # One channel per class: the max over that class's bumps. Invalid rows go
  # to an extra segment that is dropped.
  segment = tf.where(valid, labels, num_classes)
  heatmap = tf.math.unsorted_segment_max(bumps, segment, num_classes + 1)
  heatmap = tf.transpose(tf.maximum(heatmap[:num_classes], 0.0), [1, 2, 0])

  at = tf.cast(tf.stack([cell_y, cell_x], axis=-1), tf.int32)
  values = tf.stack([height, width, center_y - cell_y, center_x - cell_x,
                     tf.ones_like(height)], axis=-1)
  box = tf.tensor_scatter_nd_update(
      tf.zeros([grid, grid, 5]), tf.boolean_mask(at, valid),
      tf.boolean_mask(values, valid))
  return {'heatmap': heatmap, 'box': box}


def training_pair(num_classes: int, image_size: int):
  """`to_model` for `data.make_dataset`: (image, dense targets)."""
  grid = image_size // STRIDE

  def to_model(features: dict):
    labels = tf.where(features['is_crowd'], PAD_LABEL, features['labels'])
    targets = encode_targets(features['boxes'], labels, grid, num_classes)
    return tf.cast(features['image'], tf.float32), targets
  return to_model


def evaluation_pair(features: dict):
  """`to_model` for evaluation: (image, padded ground truth + image size)."""
  truth = {key: features[key]
           for key in ('boxes', 'labels', 'is_crowd', 'size')}
  return tf.cast(features['image'], tf.float32), truth


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
  boxes: tf.Tensor  # [B, K, 4] relative (ymin, xmin, ymax, xmax)
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
  center_y, center_x = cell_y + dy, cell_x + dx
  boxes = tf.stack([(center_y - height / 2) / grid_y,
                    (center_x - width / 2) / grid_x,
                    (center_y + height / 2) / grid_y,
                    (center_x + width / 2) / grid_x], axis=-1)
  per_class = tf.one_hot(classes, num_classes) * top_scores[..., None]
  nms = tf.image.combined_non_max_suppression(
      boxes[:, :, None, :], per_class, max_output_size_per_class=k,
      max_total_size=k, iou_threshold=iou_threshold,
      score_threshold=score_threshold, clip_boxes=True)
  return Detections(nms.nmsed_boxes, nms.nmsed_scores,
                    tf.cast(nms.nmsed_classes, tf.int32),
                    nms.valid_detections)


_decode = tf.function(decode)


def predict(model: keras.Model, images) -> list[metrics.ImageBoxes]:
  """Decoded detections of one batch, relative coordinates, per image."""
  outputs = model.predict_on_batch(images)
  found = _decode(outputs['heatmap'], outputs['box'])
  results = []
  for boxes, scores, classes, count in zip(*(t.numpy() for t in found)):
    results.append(metrics.ImageBoxes(boxes[:count], classes[:count],
                                      scores=scores[:count]))
  return results


def evaluate(model: keras.Model, dataset, class_names: list[str]) -> dict:
  """COCO box metrics of `model` on an `evaluation_pair` dataset."""
  truth, found = [], []
  for images, batch in dataset:
    batch = {key: value.numpy() for key, value in batch.items()}
    for i, predicted in enumerate(predict(model, images)):
      real = batch['labels'][i] >= 0  # padding rows are PAD_LABEL
      height, width = (int(side) for side in batch['size'][i])
      truth.append(metrics.ImageBoxes(
          batch['boxes'][i][real], batch['labels'][i][real],
          is_crowd=batch['is_crowd'][i][real], height=height, width=width))
      found.append(predicted._replace(height=height, width=width))
  return metrics.coco_metrics(truth, found, class_names)
