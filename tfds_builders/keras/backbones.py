"""Feature pyramids (strides 4, 8, 16, 32) for the detector.

`small` is built in and trains from scratch on a CPU; the others are
`keras.applications` models (ImageNet weights when asked for, which
downloads them), cut at the last layer of each stride.
"""

from __future__ import annotations

import keras
from keras import layers
import numpy as np

from tfds_builders.keras.segmentation import BATCHNORM_MOMENTUM

BACKBONES = ('small', 'mobilenet_v2', 'efficientnet_b0', 'resnet50')

_APPLICATIONS = {
    # name: (constructor, input scale, input offset); see _preprocess.
    'mobilenet_v2': (keras.applications.MobileNetV2, 1 / 127.5, -1.0),
    'efficientnet_b0': (keras.applications.EfficientNetB0, None, None),
    'resnet50': (keras.applications.ResNet50, 'caffe', None),
}


def pyramid(inputs, backbone: str, weights: str | None,
            image_size: int) -> list:
  """Features at strides 4, 8, 16, 32 of float RGB 0..255 `inputs`."""
  if backbone == 'small':
    return small(layers.Rescaling(1 / 255)(inputs))
  if backbone not in _APPLICATIONS:
    raise ValueError(f'unknown backbone {backbone!r}; choose from'
                     f' {BACKBONES}.')
  constructor, scale, offset = _APPLICATIONS[backbone]
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
  features = keras.Model(model.input,
                         [by_stride[s] for s in (4, 8, 16, 32)],
                         name=backbone)
  return features(_preprocess(inputs, scale, offset))


def conv_bn_relu(x, filters: int, kernel: int = 3, strides: int = 1,
                 separable: bool = False):
  conv = layers.SeparableConv2D if separable else layers.Conv2D
  x = conv(filters, kernel, strides=strides, padding='same',
           use_bias=False)(x)
  x = layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM)(x)
  return layers.Activation('relu')(x)


def small(x) -> list:
  """Features at strides 4, 8, 16, 32; ~0.5 M parameters."""
  x = conv_bn_relu(x, 24, strides=2)
  features = []
  for width in (32, 64, 128, 192):
    x = conv_bn_relu(x, width, strides=2)
    x = layers.add([x, conv_bn_relu(x, width, separable=True)])
    features.append(x)
  return features


def _preprocess(inputs, scale, offset):
  """The input scaling each ImageNet model was trained with."""
  if scale is None:  # EfficientNet rescales inside the model
    return inputs
  if scale != 'caffe':
    return layers.Rescaling(scale, offset)(inputs)
  # Caffe: RGB -> BGR minus the ImageNet mean, as a frozen 1x1 convolution
  # (a Lambda of `keras.applications.resnet.preprocess_input` would need
  # `load_model(..., safe_mode=False)`).
  to_bgr = np.eye(3, dtype=np.float32)[::-1].reshape(1, 1, 3, 3)
  mean = np.array([103.939, 116.779, 123.68], np.float32)
  return layers.Conv2D(
      3, 1, trainable=False, name='caffe_preprocess',
      kernel_initializer=keras.initializers.Constant(to_bgr),
      bias_initializer=keras.initializers.Constant(-mean))(inputs)
