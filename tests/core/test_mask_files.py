"""tfds_builders.core.mask_files: pixel values become classes by a map."""

import io

import numpy as np
from PIL import Image
import pytest

from tfds_builders.core import mask_files
from tfds_builders.core.errors import SkippableError
from tfds_builders.core.labels import ClassList
from tfds_builders.core.mask_files import ValueMap, voc_colour

VOC = ClassList(mask_files.VOC_CLASSES, 'devkit')


def png(array: np.ndarray, mode: str = 'P', palette=None) -> bytes:
  im = Image.fromarray(array.astype(np.uint8), mode='RGB' if array.ndim == 3
                       else 'L')
  if mode == 'P':
    im = im.convert('P') if array.ndim == 3 else Image.fromarray(
        array.astype(np.uint8), mode='P')
    im.putpalette(palette or [v for i in range(256) for v in voc_colour(i)])
  buffer = io.BytesIO()
  im.save(buffer, format='PNG')
  return buffer.getvalue()


def read(data, value_map, classes, size=(4, 3)):
  return mask_files.read_semantic_mask(data, value_map, classes, file='m.png',
                                       width=size[0], height=size[1])


def test_voc_colour_map_is_the_devkits():
  assert [voc_colour(i) for i in (0, 1, 3, 15, 20)] == [
      (0, 0, 0), (128, 0, 0), (128, 128, 0), (192, 128, 128), (0, 64, 128)]


def test_voc_palette_indices_mean_devkit_classes_not_found_names():
  # bird (3) and person (15): an export that uses 2 of the 20 classes.
  indices = np.array([[0, 3, 3, 255], [15, 15, 0, 0], [0, 0, 0, 0]])
  values = read(png(indices), ValueMap.voc_devkit(), VOC)
  assert values[0, 1] == VOC.index('bird') + 1 == 3
  assert values[1, 0] == VOC.index('person') + 1 == 15
  assert values[0, 3] == 255


def test_rgb_class_masks_in_voc_colours():
  rgb = np.zeros((3, 4, 3), np.uint8)
  rgb[0, 0] = voc_colour(8)  # cat
  rgb[2, 3] = mask_files.VOC_VOID_COLOUR
  values = read(png(rgb, mode='RGB'), ValueMap.voc_devkit(), VOC)
  assert values[0, 0] == 8 and values[2, 3] == 255 and values[1, 1] == 0


def test_labelmap_colours_decide_for_rgb_and_palette_masks():
  classes = ClassList(('zebra', 'car'), 'labelmap.txt')
  value_map = ValueMap.from_list(['background', 'zebra', 'car'],
                                 'labelmap.txt', {'background': (0, 0, 0),
                                                  'zebra': (10, 20, 30),
                                                  'car': (250, 50, 83)})
  rgb = np.zeros((3, 4, 3), np.uint8)
  rgb[0, 0] = (250, 50, 83)
  rgb[1, 1] = (10, 20, 30)
  values = read(png(rgb, mode='RGB'), value_map, classes)
  assert (values[0, 0], values[1, 1], values[2, 2]) == (2, 1, 0)
  # A palette PNG whose palette holds the label map colours at other indices.
  indices = np.array([[5, 0, 0, 0], [0, 9, 0, 0], [0, 0, 0, 0]])
  palette = [0] * 768
  palette[15:18] = [250, 50, 83]
  palette[27:30] = [10, 20, 30]
  values = read(png(indices, palette=palette), value_map, classes)
  assert (values[0, 0], values[1, 1]) == (2, 1)


def test_labels_txt_positions_with_and_without_background():
  classes = ClassList(('cat', 'dog'), 'labels.txt')
  indices = np.array([[1, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
  implicit = ValueMap.from_list(['cat', 'dog'], 'labels.txt')
  explicit = ValueMap.from_list(['background', 'cat', 'dog'], 'labels.txt')
  for value_map in (implicit, explicit):
    values = read(png(indices), value_map, classes)
    assert (values[0, 0], values[0, 1]) == (1, 2)


@pytest.mark.parametrize('indices, problem', [
    (np.array([[1, 2, 7, 0]] * 3), r'mask values 7 are not in labels.txt'),
])
def test_values_no_map_explains_are_errors_naming_them(indices, problem):
  classes = ClassList(('cat', 'dog'), 'labels.txt')
  with pytest.raises(SkippableError, match=problem) as e:
    read(png(indices), ValueMap.from_list(['cat', 'dog'], 'labels.txt'),
         classes)
  assert str(e.value).startswith('m.png: ')


def test_mask_of_another_size_is_refused():
  with pytest.raises(SkippableError, match='mask is 5x3 but the image is 4x3'):
    read(png(np.zeros((3, 5))), ValueMap.voc_devkit(), VOC)


def test_rgb_instance_masks_decode_to_instance_ids():
  rgb = np.zeros((3, 4, 3), np.uint8)
  rgb[0, 0:2] = voc_colour(1)
  rgb[2, 3] = voc_colour(2)
  rgb[1, 1] = mask_files.VOC_VOID_COLOUR
  ids = mask_files.read_instance_ids(png(rgb, mode='RGB'), file='o.png',
                                     height=3, width=4)
  assert ids.tolist() == [[1, 1, 0, 0], [0, 255, 0, 0], [0, 0, 0, 2]]
  # The same instances as a palette PNG give the same ids.
  same = mask_files.read_instance_ids(png(ids), file='o.png', height=3,
                                      width=4)
  np.testing.assert_array_equal(same, ids)


def test_a_mask_file_that_is_not_an_image():
  with pytest.raises(SkippableError, match='not a readable mask'):
    mask_files.read_instance_ids(b'<html>', file='o.png', height=3, width=4)


def _saved(im: Image.Image) -> bytes:
  buffer = io.BytesIO()
  im.save(buffer, format='PNG')
  return buffer.getvalue()


def _binary(data: bytes) -> np.ndarray:
  return mask_files.read_binary_mask(data, file='m.png', height=3,
                                     width=4).astype(int)


def test_binary_mask_with_alpha_is_in_only_where_not_transparent():
  """A GIMP/Photoshop mask: white everywhere, the object in the alpha."""
  rgba = np.full((3, 4, 4), 255, np.uint8)
  rgba[..., 3] = 0
  rgba[1, 1:3, 3] = 255
  rgba[2, 3, 3] = 1  # barely visible is still in
  rgba[0, 0] = (0, 0, 0, 255)  # opaque black is out
  assert _binary(_saved(Image.fromarray(rgba, 'RGBA'))).tolist() == [
      [0, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]]
  la = np.zeros((3, 4, 2), np.uint8)
  la[..., 0] = 255
  la[0, 0, 1] = 128
  assert _binary(_saved(Image.fromarray(la, 'LA'))).tolist() == [
      [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]


def test_binary_mask_black_shape_on_transparent_canvas_is_the_shape():
  """Every visible pixel black: the alpha draws the object (not empty)."""
  rgba = np.zeros((3, 4, 4), np.uint8)
  rgba[1, 1:3, 3] = 255
  rgba[2, 0, 3] = 40
  assert _binary(_saved(Image.fromarray(rgba, 'RGBA'))).tolist() == [
      [0, 0, 0, 0], [0, 1, 1, 0], [1, 0, 0, 0]]
  fully_transparent = np.zeros((3, 4, 4), np.uint8)
  assert not _binary(_saved(Image.fromarray(fully_transparent,
                                            'RGBA'))).any()


def test_binary_mask_palette_transparent_index_is_out():
  im = Image.fromarray(np.array([[0, 1, 2, 2]] * 3, np.uint8), 'P')
  im.putpalette([0, 0, 0] + [255, 255, 255] * 2)
  im.info['transparency'] = 2
  assert _binary(_saved(im)).tolist() == [[0, 1, 0, 0]] * 3


def test_binary_mask_without_alpha_is_any_non_zero_pixel():
  values = np.array([[0, 1, 2, 255]] * 3, np.uint8)
  assert _binary(_saved(Image.fromarray(values, 'L'))).tolist() == [
      [0, 1, 1, 1]] * 3
  rgb = np.zeros((3, 4, 3), np.uint8)
  rgb[1, 2] = (0, 0, 9)
  assert _binary(_saved(Image.fromarray(rgb, 'RGB'))).tolist() == [
      [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
