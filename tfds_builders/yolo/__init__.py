"""`yolo_export`: YOLO txt exports (Ultralytics, Roboflow, Darknet, CVAT,
Label Studio, labelImg)."""

from tfds_builders.yolo.builder import YoloExport
