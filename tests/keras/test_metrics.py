"""tfds_builders/keras/metrics.py: mean IoU and COCO AP on hand-checked
cases."""

import numpy as np
import pytest

from tfds_builders.keras import metrics


def test_mean_iou_on_hand_checked_cases():
  truth = np.array([[0, 0, 1, 1], [0, 0, 1, 255]], np.uint8)[None, ..., None]
  perfect = np.eye(2, dtype=np.float32)[np.minimum(truth[..., 0], 1)]
  iou = metrics.mean_iou_metric(2)
  iou.update_state(truth, perfect)
  assert float(iou.result()) == pytest.approx(1.0, abs=1e-6)
  report = metrics.iou_report(iou.total_cm.numpy(), ['background', 'car'])
  assert report['pixels'] == 7  # the void pixel is not counted
  assert report['pixel_accuracy'] == 1.0

  # One background pixel predicted as car. Background: 3 hits, union 4
  # (4 true, 3 predicted); car: 3 hits, union 4 (3 true, 4 predicted).
  partial = perfect.copy()
  partial[0, 0, 0] = [0, 1]
  iou.reset_state()
  iou.update_state(truth, partial)
  report = metrics.iou_report(iou.total_cm.numpy(), ['background', 'car'])
  assert float(iou.result()) == pytest.approx(0.75, abs=1e-6)
  assert report['mean_iou'] == pytest.approx(0.75)
  assert report['per_class_iou'] == {'background': 0.75, 'car': 0.75}
  assert report['pixel_accuracy'] == pytest.approx(6 / 7)


def _coco(truth_boxes, found_boxes, scores):
  truth = [metrics.ImageBoxes(np.array(truth_boxes), np.zeros(
      len(truth_boxes), int), height=100, width=200)]
  found = [metrics.ImageBoxes(np.array(found_boxes), np.zeros(
      len(found_boxes), int), scores=np.array(scores), height=100, width=200)]
  return metrics.coco_metrics(truth, found, ['raccoon'])


def test_coco_ap_on_hand_checked_cases():
  a, b = [0.1, 0.1, 0.5, 0.4], [0.5, 0.5, 0.9, 0.9]
  perfect = _coco([a, b], [a, b], [0.9, 0.8])
  assert perfect['AP'] == perfect['AP50'] == perfect['AP75'] == 1.0
  # Half the objects found, precision 1: the 101-point interpolated
  # precision is 1 at recall 0, .01, ..., .50 and 0 above: AP = 51/101.
  half = _coco([a, b], [a], [0.9])
  assert half['AP50'] == pytest.approx(51 / 101)
  # A confident false positive, then the one object: precision 1/2 at
  # recall 1, so AP = 0.5 at every IoU threshold.
  miss_first = _coco([a], [b, a], [0.9, 0.8])
  assert miss_first['AP'] == pytest.approx(0.5)
  assert _coco([a], [], [])['AP50'] == 0.0


def test_coco_boxes_are_in_original_pixels():
  # 'rel_yxyx' (ymin .1, xmin .2, ymax .5, xmax .6) of a 100x200 image.
  image = metrics.ImageBoxes(np.array([[0.1, 0.2, 0.5, 0.6]]), np.zeros(1),
                             height=100, width=200)
  np.testing.assert_allclose(metrics._xywh(image), [[40, 10, 80, 40]],  # pylint: disable=protected-access
                             rtol=1e-6)
  assert metrics._xywh(image._replace(boxes=np.zeros((0, 4)))) == []  # pylint: disable=protected-access
