"""Evaluation: IoU for segmentation, COCO mAP for detection, throughput.

Segmentation uses `keras.metrics.MeanIoU(ignore_class=VOID)`: void pixels
count for nothing. Its mean averages the classes that occur in the truth or
the prediction. Per-class IoU and pixel accuracy come from the same
confusion matrix.

Detection uses pycocotools' `COCOeval` on in-memory COCO objects: boxes in
the original image's pixels, crowd objects marked `iscrowd` (VOC's
"difficult" objects count as normal objects).
"""

from __future__ import annotations

import contextlib
import io
import time
from typing import NamedTuple

import keras
import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from tfds_builders.core.schema import VOID


# Segmentation.

def mean_iou_metric(num_classes: int) -> keras.metrics.MeanIoU:
  return keras.metrics.MeanIoU(num_classes, name='mean_iou',
                               ignore_class=VOID, sparse_y_pred=False)


def segmentation_metrics(model: keras.Model, dataset,
                         class_names: list[str]) -> dict:
  """Mean IoU, per-class IoU and pixel accuracy over (image, mask) batches."""
  iou = mean_iou_metric(len(class_names))
  for images, masks in dataset:
    iou.update_state(masks, model.predict_on_batch(images))
  report = iou_report(iou.total_cm.numpy(), class_names)
  report['mean_iou'] = float(iou.result())
  return report


def iou_report(confusion: np.ndarray, class_names: list[str]) -> dict:
  """Per-class IoU (None for a class absent from truth and prediction)."""
  confusion = np.asarray(confusion, np.float64)  # rows: truth, columns: pred
  hits = np.diag(confusion)
  union = confusion.sum(0) + confusion.sum(1) - hits
  present = union > 0
  per_class = np.divide(hits, union, out=np.zeros_like(hits), where=present)
  total = confusion.sum()
  return {
      'mean_iou': float(per_class[present].mean()) if present.any() else 0.0,
      'per_class_iou': {name: float(v) if p else None
                        for name, v, p in zip(class_names, per_class, present)},
      'pixel_accuracy': float(hits.sum() / total) if total else 0.0,
      'pixels': int(total),
  }


# Detection.

class ImageBoxes(NamedTuple):
  """Boxes of one image; ground truth has no scores, detections have."""
  boxes: np.ndarray  # [n, 4] 'rel_yxyx': relative (ymin, xmin, ymax, xmax)
  labels: np.ndarray  # [n] class indices
  scores: np.ndarray | None = None
  is_crowd: np.ndarray | None = None
  height: int = 1  # original image size: COCO areas are in pixels
  width: int = 1


def coco_metrics(truth: list[ImageBoxes], detections: list[ImageBoxes],
                 class_names: list[str]) -> dict:
  """AP (IoU .50:.95), AP50, AP75 and AR@100 from pycocotools.

  `truth[i]` and `detections[i]` are the same image. Values are -1 where
  COCO has nothing to measure (no ground truth objects).
  """
  images, annotations, results = [], [], []
  for image_id, (gt, found) in enumerate(zip(truth, detections)):
    images.append({'id': image_id, 'height': gt.height, 'width': gt.width})
    crowd = gt.is_crowd if gt.is_crowd is not None else np.zeros(len(gt.labels))
    for box, label, is_crowd in zip(_xywh(gt), gt.labels, crowd):
      annotations.append({
          'id': len(annotations) + 1, 'image_id': image_id,
          'category_id': int(label) + 1, 'bbox': box,
          'area': box[2] * box[3], 'iscrowd': int(is_crowd)})
    for box, label, score in zip(_xywh(found), found.labels, found.scores):
      results.append({'image_id': image_id, 'category_id': int(label) + 1,
                      'bbox': box, 'score': float(score)})
  if not results:
    return {'AP': 0.0, 'AP50': 0.0, 'AP75': 0.0, 'AR100': 0.0}
  with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints a lot
    coco_truth = COCO()
    coco_truth.dataset = {
        'images': images, 'annotations': annotations,
        'categories': [{'id': i + 1, 'name': name}
                       for i, name in enumerate(class_names)]}
    coco_truth.createIndex()
    evaluation = COCOeval(coco_truth, coco_truth.loadRes(results), 'bbox')
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
  stats = evaluation.stats
  return {'AP': float(stats[0]), 'AP50': float(stats[1]),
          'AP75': float(stats[2]), 'AR100': float(stats[8])}


def _xywh(image: ImageBoxes) -> list[list[float]]:
  """'rel_yxyx' boxes -> COCO pixel [x, y, width, height]."""
  boxes = np.asarray(image.boxes, np.float32).reshape(-1, 4)
  return np.asarray(keras.utils.bounding_boxes.convert_format(
      boxes, source='rel_yxyx', target='xywh', height=image.height,
      width=image.width)).tolist()


# Throughput.

class Throughput(keras.callbacks.Callback):
  """Training images per second, leaving out the first epoch (tracing and
  compilation) when there is more than one."""

  def __init__(self, batch_size: int):
    super().__init__()
    self.batch_size = batch_size
    self.epochs: list[tuple[int, float]] = []  # (steps, seconds)
    self._start = 0.0
    self._steps = 0

  def on_epoch_begin(self, epoch, logs=None):
    self._start, self._steps = time.perf_counter(), 0

  def on_train_batch_end(self, batch, logs=None):
    self._steps += 1

  def on_epoch_end(self, epoch, logs=None):
    self.epochs.append((self._steps, time.perf_counter() - self._start))

  @property
  def images_per_second(self) -> float:
    timed = self.epochs[1:] or self.epochs
    seconds = sum(s for _, s in timed)
    images = sum(n for n, _ in timed) * self.batch_size
    return images / seconds if seconds else 0.0

  @property
  def seconds(self) -> float:
    return sum(s for _, s in self.epochs)
