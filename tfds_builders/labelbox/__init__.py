"""`labelbox_export` and `labelbox_cars`: Labelbox exports."""

from tfds_builders.labelbox.builder import LabelboxExport
from tfds_builders.labelbox.cars import LabelboxCars
