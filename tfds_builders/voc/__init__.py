"""`voc_export`: PASCAL VOC XML exports."""

from tfds_builders.voc.builder import VocExport
