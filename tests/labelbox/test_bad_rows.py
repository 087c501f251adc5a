"""Labelbox rows and files of the wrong shape, with exact outcomes.

Lines the JSON reader refuses, `objects` and `Label` that are not what a
Labelbox export writes, names that are not text, `Skipped` written as text,
an export of another kind beside the one read, and masks whose object is in
the alpha channel. (NDJSON lines, numbers, media: test_bad_inputs.py.)
"""

import io
import json

import numpy as np
from PIL import Image
import pytest

from tests.builds import all_examples, build, build_report
from tests.fixtures.writers import image_bytes, write_export
from tests.labelbox.test_bad_inputs import BOX, entries, ndjson_export, row
from tfds_builders.core.errors import ExportError

V1_BOX = {'title': 'car', 'bbox': {'top': 1, 'left': 1, 'height': 5,
                                   'width': 5}}
FIX = 'Fix the object in Labelbox and export again.'


def v1_row(row_id: str, label, **extra) -> dict:
  return {'DataRow ID': row_id, 'External ID': f'{row_id}.jpg',
          'Labeled Data': None, 'Label': label, **extra}


def v1_export(tmp_path, rows, images=('a', 'b')):
  files = {f'images/{name}.jpg': image_bytes() for name in images}
  files['export.json'] = json.dumps(rows)
  return write_export(tmp_path, files)


# Lines the shared JSON reader refuses: an error naming file and line.


@pytest.mark.parametrize('line, problem', [
    ('[' * 100_000 + ']' * 100_000,
     'JSON is nested too deeply (Python reads about 1,000 levels; annotation'
     ' files need fewer than 10).'),
    (row('b', [BOX]).replace('"top": 2', '"top": ' + '9' * 5000),
     'JSON holds a value Python refuses (Exceeds the limit (4300 digits) for'
     ' integer string conversion: value has 5000 digits; use'
     ' sys.set_int_max_str_digits() to increase the limit).'),
])
def test_line_the_json_reader_refuses_is_an_error_naming_it(tmp_path, line,
                                                             problem):
  export = ndjson_export(tmp_path, [row('a', [BOX]), line])
  with pytest.raises(ExportError) as raised:
    build('labelbox_export', export, tmp_path / 'data')
  assert (raised.value.file, raised.value.item) == ('export.ndjson', 'line 2')
  assert raised.value.problem == problem


# objects / Label of the wrong shape: the row is a reported skip.


def test_v2_objects_given_as_a_dict_skip_the_row_with_them(tmp_path):
  export = ndjson_export(tmp_path, [row('a', {'f1': BOX, 'f2': BOX}),
                                    row('b', [BOX])])
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [(
      'export.ndjson', 'line 1 (data row a)', 'label 1: annotations.objects'
      ' is a JSON object, not a list of objects', 'skipped image', 2)]
  assert report['export'] == {'images': 2, 'objects': 3}
  assert list(all_examples(builder)) == ['b']


@pytest.mark.parametrize('label, problem, lost', [
    ({'objects': {'title': 'car', 'bbox': V1_BOX['bbox']}},
     'Label.objects is a JSON object, not a list of objects', 1),
    ([{'objects': [V1_BOX, V1_BOX]}],
     'Label is a list, not an object with "objects"', 2),
    ('nonsense', "Label is the text 'nonsense', not an object with"
     ' "objects"', 0),
])
def test_v1_label_of_the_wrong_shape_skips_the_row(tmp_path, label, problem,
                                                   lost):
  export = v1_export(tmp_path, [v1_row('a', label),
                                v1_row('b', {'objects': [V1_BOX]})])
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [(
      'export.json', 'row #1 (data row a)', problem,
      'skipped image' if lost else 'not included', lost)]
  assert report['export'] == {'images': 2, 'objects': 1 + lost}
  assert list(all_examples(builder)) == ['b']


# Objects that are not objects, names that are not text.


def test_names_that_are_not_text_skip_their_object(tmp_path):
  box = BOX['bounding_box']
  export = ndjson_export(tmp_path, [
      row('a', [BOX, {'name': ['car'], 'bounding_box': box},
                {'name': {'a': 1}, 'bounding_box': box},
                {'name': 7, 'bounding_box': box}]), row('b', [BOX])])
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [
      ('export.ndjson', f'line 1 (data row a): object #{i}', problem,
       'skipped object', 1) for i, problem in [
           (2, 'name is a list, not text.'),
           (3, 'name is a JSON object, not text.'),
           (4, 'name is the number 7, not text.')]]
  assert {i['fix'] for i in report['issues']} == {FIX}
  assert builder.info.features['objects']['label'].names == ['car']


def test_objects_that_are_not_objects_say_what_they_are(tmp_path):
  export = ndjson_export(tmp_path, [row('a', [BOX, 'car', 5, None]),
                                    row('b', [BOX])])
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [
      ('export.ndjson', f'line 1 (data row a): object #{i}',
       f'object is {what}, not an object with a name and a geometry.',
       'skipped object', 1)
      for i, what in [(2, "the text 'car'"), (3, 'the number 5'),
                      (4, 'null')]]
  assert len(all_examples(builder)['a']['objects']['label']) == 1


def test_v1_title_that_is_not_text_skips_its_object(tmp_path):
  export = v1_export(tmp_path, [
      v1_row('a', {'objects': [V1_BOX, {**V1_BOX, 'title': ['car']}]}),
      v1_row('b', {'objects': [V1_BOX]})])
  report, _ = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [('export.json', 'row #1 (data row a): object'
                              ' #2', 'title is a list, not text.',
                              'skipped object', 1)]


# v1 `Skipped`: a flag, also as text.


@pytest.mark.parametrize('skipped, issues, kept', [
    ('true', [('export.json', 'row #1 (data row a)',
               'data row was skipped in Labelbox', 'skipped image', 1)],
     ['b']),
    ('false', [], ['a', 'b']),
    (0, [], ['a', 'b']),
    ('maybe', [('export.json', 'row #1 (data row a)',
                "Skipped 'maybe' is not 0/1 or true/false.", 'skipped image',
                1)], ['b']),
])
def test_v1_skipped_is_read_as_a_flag(tmp_path, skipped, issues, kept):
  export = v1_export(tmp_path, [
      v1_row('a', {'objects': [V1_BOX]}, Skipped=skipped),
      v1_row('b', {'objects': [V1_BOX]})])
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == issues
  assert sorted(all_examples(builder)) == kept


# Another export beside the one read.


def test_v1_export_beside_the_ndjson_is_reported_with_its_objects(tmp_path):
  export = ndjson_export(tmp_path, [row('a', [BOX])], images=('a',))
  (export / 'old.json').write_text(json.dumps([
      v1_row('c', {'objects': [V1_BOX, V1_BOX]}), v1_row('d', 'Skip')]))
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [(
      'old.json', '', 'a Labelbox legacy JSON export (v1) with 2 data rows'
      ' and 2 objects, not read: one build reads one kind of export, and the'
      ' build reads the Labelbox export v2 (NDJSON) (export.ndjson)',
      'not included', 2)]
  assert report['issues'][0]['fix'] == (
      'Build old.json from a folder of its own, or delete it if export.ndjson'
      ' replaces it.')
  assert report['export'] == {'images': 3, 'objects': 3}
  assert list(all_examples(builder)) == ['a']


def test_json_that_does_not_parse_beside_the_ndjson_is_warned(tmp_path):
  export = ndjson_export(tmp_path, [row('a', [BOX])], images=('a',))
  (export / 'notes.json').write_text('{')
  report, _ = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [(
      'notes.json', '', 'not read (not valid JSON (Expecting property name'
      ' enclosed in double quotes at line 1, column 2, byte 1)): the build'
      ' reads the Labelbox export v2 (NDJSON) (export.ndjson), and a JSON'
      ' file beside it that does not parse is not looked into', 'warning',
      0)]


# Masks whose object is in the alpha channel.


def test_rgba_mask_white_everywhere_is_read_by_its_alpha(tmp_path):
  """GIMP and Photoshop keep the colour under transparent pixels: a mask
  that is white everywhere has its object only in the alpha channel."""
  rgba = np.full((30, 40, 4), 255, np.uint8)
  rgba[..., 3] = 0
  rgba[5:15, 10:30, 3] = 255
  buffer = io.BytesIO()
  Image.fromarray(rgba, 'RGBA').save(buffer, format='PNG')
  mask = {'name': 'car', 'feature_id': 'm1',
          'mask': {'url': 'https://x.invalid/masks/m1.png'}}
  export = ndjson_export(tmp_path, [row('a', [mask])], images=('a',))
  (export / 'masks').mkdir()
  (export / 'masks' / 'm1.png').write_bytes(buffer.getvalue())
  report, builder = build_report('labelbox_export', export, tmp_path)
  assert report['issues'] == []
  example = all_examples(builder)['a']
  expected = np.zeros((30, 40), np.uint8)
  expected[5:15, 10:30] = 1
  np.testing.assert_array_equal(example['objects']['mask'][0][:, :, 0],
                                expected)
  assert example['objects']['area'][0] == 200
