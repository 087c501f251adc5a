"""Bad Labelbox exports: NDJSON lines, geometry, media, skipped rows, paths."""

import json

import pytest

from tests.builds import all_examples, build_report, only_issue
from tests.fixtures.writers import image_bytes, write_export
from tests.builds import build
from tests.http_server import serve
from tfds_builders.core.errors import ExportError

BOX = {'name': 'car', 'bounding_box': {'top': 2, 'left': 3, 'height': 10,
                                       'width': 12}}


def row(row_id: str, objects, *, width=40, height=30, global_key=None,
        external_id=None, url=None) -> str:
  return json.dumps({
      'data_row': {'id': row_id, 'global_key': global_key or f'{row_id}.jpg',
                   'external_id': external_id, 'row_data': url},
      'media_attributes': {'width': width, 'height': height,
                           'mime_type': 'image/jpeg'},
      'projects': {'p': {'labels': [{'annotations': {'objects': objects}}]}}})


def ndjson_export(tmp_path, lines, images=('a', 'b')):
  files = {f'images/{name}.jpg': image_bytes() for name in images}
  files['export.ndjson'] = '\n'.join(lines) + '\n'
  return write_export(tmp_path, files)


def test_broken_line_is_an_error_with_its_line_number(tmp_path):
  export = ndjson_export(tmp_path, [row('a', [BOX]), '{"data_row": [1,'])
  with pytest.raises(ExportError, match=r'^export.ndjson: line 2: not valid'
                     r' JSON'):
    build('labelbox_export', export, tmp_path / 'data')


def test_object_with_no_geometry_is_a_reported_skip(tmp_path):
  export = ndjson_export(tmp_path, [
      row('a', [BOX, {'name': 'car', 'feature_id': 'f2'}]), row('b', [BOX])])
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped object' and issue['objects_lost'] == 1
  assert issue['item'] == 'line 1 (data row a): object #2 (car)'
  assert issue['problem'].startswith('an unknown geometry has no box or mask')
  assert len(all_examples(builder)['a']['objects']['label']) == 1


def test_mask_url_answering_404_is_reported(tmp_path):
  (tmp_path / 'remote').mkdir()
  with serve(tmp_path / 'remote') as (base, seen):
    mask = {'name': 'car', 'feature_id': 'gone',
            'mask': {'url': f'{base}/masks/gone.png'}}
    export = ndjson_export(tmp_path, [row('a', [BOX, mask]),
                                      row('b', [BOX])])
    report, _ = build_report('labelbox_export', export, tmp_path)
  assert seen and seen[0][0] == '/masks/gone.png'
  issue = only_issue(report)
  assert issue['action'] == 'skipped object' and issue['objects_lost'] == 1
  assert '404' in issue['problem']


def test_media_attributes_disagreeing_with_the_image(tmp_path):
  export = ndjson_export(tmp_path, [row('a', [BOX], width=400, height=300),
                                    row('b', [BOX])])
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'warning'
  assert 'annotation says 400x300 but the image is 40x30' in issue['problem']
  assert all_examples(builder)['a']['image'].shape == (30, 40, 3)


def test_v1_row_with_skipped_true_is_reported_not_an_error(tmp_path):
  rows = [{'ID': 'l1', 'DataRow ID': 'a', 'External ID': 'a.jpg',
           'Labeled Data': None, 'Skipped': False,
           'Label': {'objects': [{'title': 'car', 'value': 'car',
                                  'bbox': {'top': 2, 'left': 3, 'height': 10,
                                           'width': 12}}]}},
          {'ID': 'l2', 'DataRow ID': 'b', 'External ID': 'b.jpg',
           'Labeled Data': None, 'Skipped': True, 'Label': {}}]
  export = write_export(tmp_path, {'images/a.jpg': image_bytes(),
                                 'images/b.jpg': image_bytes(),
                                 'export.json': json.dumps(rows)})
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'not included' and issue['objects_lost'] == 0
  assert 'skipped' in issue['problem'].lower()
  assert list(all_examples(builder)) == ['a']


@pytest.mark.parametrize('external_id, problem', [
    ('../../secret.jpg', 'climbs out of the export folder'),
    ('/etc/passwd', 'is absolute')])
def test_external_id_leaving_the_export_is_refused(tmp_path, external_id,
                                                   problem):
  export = ndjson_export(tmp_path, [row('a', [BOX], external_id=external_id)])
  with pytest.raises(ExportError, match=problem) as e:
    build('labelbox_export', export, tmp_path / 'data')
  assert 'export.ndjson: line 1 (data row a)' in str(e.value)
