"""Unit tests of the shared helpers in tfds_builders.core."""

import io
import math

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask
import pytest

from tfds_builders.core import geometry, images, labels, masks, splits
from tfds_builders.core.errors import ExportError, SkippableError
from tfds_builders.core.paths import resolve_inside


# Boxes.

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


def test_box_from_mask_is_tight():
  mask = np.zeros((10, 10), np.uint8)
  mask[2:5, 3:8] = 1
  assert geometry.box_from_mask(mask) == (3, 2, 8, 5)
  assert geometry.box_from_mask(np.zeros((4, 4))) is None


# Masks.

def test_rectangle_polygon_fills_exactly_its_pixels():
  mask = masks.rasterize_polygons([[2, 1, 7, 1, 7, 4, 2, 4]], 6, 10)
  expected = np.zeros((6, 10), np.uint8)
  expected[1:4, 2:7] = 1
  np.testing.assert_array_equal(mask, expected)


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
    ours = int(masks.rasterize_polygons([poly], 200, 200).sum())
    coco = int(coco_mask.area(coco_mask.frPyObjects([poly], 200, 200))[0])
    errors.append((ours - coco) / coco)
  assert abs(np.mean(errors)) < 0.005  # unbiased
  assert np.max(np.abs(errors)) < 0.06  # small polygons differ by a few px


def test_thin_polygon_does_not_vanish():
  sliver = [[1, 5.2, 30, 5.2, 30, 5.5, 1, 5.5]]  # 0.3 px tall
  mask = masks.rasterize_polygons(sliver, 10, 40)
  assert mask[5, 1:30].all() and mask.sum() >= 29


def test_coco_rle_both_forms_decode_to_same_mask():
  expected = np.zeros((8, 6), np.uint8, order='F')
  expected[2:5, 1:4] = 1
  compressed = coco_mask.encode(expected)
  counts = [int(c) for c in _uncompressed_counts(expected)]
  as_string = {'size': [8, 6], 'counts': compressed['counts'].decode()}
  as_list = {'size': [8, 6], 'counts': counts}
  for segmentation in (as_string, as_list):
    np.testing.assert_array_equal(
        masks.decode_coco_segmentation(segmentation, 8, 6, file='f',
                                       item='annotation 7'), expected)


def _uncompressed_counts(mask):
  flat = mask.ravel(order='F')
  counts, value, run = [], 0, 0
  for pixel in flat:
    if pixel != value:
      counts.append(run)
      value, run = pixel, 0
    run += 1
  return counts + [run]


def test_rle_size_mismatch_names_the_annotation():
  with pytest.raises(ExportError, match=r'annotation 42.*RLE size \[5, 5\]'):
    masks.decode_coco_segmentation({'size': [5, 5], 'counts': [25]}, 8, 6,
                                   file='instances.json',
                                   item='annotation 42')


def test_palette_png_gives_indices_not_colours():
  indices = np.array([[0, 1, 2], [255, 15, 1]], np.uint8)
  im = Image.fromarray(indices, mode='P')
  im.putpalette([v for i in range(256) for v in (i, 255 - i, 128)])
  buffer = io.BytesIO()
  im.save(buffer, format='PNG')
  np.testing.assert_array_equal(
      masks.read_index_png(buffer.getvalue(), file='m.png'), indices)


# Images.

def _encoded(mode, fmt, size=(8, 6), **save):
  buffer = io.BytesIO()
  Image.new(mode, size, 1).save(buffer, format=fmt, **save)
  return buffer.getvalue()


def test_rgb_jpeg_passes_through_byte_for_byte():
  data = _encoded('RGB', 'JPEG')
  checked = images.check_image(data, file='a.jpg')
  assert checked.encoded is data and (checked.width, checked.height) == (8, 6)
  assert checked.repair is None


@pytest.mark.parametrize('mode, fmt', [('CMYK', 'JPEG'), ('RGBA', 'PNG'),
                                       ('P', 'PNG'), ('I;16', 'PNG')])
def test_other_modes_become_rgb_png_and_are_reported(mode, fmt):
  checked = images.check_image(_encoded(mode, fmt), file='a')
  assert checked.format == 'png' and 'converted' in checked.repair
  assert Image.open(io.BytesIO(checked.encoded)).mode == 'RGB'


@pytest.mark.parametrize('data, problem', [
    (b'', 'empty'),
    (b'not an image at all', 'not a readable image'),
    (_encoded('RGB', 'JPEG', size=(256, 256))[:-40], 'truncated'),
])
def test_broken_images_are_skippable(data, problem):
  with pytest.raises(SkippableError, match=problem):
    images.check_image(data, file='a.jpg')


# Class lists and splits.

def test_class_list_from_data_is_sorted():
  classes = labels.resolve_classes(None, {'zebra': 'a', 'ant': 'b'})
  assert classes.names == ('ant', 'zebra')


def test_class_outside_given_list_is_an_error_naming_where():
  given = labels.ClassList(('cat',), 'labels.txt')
  with pytest.raises(ExportError, match=r"'dog' \(first in b.xml: object #2"):
    labels.resolve_classes(given, {'cat': 'a.xml', 'dog': 'b.xml: object #2'})


def test_labelmap_txt_keeps_order_and_colours(tmp_path):
  (tmp_path / 'labelmap.txt').write_text(
      '# label:color_rgb:parts:actions\nbackground:0,0,0::\n'
      'zebra:10,20,30::\ncar:250,50,83::\n')
  classes = labels.read_label_file(tmp_path)
  assert classes.names == ('zebra', 'car')
  assert classes.color_to_pixel() == {(10, 20, 30): 1, (250, 50, 83): 2,
                                      (0, 0, 0): 0}


def test_split_hash_is_stable_and_near_the_fraction():
  # Fixed values: a change here silently reshuffles every user's splits.
  assert splits.assign_split('raccoon-1') == 'train'
  assert [splits.assign_split(f'img{i}') for i in range(6)] == [
      splits.assign_split(f'img{i}') for i in range(6)]
  share = np.mean([splits.assign_split(str(i)) == 'test'
                   for i in range(5000)])
  assert 0.18 < share < 0.22
  assert all(splits.assign_split(str(i), 0.0) == 'train' for i in range(100))


def test_split_hash_known_values():
  assert splits.holdout_fraction_of('a') == pytest.approx(
      int('ca978112ca1bbdca', 16) / 2**64)


# Paths.

@pytest.mark.parametrize('name, problem', [
    ('../outside.jpg', 'climbs out'),
    ('/etc/passwd', 'absolute'),
    ('C:\\images\\a.jpg', 'absolute'),
])
def test_paths_cannot_leave_the_export(tmp_path, name, problem):
  with pytest.raises(ExportError, match=problem):
    resolve_inside(tmp_path, name, file='a.xml')


def test_symlink_leading_out_is_rejected(tmp_path):
  outside = tmp_path / 'outside.jpg'
  outside.write_bytes(b'x')
  root = tmp_path / 'export'
  root.mkdir()
  (root / 'link.jpg').symlink_to(outside)
  with pytest.raises(ExportError, match='symlink'):
    resolve_inside(root, 'link.jpg', file='a.xml')
  assert resolve_inside(root, 'sub/ok.jpg', file='a.xml') == (
      root.resolve() / 'sub' / 'ok.jpg')
