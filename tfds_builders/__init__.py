"""TFDS builders for labelled-image exports: `import tfds_builders` registers
`voc_export` (and the other builders) with TensorFlow Datasets."""

from tfds_builders.coco import CocoExport
from tfds_builders.voc import VocExport

__all__ = ['VocExport']
