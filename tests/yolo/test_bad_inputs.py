"""Broken and hostile YOLO exports: bad label lines, encodings, class lists,
structure, and paths that try to leave the export."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tests.builds import all_examples, build, build_report
from tests.fixtures.writers import image_bytes, write_export
from tests.fixtures.yolo import good_yolo
from tfds_builders.core.builder import ExportConfig
from tfds_builders.core.errors import ExportError

# Each line of one label file, and the problem it is skipped for (None: kept).
HOSTILE_LINES = [
    ('0 0.5 0.5 0.5 0.5', None),
    ('0 nan 0.5 0.5 0.5', "cx 'nan' is not a decimal number."),
    ('0 0.5 inf 0.5 0.5', "cy 'inf' is not a decimal number."),
    ('0 0.5 0.5 1e400 0.5', "w '1e400' is not finite."),
    ('0 1_0 0.5 0.5 0.5', "cx '1_0' is not a decimal number."),
    ('0 0.5 0.5 0.5 -0x1', "h '-0x1' is not a decimal number."),
    ('7 0.5 0.5 0.5 0.5', 'class id 7 is not in the class list from'
     ' classes.txt (ids 0..1).'),
    ('-1 0.5 0.5 0.5 0.5', 'class id -1 is not in the class list from'
     ' classes.txt (ids 0..1).'),
    ('1.5 0.5 0.5 0.5 0.5', "class id '1.5' is not a whole number."),
    ('cat 0.5 0.5 0.5 0.5', "class id 'cat' is not a decimal number."),
    ('1.0 0.5 0.5 0.5 0.5', None),  # a whole number written as a float
    ('0 0.5 0.5 0.5', 'line has 4 values; a box is "class cx cy w h" (5'
     ' values), a polygon "class x1 y1 ... xn yn" (an odd number, at least'
     ' 7).'),
    ('0 0.1 0.1 0.2 0.1 0.3 0.2 0.4', 'line has 8 values; a box is "class cx'
     ' cy w h" (5 values), a polygon "class x1 y1 ... xn yn" (an odd number,'
     ' at least 7); a pose line needs kpt_shape in the dataset YAML.'),
    ('0 320 240 50 60', "cx '320' is far outside 0..1: YOLO coordinates are"
     ' fractions of the image width and height.'),
    # Three points on one spot: skipped by the encoder, no area.
    ('0 0.5 0.5 0.5 0.5 0.5 0.5', 'box [20, 15, 20, 15] has zero area.'),
    ('   ', None),  # blank: no object
    ('1 0.5 0.5 0.2 0.2 0.93', None),  # a box with a confidence score
]


def test_hostile_label_lines_are_reported_line_by_line(tmp_path):
  text = '\n'.join(line for line, _ in HOSTILE_LINES) + '\n'
  export = good_yolo(tmp_path, **{'labels/a.txt': text})
  report, builder = build_report('yolo_export/boxes', export, tmp_path)
  # Items name the line, and the class once it is known: 'line 2 (cat)'.
  skipped = {(i['item'].split(' (')[0], i['problem'])
             for i in report['issues'] if i['action'] == 'skipped object'}
  assert skipped == {(f'line {n}', problem) for n, (_, problem) in enumerate(
      HOSTILE_LINES, 1) if problem}
  assert all(i['file'] == 'labels/a.txt' and i['objects_lost'] == 1
             for i in report['issues'] if i['action'] == 'skipped object')
  ex = all_examples(builder)['images/a']
  assert ex['objects']['label'].tolist() == [0, 1, 1]
  assert [i['problem'] for i in report['issues']
          if i['action'] == 'warning'] == [
              '1 object(s) in 1 label file(s) carry a 6th value, a confidence'
              ' score (as `yolo predict save_conf=True` writes); the boxes are'
              ' kept, the scores are not']
  assert report['export']['objects'] == 16 + 1  # non-blank lines, and b's


def test_slightly_outside_is_clipped_far_outside_skipped(tmp_path):
  export = good_yolo(tmp_path, **{'labels/a.txt': (
      '0 0.9 0.5 0.4 0.5\n0 1.8 0.5 0.2 0.2\n0 0.5 0.5 0 0.5\n')})
  report, builder = build_report('yolo_export/boxes', export, tmp_path)
  issues = [(i['item'], i['action']) for i in report['issues']]
  assert issues == [('line 1 (cat)', 'repaired'),
                    ('line 2 (cat)', 'skipped object'),
                    ('line 3 (cat)', 'skipped object')]
  assert 'clipped to the image' in report['issues'][0]['problem']
  assert 'lies entirely outside the 40x30 image' in report['issues'][1][
      'problem']
  assert 'has zero area' in report['issues'][2]['problem']
  np.testing.assert_allclose(all_examples(builder)['images/a']['objects'][
      'bbox'], [[0.25, 0.7, 0.75, 1.0]], rtol=1e-6)


def test_oriented_box_is_a_polygon(tmp_path):
  diamond = '0 0.5 0.1 0.9 0.5 0.5 0.9 0.1 0.5\n'  # 4 points: an OBB line
  report, builder = build_report(
      'yolo_export', good_yolo(tmp_path, **{'labels/a.txt': diamond}),
      tmp_path)
  assert report['issues'] == []
  ex = all_examples(builder)['images/a']
  np.testing.assert_allclose(ex['objects']['bbox'], [[0.1, 0.1, 0.9, 0.9]],
                             rtol=1e-6)
  mask = ex['objects']['mask'][0][:, :, 0]
  assert ex['objects']['has_mask'].tolist() == [True]
  assert mask[15, 20] == 1 and mask[4, 5] == 0 and mask[26, 35] == 0


def test_pose_lines_keep_the_box_with_kpt_shape(tmp_path):
  pose = '0 0.5 0.5 0.5 0.5 0.4 0.4 2 0.6 0.6 1\n'  # 5 + 2 keypoints x 3
  files = {'data.yaml': 'train: images\nkpt_shape: [2, 3]\nnames: [cat, dog]\n',
           'labels/a.txt': pose, 'classes.txt': None}
  report, builder = build_report(
      'yolo_export', good_yolo(tmp_path, **files), tmp_path)
  ex = all_examples(builder)['images/a']
  assert ex['objects']['has_mask'].tolist() == [False]
  np.testing.assert_allclose(ex['objects']['bbox'], [[0.25, 0.25, 0.75,
                                                      0.75]], rtol=1e-6)
  assert [i['problem'] for i in report['issues']] == [
      '1 object(s) in 1 label file(s) carry keypoints (kpt_shape (2, 3)); the'
      ' boxes are kept, the keypoints are not (the schema has no keypoints)']


def test_without_kpt_shape_the_same_line_is_a_polygon(tmp_path):
  # As Ultralytics reads it: 11 values are 5 points; x4 = 2 reaches past
  # the image (clipped and reported).
  line = '0 0.5 0.5 0.5 0.5 0.4 0.4 2 0.6 0.6 1\n'
  report, builder = build_report(
      'yolo_export', good_yolo(tmp_path, **{'labels/a.txt': line}), tmp_path)
  assert [(i['item'], i['action']) for i in report['issues']] == [
      ('line 1 (cat)', 'repaired')]
  assert all_examples(builder)['images/a']['objects']['has_mask'].tolist() == [
      True]


# Encodings.

@pytest.mark.parametrize('data', [
    '\ufeff0 0.5 0.5 0.5 0.5\r\n'.encode(),  # BOM, CRLF
    b'0 0.5 0.5 0.5 0.5   \n\n\n',  # trailing spaces, blank lines
    '0 0.5 0.5 0.5 0.5\n'.encode('utf-16'),  # UTF-16 with its BOM
])
def test_bom_crlf_and_utf16_are_read(tmp_path, data):
  export = good_yolo(tmp_path, **{'labels/a.txt': data,
                                  'classes.txt': '\ufeffcat\r\ndog\r\n'})
  report, builder = build_report('yolo_export/boxes', export, tmp_path)
  assert report['issues'] == [] and report['classes'] == ['cat', 'dog']
  assert all_examples(builder)['images/a']['objects']['label'].tolist() == [0]


def test_non_utf8_files_are_read_as_windows_1252_and_reported(tmp_path):
  export = good_yolo(tmp_path, **{
      'classes.txt': 'caf\xe9\ndog\n'.encode('cp1252'),
      'labels/a.txt': b'0 0.5 0.5 0.5 0.5\n\xe9t\xe9 0.5 0.5 0.5 0.5\n'})
  report, _ = build_report('yolo_export/boxes', export, tmp_path)
  assert report['classes'] == ['café', 'dog']
  assert [(i['file'], i['item'], i['action']) for i in report['issues']] == [
      ('classes.txt', '', 'warning'), ('labels/a.txt', '', 'warning'),
      ('labels/a.txt', 'line 2', 'skipped object')]
  assert report['issues'][0]['problem'] == (
      'not UTF-8 (byte 0xe9 at offset 3); read as Windows-1252')


def test_undecodable_label_file_skips_its_image(tmp_path):
  export = good_yolo(tmp_path, **{'labels/a.txt': b'\xff\xfe0\x00\x00\xd8'})
  report, builder = build_report('yolo_export/boxes', export, tmp_path)
  issue = report['issues'][0]
  assert (issue['file'], issue['action'], issue['objects_lost']) == (
      'labels/a.txt', 'skipped image', 1)
  assert issue['problem'].startswith('invalid UTF-16 text')
  assert list(all_examples(builder)) == ['images/b']


# Images, label files and splits.

def test_missing_image_and_orphan_label_are_counted(tmp_path):
  export = good_yolo(tmp_path, **{'labels/c.txt': '0 0.5 0.5 0.1 0.1\n1 0.2'
                                  ' 0.2 0.1 0.1\n', 'labels/empty.txt': ''})
  report, _ = build_report('yolo_export/boxes', export, tmp_path)
  assert [(i['file'], i['action'], i['objects_lost'])
          for i in report['issues']] == [
              ('labels/c.txt', 'skipped image', 2),
              ('labels/empty.txt', 'skipped image', 0)]
  assert report['export'] == {'images': 4, 'objects': 4}


def test_strict_mode_turns_a_bad_line_into_an_error(tmp_path):
  export = good_yolo(tmp_path, **{'labels/a.txt': '5 0.5 0.5 0.5 0.5\n'})
  builder = tfds.builder('yolo_export', data_dir=str(tmp_path / 'data'),
                         config=ExportConfig(name='strict', strict=True))
  with pytest.raises(ExportError, match=r'labels/a.txt: line 1: class id 5'
                     r' is not in the class list .* \(strict mode; 1 item'):
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=str(export)))


def test_image_in_no_list_of_obj_data_is_not_included(tmp_path):
  export = good_yolo(tmp_path, **{
      'obj.data': 'classes = 2\ntrain = data/train.txt\nnames = data/'
                  'classes.txt\n',
      'train.txt': 'data/images/a.jpg\ndata/images/gone.jpg\n'})
  report, builder = build_report('yolo_export/boxes', export, tmp_path)
  assert [(i['file'], i['item'], i['action'], i['objects_lost'])
          for i in report['issues']] == [
              ('images/b.jpg', '', 'not included', 1),
              ('images/gone.jpg', 'listed in train.txt: line 2',
               'skipped image', 0)]
  assert list(all_examples(builder)) == ['images/a']


# Class lists and structure.

@pytest.mark.parametrize('files, message', [
    ({'classes.txt': None}, 'no file names the classes'),
    ({'classes.txt': 'cat\ncat\n'}, r"class 'cat' has two ids \(0 and 1\)"),
    ({'data.yaml': 'names: [cat\ntrain: images\n'}, 'data.yaml: line 2,'
     ' column 6: not valid YAML'),
    ({'data.yaml': 'a: &a [x, x, x]\nb: [*a, *a]\nnames: [cat]\n'},
     r'aliases \(\*name\) are not accepted'),
    ({'data.yaml': 'names: !!python/object/apply:os.system ["echo hi"]\n'},
     'data.yaml: line 1: a value is tagged'
     ' tag:yaml.org,2002:python/object/apply:os.system'),
    ({'data.yaml': 'names: [cat, !dog x]\n'}, 'a value is tagged !dog'),
    ({'data.yaml': 'names: {0: cat, one: dog}\n'},
     "data.yaml: names: one: class id 'one' is not a whole number"),
    ({'data.yaml': 'names: cat\n'}, "names is 'cat', not a list"),
    ({'obj.data': 'classes = 2\nnames = /etc/passwd\ntrain = train.txt\n',
      'train.txt': 'images/a.jpg\n', 'classes.txt': None},
     'obj.data names no class list: YOLO label files hold class ids'),
])
def test_broken_class_lists_and_config_files(tmp_path, files, message):
  with pytest.raises(ExportError, match=message):
    build('yolo_export/boxes', good_yolo(tmp_path, **files), tmp_path / 'd')


def test_yaml_class_names_stay_text(tmp_path):
  files = {'data.yaml': 'names: [yes, 1.0, "null"]\n',
           'classes.txt': None}
  report, _ = build_report('yolo_export/boxes', good_yolo(tmp_path, **files),
                           tmp_path)
  assert report['classes'] == ['yes', '1.0', 'null']


def test_folder_without_a_yolo_export(tmp_path):
  export = write_export(tmp_path, {'notes.md': 'hello', 'a.jpg': image_bytes()})
  with pytest.raises(ExportError, match='no YOLO export found'):
    build('yolo_export', export, tmp_path / 'data')


# Paths leading out.

def test_list_entries_leading_out_are_never_read(tmp_path):
  (tmp_path / 'secret.jpg').write_bytes(image_bytes(size=(8, 8)))
  outside = tmp_path / 'secret.jpg'
  export = good_yolo(tmp_path, **{
      'train.txt': f'../../etc/passwd\n{outside}\n/home/u/darknet/data/'
                   'images/a.jpg\nimages/b.jpg\n..\\..\\secret.jpg\n'})
  report, builder = build_report('yolo_export/boxes', export, tmp_path)
  assert sorted(all_examples(builder)) == ['images/a', 'images/b']
  skipped = [(i['item'], i['action']) for i in report['issues']]
  assert skipped[0] == ('line 3', 'repaired')  # a.jpg matched by its path
  assert sorted(skipped[1:]) == [
      ('listed in train.txt: line 1', 'skipped image'),
      ('listed in train.txt: line 2', 'skipped image'),
      ('listed in train.txt: line 5', 'skipped image')]
  assert 'is a path outside the export' in report['issues'][1]['problem']


@pytest.mark.parametrize('yaml_text, item, problem', [
    ('path: ../../etc\ntrain: images\n', 'path:',
     "dataset root '../../etc' is outside the export"),
    ('path: /etc\ntrain: images\n', 'path:',
     "dataset root '/etc' is outside the export"),
    ('train: ../../../etc\n', 'train:',
     "'../../../etc' is a path outside the export"),
    ('train: /etc/passwd\n', 'train:',
     "'/etc/passwd' is a path outside the export"),
])
def test_yaml_paths_leading_out_are_reported(tmp_path, yaml_text, item,
                                             problem):
  files = {'data.yaml': yaml_text + 'names: [cat, dog]\n', 'classes.txt': None}
  report, builder = build_report(
      'yolo_export/boxes', good_yolo(tmp_path, **files), tmp_path)
  first = report['issues'][0]
  assert (first['file'], first['item'], first['action']) == (
      'data.yaml', item, 'warning')
  assert first['problem'].startswith(problem)
  assert sorted(all_examples(builder)) == ['images/a', 'images/b']


def test_symlinks_leading_out_are_refused(tmp_path):
  (tmp_path / 'labels.txt').write_text('1 0.5 0.5 0.5 0.5\n')
  (tmp_path / 'outside.jpg').write_bytes(image_bytes())
  export = good_yolo(tmp_path, **{'labels/a.txt': None, 'images/b.jpg': None,
                                  'images/c.jpg': image_bytes(),
                                  'labels/c.txt': '1 0.5 0.5 0.5 0.5\n'})
  (export / 'labels' / 'a.txt').symlink_to(tmp_path / 'labels.txt')
  (export / 'images' / 'b.jpg').symlink_to(tmp_path / 'outside.jpg')
  report, builder = build_report('yolo_export/boxes', export, tmp_path)
  assert [(i['file'], i['action'], i['objects_lost'])
          for i in report['issues']] == [
              ('images/b.jpg', 'not included', 0),
              ('labels/a.txt', 'not included', 0),
              ('images/a.jpg', 'skipped image', 0),
              ('labels/b.txt', 'skipped image', 1)]
  assert 'symlink leading outside the export' in report['issues'][0][
      'problem']
  # a.jpg is not kept as an image without objects: its labels were refused.
  assert report['issues'][2]['problem'].startswith(
      'its label file labels/a.txt was refused')
  assert report['dataset_totals'] == {'images': 1, 'objects': 1}
  assert list(all_examples(builder)) == ['images/c']
