"""Segmentation models and their loss, one `get_model`-style function each.

Inputs are float32 RGB in 0..255, [S, S, 3]; outputs are per-pixel class
probabilities [S, S, num_classes] (class 0 = background), softmax in float32
even under a mixed precision policy.
"""

from __future__ import annotations

import keras
from keras import layers

from tfds_builders.core.schema import VOID

# Moving statistics follow the last ~10 steps: with Keras' 0.99 they still lag
# the weights after a few hundred steps of a short CPU run, and inference
# (which uses them) falls far below training accuracy.
BATCHNORM_MOMENTUM = 0.9


def unet(image_size: int, num_classes: int, width: int = 16,
         levels: int = 4) -> keras.Model:
  """A compact U-Net after the keras.io Oxford Pets example.

  Same Xception-style residual blocks (separable convolutions down,
  transposed convolutions up), plus the U-Net skip connections that the
  keras.io version leaves out: each up block is concatenated with the
  encoder features of its resolution, which sharpens object boundaries.
  Channels are width * (1, 2, 4, 8); keras.io's width is 32, but 16 trains
  ~4x faster on a CPU. `image_size` must be divisible by 2 ** levels.
  """
  filters = [width * 2**level for level in range(levels)]
  inputs = keras.Input((image_size, image_size, 3))
  x = layers.Rescaling(1 / 255)(inputs)
  x = layers.Conv2D(filters[0], 3, strides=2, padding='same')(x)
  x = layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM)(x)
  x = layers.Activation('relu')(x)

  skips = []
  for width in filters[1:]:  # each block halves the resolution
    skips.append(x)
    residual = x
    for _ in range(2):
      x = layers.Activation('relu')(x)
      x = layers.SeparableConv2D(width, 3, padding='same')(x)
      x = layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM)(x)
    x = layers.MaxPooling2D(3, strides=2, padding='same')(x)
    residual = layers.Conv2D(width, 1, strides=2, padding='same')(residual)
    x = layers.add([x, residual])

  for width in reversed(filters):  # each block doubles it
    residual = x
    for _ in range(2):
      x = layers.Activation('relu')(x)
      x = layers.Conv2DTranspose(width, 3, padding='same')(x)
      x = layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM)(x)
    x = layers.UpSampling2D(2)(x)
    residual = layers.UpSampling2D(2)(residual)
    residual = layers.Conv2D(width, 1, padding='same')(residual)
    x = layers.add([x, residual])
    if skips:
      x = layers.concatenate([x, skips.pop()])

  x = layers.Conv2D(num_classes, 3, padding='same')(x)
  outputs = layers.Activation('softmax', dtype='float32')(x)
  return keras.Model(inputs, outputs, name='unet')


def fcn3(image_size: int, num_classes: int, width: int = 32) -> keras.Model:
  """The seed's 3-layer fully convolutional network: no pooling, no stride.

  Two 3x3 convolutions see 5x5 pixels per output, so it learns colour and
  texture, not shape: a baseline to compare the U-Net with.
  """
  inputs = keras.Input((image_size, image_size, 3))
  x = layers.Rescaling(1 / 255)(inputs)
  x = layers.Conv2D(width, 3, padding='same', activation='relu')(x)
  x = layers.Conv2D(width, 3, padding='same', activation='relu')(x)
  x = layers.Conv2D(num_classes, 1)(x)
  outputs = layers.Activation('softmax', dtype='float32')(x)
  return keras.Model(inputs, outputs, name='fcn3')


SEGMENTATION_MODELS = {'unet': unet, 'fcn3': fcn3}


def segmentation_loss() -> keras.losses.Loss:
  """Cross-entropy averaged over the pixels that are not void (255)."""
  return keras.losses.SparseCategoricalCrossentropy(ignore_class=VOID)
