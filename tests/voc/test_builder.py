"""voc_export: one DatasetBuilderTestCase per layout, plus content checks."""

import tensorflow_datasets as tfds

import tfds_builders  # pylint: disable=unused-import
from tfds_builders.voc import VocExport
from tests.paths import DUMMY_DATA


class VocDevkitTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = VocExport
  EXAMPLE_DIR = DUMMY_DATA / 'voc' / 'vocdevkit'
  SPLITS = {'train': 2, 'validation': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default', 'boxes']


class VocFlatLayoutTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = VocExport
  EXAMPLE_DIR = DUMMY_DATA / 'voc' / 'flat'
  SPLITS = {'train': 2, 'test': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class VocLabelImgTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = VocExport
  EXAMPLE_DIR = DUMMY_DATA / 'voc' / 'labelimg'
  SPLITS = {'train': 5}  # 5 ids, none hashed into test
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']
