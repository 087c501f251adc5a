"""yolo_export: one DatasetBuilderTestCase per layout (see test_content.py
for what the examples hold)."""

import tensorflow_datasets as tfds

import tfds_builders  # pylint: disable=unused-import
from tfds_builders.yolo import YoloExport
from tests.paths import DUMMY_DATA

YOLO = DUMMY_DATA / 'yolo'


class UltralyticsNamesDictTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = YoloExport
  EXAMPLE_DIR = YOLO / 'ultralytics_dict'
  SPLITS = {'train': 3, 'validation': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default', 'boxes']


class UltralyticsListFilesTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = YoloExport
  EXAMPLE_DIR = YOLO / 'ultralytics_list'
  SPLITS = {'train': 2, 'validation': 1}  # extra.jpg is in no list
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class RoboflowTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = YoloExport
  EXAMPLE_DIR = YOLO / 'roboflow'
  SPLITS = {'train': 2, 'validation': 1, 'test': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class DarknetCvatTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = YoloExport
  EXAMPLE_DIR = YOLO / 'darknet'
  SPLITS = {'train': 2, 'validation': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class LabelStudioTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = YoloExport
  EXAMPLE_DIR = YOLO / 'labelstudio'
  SPLITS = {'train': 3}  # no splits; the 3 ids all hash into train
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class LabelImgTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = YoloExport
  EXAMPLE_DIR = YOLO / 'labelimg'
  SPLITS = {'train': 2}  # no splits; both ids hash into train
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']
