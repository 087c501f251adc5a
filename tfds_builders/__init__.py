"""TFDS builders for labelled-image exports.

`import tfds_builders` (or `tfds build ... --imports tfds_builders`) registers
`voc_export`, `coco_export`, `labelbox_export`, `tfod_export`, `yolo_export`
and `labelbox_cars` with TensorFlow Datasets.
"""

from tfds_builders.coco import CocoExport
from tfds_builders.labelbox import LabelboxCars, LabelboxExport
from tfds_builders.tfod import TfodExport
from tfds_builders.voc import VocExport
from tfds_builders.yolo import YoloExport

__all__ = ['CocoExport', 'LabelboxCars', 'LabelboxExport', 'TfodExport',
           'VocExport', 'YoloExport']
