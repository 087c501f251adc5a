"""tfds_builders.core.class_files: labels.txt and labelmap.txt."""

import pytest

from tfds_builders.core.class_files import find_class_file, read_class_file
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.labels import BACKGROUND
from tfds_builders.core.mask_files import VOID


def read(tmp_path, name, text):
  path = tmp_path / name
  path.write_bytes(text if isinstance(text, bytes) else text.encode())
  return read_class_file(ExportFiles(tmp_path), name)


def test_labelmap_txt_keeps_order_and_colours(tmp_path):
  classes, value_map = read(
      tmp_path, 'labelmap.txt', '# label:color_rgb:parts:actions\n'
      'background:0,0,0::\nzebra:10,20,30::\ncar:250,50,83::\n')
  assert classes.names == ('zebra', 'car')
  assert value_map.by_colour == {(0, 0, 0): BACKGROUND,
                                 (10, 20, 30): 'zebra', (250, 50, 83): 'car',
                                 (224, 224, 192): VOID}
  assert value_map.by_index[0] == BACKGROUND and value_map.by_index[2] == 'car'


def test_labels_txt_with_bom_and_crlf(tmp_path):
  classes, value_map = read(tmp_path, 'labels.txt',
                            b'\xef\xbb\xbfcat\r\ndog\r\n')
  assert classes.names == ('cat', 'dog')
  assert value_map.by_index[1] == 'cat'


def test_background_and_void_entries_are_not_classes(tmp_path):
  classes, value_map = read(tmp_path, 'labels.txt',
                            'background\ncat\nvoid\n')
  assert classes.names == ('cat',)
  assert value_map.by_index == {0: BACKGROUND, 1: 'cat', 2: VOID, 255: VOID}


@pytest.mark.parametrize('text, problem', [
    ('cat\ncat\n', "'cat' is listed twice"),
    ('background\n', 'lists no classes'),
    ('cat:1,2::\n', 'is not "R,G,B"'),
    ('cat:1,2,300::\n', 'outside 0..255'),
    ('cat:1,2,1_0::\n', 'not a whole number'),
    ('cat:250,50,83::\ndog:250,50,83::\n',
     r"classes 'cat' and 'dog' have the same colour \(250, 50, 83\)"),
])
def test_bad_class_files(tmp_path, text, problem):
  with pytest.raises(ExportError, match=problem):
    read(tmp_path, 'labelmap.txt', text)


def test_find_class_file(tmp_path):
  (tmp_path / 'VOC').mkdir()
  (tmp_path / 'VOC' / 'labelmap.txt').write_text('cat\n')
  files = ExportFiles(tmp_path)
  assert find_class_file(files, '', 'VOC') == 'VOC/labelmap.txt'
  assert find_class_file(files, '') is None


def test_labelmap_sorted_by_name_with_background_among_them(tmp_path):
  # CVAT's "Segmentation mask" sorts the label map by name.
  classes, value_map = read(tmp_path, 'labelmap.txt',
                            'Car:10,20,30::\nbackground:0,0,0::\n'
                            'zebra:1,2,3::\n')
  assert classes.names == ('Car', 'zebra')
  assert value_map.by_colour[(10, 20, 30)] == 'Car'
  assert value_map.by_colour[(0, 0, 0)] == BACKGROUND


def test_labelmap_without_colours_uses_voc_colours_by_line(tmp_path):
  # Datumaro writes `cat:::` and paints the masks in VOC colours by line.
  classes, value_map = read(tmp_path, 'labelmap.txt',
                            'background:::\ncat:::\ndog:::\n')
  assert classes.names == ('cat', 'dog')
  assert value_map.by_colour[(128, 0, 0)] == 'cat'
  assert value_map.by_colour[(0, 128, 0)] == 'dog'
  assert value_map.by_index[1] == 'cat'


def test_black_label_is_the_background(tmp_path):
  classes, value_map = read(tmp_path, 'labelmap.txt',
                            'bg:0,0,0::\ncat:128,0,0::\n')
  assert classes.names == ('cat',)
  assert value_map.by_colour[(0, 0, 0)] == BACKGROUND


def test_two_background_names_may_share_black(tmp_path):
  classes, value_map = read(tmp_path, 'labelmap.txt',
                            'background:0,0,0::\nunlabeled:0,0,0::\n'
                            'cat:1,2,3::\n')
  assert classes.names == ('cat',)
  assert value_map.by_colour[(0, 0, 0)] == BACKGROUND
