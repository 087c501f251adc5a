"""tfds_builders.core.masks: cropped instance masks, polygons, RLE, PNGs."""

import io

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask
import pytest

from tfds_builders.core import masks
from tfds_builders.core.errors import SkippableError


def full(mask: masks.Mask, height: int, width: int) -> np.ndarray:
  return mask.full(height, width)


def test_rectangle_polygon_fills_exactly_its_pixels():
  mask = masks.rasterize_polygons([[2, 1, 7, 1, 7, 4, 2, 4]], 6, 10)
  expected = np.zeros((6, 10), np.uint8)
  expected[1:4, 2:7] = 1
  np.testing.assert_array_equal(full(mask, 6, 10), expected)
  assert mask.box() == (2, 1, 7, 4) and mask.area == 15


def test_mask_is_kept_cropped_not_full_size():
  mask = masks.rasterize_polygons([[900, 900, 910, 900, 910, 905]], 1000,
                                  1000)
  assert mask.pixels.size < 200 and (mask.top, mask.left) == (900, 900)


def test_polygon_area_matches_pycocotools_within_two_percent():
  rng = np.random.default_rng(0)
  errors = []
  for _ in range(40):
    radius = rng.choice([12, 25, 60])
    center = rng.uniform(radius + 2, 198 - radius, 2)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
    radii = rng.uniform(radius / 2, radius, 12)
    poly = np.stack([center[0] + radii * np.cos(angles),
                     center[1] + radii * np.sin(angles)], 1).ravel().tolist()
    ours = masks.rasterize_polygons([poly], 200, 200).area
    coco = int(coco_mask.area(coco_mask.frPyObjects([poly], 200, 200))[0])
    errors.append((ours - coco) / coco)
  assert abs(np.mean(errors)) < 0.005  # unbiased
  assert np.max(np.abs(errors)) < 0.06  # small polygons differ by a few px


def test_thin_polygon_does_not_vanish():
  sliver = [[1, 5.2, 30, 5.2, 30, 5.5, 1, 5.5]]  # 0.3 px tall
  mask = full(masks.rasterize_polygons(sliver, 10, 40), 10, 40)
  assert mask[5, 1:30].all() and mask.sum() >= 29


def test_masks_of_labels_crops_each_id():
  ids = np.zeros((20, 30), np.int32)
  ids[2:5, 3:9] = 1
  ids[10:12, 20:21] = 3
  ids[0, 0] = 255  # void: not asked for
  found = masks.masks_of_labels(ids, [1, 2, 3])
  assert sorted(found) == [1, 3]
  assert found[1].box() == (3, 2, 9, 5) and found[3].area == 2
  np.testing.assert_array_equal(full(found[3], 20, 30), ids == 3)


def _uncompressed_counts(mask):
  flat = mask.ravel(order='F')
  counts, value, run = [], 0, 0
  for pixel in flat:
    if pixel != value:
      counts.append(run)
      value, run = pixel, 0
    run += 1
  return counts + [run]


def _rectangle():
  expected = np.zeros((8, 6), np.uint8, order='F')
  expected[2:5, 1:4] = 1
  return expected


def test_coco_rle_both_forms_decode_to_same_mask():
  expected = _rectangle()
  compressed = coco_mask.encode(expected)
  as_string = {'size': [8, 6], 'counts': compressed['counts'].decode()}
  as_list = {'size': [8, 6], 'counts': _uncompressed_counts(expected)}
  for segmentation in (as_string, as_list):
    mask = masks.decode_coco_segmentation(segmentation, 8, 6, file='f',
                                          item='annotation 7')
    np.testing.assert_array_equal(full(mask, 8, 6), expected)


def test_compressed_counts_decode_like_pycocotools():
  rng = np.random.default_rng(3)
  for _ in range(20):
    mask = np.asfortranarray(rng.random((37, 23)) > 0.6).astype(np.uint8)
    encoded = coco_mask.encode(mask)['counts']
    counts = masks.compressed_rle_counts(encoded, file='f', item='a')
    assert counts == _uncompressed_counts(mask) or counts == [0] + (
        _uncompressed_counts(mask))[1:]
    assert sum(counts) == 37 * 23


@pytest.mark.parametrize('segmentation, problem', [
    ({'size': [5, 5], 'counts': [25]}, r'RLE size \[5, 5\]'),
    ({'size': [8, 6], 'counts': [10, 5]}, 'cover 15 pixels'),
    ({'size': [8, 6], 'counts': [40, 20]}, 'cover 60 pixels'),
    ({'size': [8, 6], 'counts': [-4, 52]}, 'RLE count -4'),
    ({'size': [8, 6], 'counts': ['4', 44]}, 'RLE count'),
    ({'size': [8, 6], 'counts': 'zz~~'}, 'do not decode'),
    ({'size': [8, 6], 'counts': '0'}, 'cover 0 pixels'),
    ({'size': [8, 6], 'counts': 'P'}, 'ends inside a number'),
    ([[1, 1, 5, 1, float('nan'), 4]], 'not finite'),
    ([[1, 1, 5e9, 1, 5, 4]], 'far outside'),
    ([[1, 1, 5, 1]], 'no polygon with at least 3 points'),
    ('abc', 'neither polygons nor RLE'),
])
def test_bad_segmentations_are_skipped_with_the_reason(segmentation, problem):
  with pytest.raises(SkippableError, match=problem) as e:
    masks.decode_coco_segmentation(segmentation, 8, 6,
                                   file='instances.json', item='annotation 42')
  assert 'instances.json: annotation 42' in str(e.value)


def test_png_encoding_round_trips_and_zeros_are_cached():
  mask = np.zeros((30, 40), np.uint8)
  mask[3:9, 5:30] = 1
  for data in (masks.encode_png(mask), masks.zeros_png(30, 40)):
    with Image.open(io.BytesIO(data)) as im:
      assert im.mode == 'L' and im.size == (40, 30)
      im.load()
  with Image.open(io.BytesIO(masks.encode_png(mask))) as im:
    np.testing.assert_array_equal(np.asarray(im), mask)
  assert masks.encode_png(np.zeros((30, 40), np.uint8)) is masks.zeros_png(
      30, 40)
  assert not np.asarray(Image.open(io.BytesIO(masks.zeros_png(30, 40)))).any()


def test_semantic_mask_paints_layers_in_order():
  box = (slice(0, 4), slice(0, 4))
  inner = masks.Mask(1, 1, np.ones((2, 2), bool))
  semantic = masks.paint_semantic(5, 5, [(box, 255), (inner, 3)])
  assert semantic[0, 0] == 255 and semantic[1, 1] == 3 and semantic[4, 4] == 0
