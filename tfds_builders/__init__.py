"""TFDS builders for labelled-image exports.

`import tfds_builders` (or `tfds build ... --imports tfds_builders`) registers
`voc_export`, `coco_export`, `labelbox_export`, `tfod_export` and
`labelbox_cars` with TensorFlow Datasets.
"""

from tfds_builders.coco import CocoExport
from tfds_builders.labelbox import LabelboxCars, LabelboxExport
from tfds_builders.tfod import TfodExport
from tfds_builders.voc import VocExport

__all__ = ['CocoExport', 'LabelboxCars', 'LabelboxExport', 'TfodExport',
           'VocExport']
