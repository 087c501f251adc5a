"""tfds_builders.core.geometry: pixel boxes to clipped relative boxes."""

import math

import pytest

from tfds_builders.core import geometry
from tfds_builders.core.errors import SkippableError


def test_relative_box_is_pixels_over_size():
  bbox, clipped = geometry.to_relative_bbox((10, 20, 30, 60), 100, 80,
                                            file='a.xml', item='object #1')
  assert not clipped
  assert bbox == (20 / 80, 10 / 100, 60 / 80, 30 / 100)  # ymin, xmin, ...


def test_box_partly_outside_is_clipped_and_flagged():
  bbox, clipped = geometry.to_relative_bbox((-5, 10, 120, 90), 100, 80,
                                            file='a.xml', item='o')
  assert clipped
  assert (bbox.ymin, bbox.xmin, bbox.ymax, bbox.xmax) == (10 / 80, 0, 1, 1)


@pytest.mark.parametrize('box, problem', [
    ((30, 10, 10, 20), 'inverted'),
    ((math.nan, 10, 10, 20), 'non-finite'),
    ((150, 10, 160, 20), 'entirely outside'),
    ((10, 10, 10, 20), 'zero area'),
])
def test_unusable_boxes_are_skippable_with_a_reason(box, problem):
  with pytest.raises(SkippableError, match=problem) as e:
    geometry.to_relative_bbox(box, 100, 80, file='a.xml', item='object #3')
  assert 'a.xml: object #3' in str(e.value)


def test_iou_and_disagreement():
  assert geometry.iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1
  assert geometry.iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
  assert geometry.iou((0, 0, 1, 1), (5, 5, 6, 6)) == 0
  # A box that does not overlap its segmentation disagrees with it...
  assert geometry.disagree((0, 0, 10, 10), (50, 50, 60, 60))
  # ...a small box a pixel wider than its mask does not (IoU 0.81).
  assert not geometry.disagree((0, 0, 10, 10), (0, 0, 9, 9))
  assert not geometry.disagree((0, 0, 100, 100), (1, 1, 99, 99))
