"""Reusable parts of `scripts/train.py`: input pipeline, models, metrics.

It lives beside the script, outside the `tfds_builders` package, so that
training on a built dataset folder (`--dataset_dir`) never imports the
builders: the folder describes itself.

  data.py        tfds builder -> decoded, resized, augmented, batched tf.data
  models.py      segmentation models (`unet`, `fcn3`) and their loss
  detection.py   the CenterNet-style detector: targets, losses, decoding
  metrics.py     mean IoU / per-class IoU / pixel accuracy, COCO mAP
  precision.py   mixed precision policy from the accelerator
  visualize.py   predictions.png
"""
