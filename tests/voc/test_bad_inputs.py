"""Bad VOC annotations, structure problems and hostile paths or XML."""

import time

import numpy as np
import pytest

from tests.builds import all_examples, build_report, only_issue
from tests.fixtures.writers import (box_xml, good_voc, image_bytes,
                                    write_export)
from tests.builds import build
from tfds_builders.core.errors import ExportError


def skipped_object(tmp_path, xml: str) -> dict:
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped object' and issue['objects_lost'] == 1
  assert issue['file'] == 'annotations/a.xml'
  assert len(all_examples(builder)['a']['objects']['bbox']) == 0
  return issue


def test_malformed_xml_skips_the_file_with_its_objects(tmp_path):
  xml = box_xml('a.jpg').replace('</annotation>', '')
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped image' and issue['objects_lost'] == 1
  assert issue['problem'].startswith('malformed XML (')
  assert list(all_examples(builder)) == ['b']


def test_missing_bndbox(tmp_path):
  issue = skipped_object(tmp_path, '<annotation><filename>a.jpg</filename>'
                         '<object><name>cat</name></object></annotation>')
  assert issue['item'] == 'object #1 (cat)'
  assert issue['problem'].startswith('object has no box, polygon or mask.')


@pytest.mark.parametrize('box, problem', [
    (('nan', 3, 20, 25), 'non-finite coordinate'),
    (('abc', 3, 20, 25), 'non-finite coordinate'),
    ((30, 3, 20, 25), 'box is inverted (xmin=30, xmax=20'),
    ((50, 40, 60, 45), 'lies entirely outside the 40x30 image'),
    ((5, 5, 5, 25), 'has zero area'),
])
def test_unusable_coordinates(tmp_path, box, problem):
  issue = skipped_object(tmp_path, box_xml('a.jpg', [('cat', box)]))
  assert problem in issue['problem']


@pytest.mark.parametrize('box', [(-5, -3, 20, 25), (2, 3, 60, 45)])
def test_negative_or_out_of_range_box_is_clipped_and_reported(tmp_path, box):
  xml = box_xml('a.jpg', [('cat', box)])
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'repaired' and 'clipped' in issue['problem']
  bbox = all_examples(builder)['a']['objects']['bbox'][0]
  assert bbox.min() >= 0 and bbox.max() <= 1


def test_polygon_with_two_points(tmp_path):
  xml = ('<annotation><filename>a.jpg</filename><object><name>cat</name>'
         '<polygon><pt><x>1</x><y>1</y></pt><pt><x>9</x><y>9</y></pt>'
         '</polygon></object></annotation>')
  issue = skipped_object(tmp_path, xml)
  assert 'polygon has 2 points; at least 3 are needed' in issue['problem']


def test_self_intersecting_polygon_is_kept_as_filled(tmp_path):
  # A bow tie: Pillow fills both triangles; the box spans the whole figure.
  xml = ('<annotation><filename>a.jpg</filename><object><name>cat</name>'
         '<polygon>' + ''.join(f'<pt><x>{x}</x><y>{y}</y></pt>' for x, y in (
             (0, 0), (20, 20), (20, 0), (0, 20))) + '</polygon></object>'
         '</annotation>')
  report, builder = build_report(
      'voc_export', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  assert report['issues'] == []
  ex = all_examples(builder)['a']
  mask = ex['objects']['mask'][0][:, :, 0]
  assert mask[2, 10] == 0 and mask[10, 2] == 1 and mask[10, 17] == 1
  np.testing.assert_allclose(ex['objects']['bbox'][0],
                             [0, 0, 20 / 30, 20 / 40], rtol=1e-6)


def test_label_outside_the_class_list_is_an_error(tmp_path):
  export = good_voc(tmp_path, **{
      'labels.txt': 'dog\n',
      'annotations/b.xml': box_xml('b.jpg', [('dog', (1, 1, 9, 9))])})
  with pytest.raises(ExportError, match=r"classes not in the class list from"
                     r" labels.txt: 'cat' \(first in annotations/a.xml:"
                     r" object #1 \(cat\)\)"):
    build('voc_export/boxes', export, tmp_path / 'data')


def test_two_xml_files_naming_the_same_image(tmp_path):
  export = good_voc(tmp_path, **{'annotations/b.xml': box_xml('a.jpg')})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  issues = report['issues']
  assert [i['action'] for i in issues] == ['skipped image', 'not included']
  assert issues[0]['file'] == 'annotations/b.xml'
  assert 'names the same image as annotations/a.xml' in issues[0]['problem']
  assert issues[1]['file'] == 'images/b.jpg'
  assert list(all_examples(builder)) == ['a']


# Structure.

def test_empty_export_folder(tmp_path):
  (tmp_path / 'export').mkdir()
  with pytest.raises(ExportError, match='the export folder is missing or'
                     ' empty'):
    build('voc_export', tmp_path / 'export', tmp_path / 'data')


def test_export_with_zero_annotations(tmp_path):
  export = write_export(tmp_path, {'images/a.jpg': image_bytes(),
                                 'annotations/a.xml': box_xml('a.jpg', [])})
  with pytest.raises(ExportError, match='no labelled objects, so there is no'
                     ' class list'):
    build('voc_export', export, tmp_path / 'data')


def test_zero_annotations_with_a_class_list_builds_negatives(tmp_path):
  export = write_export(tmp_path, {'images/a.jpg': image_bytes(),
                                 'labels.txt': 'cat\n',
                                 'annotations/a.xml': box_xml('a.jpg', [])})
  report, _ = build_report('voc_export/boxes', export, tmp_path)
  assert report['dataset_totals'] == {'images': 1, 'objects': 0}


def test_folder_holding_no_known_format(tmp_path):
  export = write_export(tmp_path, {'notes.txt': 'hello', 'a.jpg': image_bytes()})
  with pytest.raises(ExportError, match='no PASCAL VOC export found'):
    build('voc_export', export, tmp_path / 'data')


# Security.

@pytest.mark.parametrize('filename, problem', [
    ('../../secret.jpg', 'climbs out of the export folder'),
    ('/etc/passwd', 'is absolute'),
])
def test_filename_leaving_the_export_is_refused(tmp_path, filename, problem):
  (tmp_path / 'secret.jpg').write_bytes(image_bytes())
  export = good_voc(tmp_path, **{'annotations/a.xml': box_xml(filename)})
  with pytest.raises(ExportError, match=problem) as e:
    build('voc_export', export, tmp_path / 'data')
  assert 'annotations/a.xml: <filename>' in str(e.value)


def test_symlinked_image_leading_out_is_refused(tmp_path):
  (tmp_path / 'secret.jpg').write_bytes(image_bytes())
  export = good_voc(tmp_path, **{'images/a.jpg': None})
  (export / 'images' / 'a.jpg').symlink_to(tmp_path / 'secret.jpg')
  with pytest.raises(ExportError, match='symlink that leads outside'):
    build('voc_export', export, tmp_path / 'data')


def test_xxe_entity_is_not_resolved(tmp_path):
  secret = tmp_path / 'secret.txt'
  secret.write_text('TOP-SECRET')
  xml = (f'<?xml version="1.0"?><!DOCTYPE annotation [<!ENTITY xxe SYSTEM'
         f' "file://{secret}">]>' + box_xml('a.jpg').replace(
             '<name>cat</name>', '<name>cat&xxe;</name>'))
  export = good_voc(tmp_path, **{'annotations/a.xml': xml})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  assert 'TOP-SECRET' not in str(report)
  assert builder.info.features['objects']['label'].names == ['cat']


def test_billion_laughs_is_not_expanded(tmp_path):
  entities = '<!ENTITY lol "lol">' + ''.join(
      f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
      for i in range(1, 10))
  xml = (f'<?xml version="1.0"?><!DOCTYPE annotation [{entities}]>' +
         box_xml('a.jpg').replace('<name>cat</name>',
                                  '<name>cat</name><pose>&lol9;</pose>'))
  export = good_voc(tmp_path, **{'annotations/a.xml': xml})
  start = time.monotonic()
  report, _ = build_report('voc_export/boxes', export, tmp_path)
  assert time.monotonic() - start < 60
  issue = only_issue(report)  # libxml2 refuses to amplify; file reported
  assert issue['action'] == 'skipped image'
  assert 'amplification' in issue['problem']
  assert report['dataset_totals']['objects'] == 1
