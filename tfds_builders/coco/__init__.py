"""`coco_export`: COCO instance-annotation exports."""

from tfds_builders.coco.builder import CocoConfig, CocoExport
