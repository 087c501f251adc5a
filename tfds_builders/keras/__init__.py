"""Keras on a dataset built by tfds_builders: input pipeline, models, metrics.

  import tensorflow_datasets as tfds
  from tfds_builders import keras as tfb_keras

  builder = tfds.builder('voc_export/boxes', data_dir='~/tfds')
  train = tfb_keras.detection_dataset(builder, 'train', image_size=256,
                                      batch_size=16, training=True)
  # {'images': [16, 256, 256, 3] float32 0..255,
  #  'bounding_boxes': {'boxes': [16, 50, 4] 'rel_yxyx', 'labels': [16, 50]},
  #  'is_crowd': [16, 50], 'original_size': [16, 2]}

  builder = tfds.builder('labelbox_cars', data_dir='~/tfds')
  train = tfb_keras.segmentation_dataset(builder, 'train', image_size=128,
                                         batch_size=16, training=True)
  model = tfb_keras.unet(128, len(builder.info.features['segmentation_mask']
                                  .names))
  model.compile('adam', loss=tfb_keras.segmentation_loss())
  model.fit(train, epochs=20, steps_per_epoch=50)

Modules, each readable on its own:
  data.py          the input pipeline (decode, resize, cache, augment, batch)
  segmentation.py  `unet`, `fcn3` and their loss (void pixels ignored)
  backbones.py     feature pyramids for the detector
  detection.py     the CenterNet-style detector: targets, losses, decoding
  metrics.py       mean IoU, COCO mAP (pycocotools), training throughput
  precision.py     mixed precision policy from the accelerator
  visualize.py     predictions.png

`tfds_builders.core.loading.load_builder` (re-exported here) finds a built
dataset by name or by folder.
"""

from tfds_builders.core.loading import load_builder
from tfds_builders.core.schema import VOID
from tfds_builders.keras.data import BOX_FORMAT
from tfds_builders.keras.data import detection_dataset
from tfds_builders.keras.data import num_examples
from tfds_builders.keras.data import PAD_LABEL
from tfds_builders.keras.data import pick_splits
from tfds_builders.keras.data import random_flip
from tfds_builders.keras.data import segmentation_dataset
from tfds_builders.keras.detection import detector
from tfds_builders.keras.metrics import coco_metrics
from tfds_builders.keras.metrics import mean_iou_metric
from tfds_builders.keras.segmentation import fcn3
from tfds_builders.keras.segmentation import segmentation_loss
from tfds_builders.keras.segmentation import unet

__all__ = [
    'BOX_FORMAT', 'PAD_LABEL', 'VOID', 'coco_metrics', 'detection_dataset',
    'detector', 'fcn3', 'load_builder', 'mean_iou_metric', 'num_examples',
    'pick_splits', 'random_flip', 'segmentation_dataset', 'segmentation_loss',
    'unet',
]
