"""TFDS builders for labelled-image exports: `import tfds_builders` registers
`voc_export` (and the other builders) with TensorFlow Datasets."""

from tfds_builders.coco import CocoExport
from tfds_builders.labelbox import LabelboxCars, LabelboxExport
from tfds_builders.voc import VocExport
from tfds_builders.tfod import TfodExport

__all__ = ['VocExport']
