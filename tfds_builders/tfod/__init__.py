"""`tfod_export`: TF Object Detection API TFRecords (import and export)."""

from tfds_builders.tfod.builder import TfodExport
