"""The common example schema of DESIGN.md, built once for every builder."""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from tfds_builders.core.labels import BACKGROUND

# segmentation_mask value of void / unknown / crowd pixels: ignored by losses
# and metrics. The one definition; everything else imports it.
VOID = 255


def features(instance_masks: bool,
             class_names: list[str] | None = None) -> tfds.features.FeaturesDict:
  """The FeaturesDict every builder emits.

  Args:
    instance_masks: whether objects carry a 0/1 PNG mask each (left out by
      the `boxes` configs: per-object PNGs dominate dataset size).
    class_names: the class list when it is fixed by the builder; None when it
      is read from the export at build time (see `set_class_names`).
  """
  label_kwargs = {'names': class_names} if class_names else {}
  objects = {
      'bbox': tfds.features.BBoxFeature(),
      'label': tfds.features.ClassLabel(**label_kwargs),
      'is_crowd': tfds.features.Scalar(dtype=np.bool_),
      'is_difficult': tfds.features.Scalar(dtype=np.bool_),
      'is_truncated': tfds.features.Scalar(dtype=np.bool_),
      'area': tfds.features.Scalar(dtype=np.float32),
      # Whether the export gave the object a polygon, RLE or mask; when it
      # did not, `mask` is all zeros (never the box: nothing is made up).
      'has_mask': tfds.features.Scalar(dtype=np.bool_),
  }
  if instance_masks:
    objects['mask'] = tfds.features.Image(shape=(None, None, 1),
                                          encoding_format='png')
  return tfds.features.FeaturesDict({
      'image': tfds.features.Image(shape=(None, None, 3)),
      'image/filename': tfds.features.Text(),
      'image/id': tfds.features.Text(),
      'objects': tfds.features.Sequence(objects),
      'segmentation_mask': tfds.features.LabeledImage(
          labels=[BACKGROUND] + list(class_names) if class_names else None,
          shape=(None, None, 1), encoding_format='png'),
  })


def set_class_names(feature_dict: tfds.features.FeaturesDict,
                    names: list[str]) -> None:
  """Fills in class names read from the export, once, before generation.

  The names are only known once the export has been read, after `_info()`.
  `ClassLabel.names` may be set once; `LabeledImage` keeps its labels in a
  ClassLabel with no public setter, hence the private attribute.
  """
  # Setting the same names again is a no-op; different names raise.
  feature_dict['objects']['label'].names = list(names)
  feature_dict['segmentation_mask']._class_label.names = (  # pylint: disable=protected-access
      [BACKGROUND] + list(names))
