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
    (('nan', 3, 20, 25), "<xmin> 'nan' is not a decimal number."),
    (('abc', 3, 20, 25), "<xmin> 'abc' is not a decimal number."),
    (('1_0', 3, 20, 25), "<xmin> '1_0' is not a decimal number."),
    ((2, '1e400', 20, 25), "<ymin> '1e400' is not finite."),
    ((2, 3, '3e8', 25), "<xmax> '3e8' is beyond 1e+07."),
    ((2, 3, 20, ''), "<ymax> is missing."),
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
  """b.xml names a.jpg and there is no b.jpg: the second is left out. (With
  a b.jpg, b.xml is taken for a copy of a.xml: the test after the next.)"""
  export = good_voc(tmp_path, **{'annotations/b.xml': box_xml('a.jpg'),
                                 'images/b.jpg': None,
                                 'images/c.jpg': image_bytes()})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  issues = report['issues']
  assert [i['action'] for i in issues] == ['skipped image', 'not included']
  assert issues[0]['file'] == 'annotations/b.xml'
  assert 'names the same image as annotations/a.xml' in issues[0]['problem']
  assert issues[1]['file'] == 'images/c.jpg'
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
    ('C:\\Users\\me\\secret.jpg', 'is absolute'),
])
def test_filename_leaving_the_export_is_never_opened(tmp_path, filename,
                                                      problem):
  """The path is not looked up; its XML's image is found by the XML's own
  name when there is one (a.xml -> a.jpg), else skipped with the reason.
  One such XML never stops the build."""
  (tmp_path / 'secret.jpg').write_bytes(image_bytes(size=(50, 50)))
  export = good_voc(tmp_path, **{
      'annotations/a.xml': box_xml(filename),
      'annotations/z.xml': box_xml(filename)})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert (issue['file'], issue['item'], issue['action'],
          issue['objects_lost']) == (filename, 'listed in annotations/z.xml',
                                     'skipped image', 1)
  assert issue['problem'].startswith('image file not found: path')
  assert problem in issue['problem']
  found = all_examples(builder)
  assert sorted(found) == ['a', 'b']
  assert found['a']['image/filename'] == b'images/a.jpg'
  assert found['a']['image'].shape[:2] == (30, 40)  # not the 50x50 secret


def test_symlinked_image_leading_out_is_refused(tmp_path):
  (tmp_path / 'secret.jpg').write_bytes(image_bytes())
  export = good_voc(tmp_path, **{'images/a.jpg': None})
  (export / 'images' / 'a.jpg').symlink_to(tmp_path / 'secret.jpg')
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  refused, skipped = report['issues']
  assert refused['file'] == 'images/a.jpg' and refused['action'] == (
      'not included') and 'symlink leading outside the export' in (
          refused['problem'])
  assert skipped['file'] == 'a.jpg' and skipped['action'] == 'skipped image'
  assert skipped['objects_lost'] == 1
  assert list(all_examples(builder)) == ['b']


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


# Values and text as other tools (or attackers) write them.

def test_namespaced_root_is_read_and_accounted(tmp_path):
  xml = box_xml('a.jpg', [('cat', (2, 3, 20, 25)), ('cat', (5, 5, 9, 9))])
  xml = xml.replace('<annotation>', '<annotation xmlns="http://voc.example">')
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  assert report['issues'] == []
  assert len(all_examples(builder)['a']['objects']['label']) == 2


def test_foreign_root_loses_its_objects_honestly(tmp_path):
  xml = ('<annotations xmlns:v="urn:x"><v:object/><object/>'
         '<object></object></annotations>')
  report, _ = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped image' and issue['objects_lost'] == 3
  assert 'root element is <annotations>' in issue['problem']


def test_empty_name_makes_no_class(tmp_path):
  xml = box_xml('a.jpg', [('', (2, 3, 20, 25)), ('cat', (5, 5, 9, 9))])
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  assert builder.info.features['objects']['label'].names == ['cat']
  issue = only_issue(report)
  assert (issue['item'], issue['problem'], issue['objects_lost']) == (
      'object #1 (no name)', 'object has no class name.', 1)


@pytest.mark.parametrize('flag', ['2', 'yes please', '-1'])
def test_flag_that_is_not_boolean_skips_the_object(tmp_path, flag):
  xml = box_xml('a.jpg').replace('<name>cat</name>',
                                 f'<name>cat</name><difficult>{flag}'
                                 '</difficult>')
  issue = skipped_object(tmp_path, xml)
  assert f"<difficult> '{flag}' is not 0/1 or true/false." == (
      issue['problem'])


@pytest.mark.parametrize('size', ['inf', '1e400', '-3', '40.5', 'abc'])
def test_garbage_declared_size_is_a_warning_not_a_size(tmp_path, size):
  xml = box_xml('a.jpg').replace('<width>40</width>', f'<width>{size}</width>')
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  issue = only_issue(report)
  assert (issue['item'], issue['action']) == ('<size>', 'warning')
  assert issue['problem'].startswith('<size> width')
  assert len(all_examples(builder)['a']['objects']['label']) == 1


def test_polygon_far_outside_the_image_is_skipped(tmp_path):
  points = ''.join(f'<pt><x>{x}</x><y>{y}</y></pt>' for x, y in (
      (1, 1), (1e9, 1), (1e12, 5e11)))
  xml = box_xml('a.jpg', []).replace(
      '</annotation>', f'<object><name>cat</name><polygon>{points}'
      '</polygon></object></annotation>')
  issue = skipped_object(tmp_path, xml)
  assert 'beyond 1e+07' in issue['problem'] or 'far outside' in (
      issue['problem'])


def test_latin1_xml_without_declaration_is_read_with_a_warning(tmp_path):
  xml = box_xml('a.jpg', [('caf\u00e9', (2, 3, 20, 25))]).encode('latin-1')
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  assert 'caf\u00e9' in builder.info.features['objects']['label'].names
  issue = only_issue(report)
  assert issue['action'] == 'warning' and issue['file'] == 'annotations/a.xml'
  assert 'not UTF-8 (byte 0xe9 at offset' in issue['problem']


@pytest.mark.parametrize('labels, warned', [
    ('\ufeffcat\n'.encode('utf-8'), False),
    ('cat\ncaf\u00e9\n'.encode('latin-1'), True),
])
def test_labels_txt_with_bom_or_latin1(tmp_path, labels, warned):
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'labels.txt': labels}),
      tmp_path)
  assert builder.info.features['objects']['label'].names[0] == 'cat'
  assert bool(report['issues']) == warned
  if warned:
    assert report['issues'][0]['file'] == 'labels.txt'
    assert 'read as Windows-1252' in report['issues'][0]['problem']


def test_split_list_with_latin1_and_bom(tmp_path):
  export = write_export(tmp_path, {
      'Annotations/caf\u00e9.xml': box_xml('caf\u00e9.jpg'),
      'JPEGImages/caf\u00e9.jpg': image_bytes(),
      'ImageSets/Main/val.txt': 'caf\u00e9\n'.encode('latin-1')})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  assert list(builder.info.splits) == ['validation']
  assert 'not UTF-8' in only_issue(report)['problem']


# Confinement: nothing outside the export is read, whatever links to it.

def _outside(tmp_path):
  outside = tmp_path / 'outside'
  outside.mkdir()
  (outside / 'evil.xml').write_text(box_xml('a.jpg', [('dragon', (1, 1, 9,
                                                                  9))]))
  (outside / 'labels.txt').write_text('dragon\n')
  (outside / 'mask.png').write_bytes(image_bytes('P', fmt='PNG'))
  return outside


def test_symlinked_annotation_file_and_folder_are_not_read(tmp_path):
  outside = _outside(tmp_path)
  export = good_voc(tmp_path)
  (export / 'annotations' / 'evil.xml').symlink_to(outside / 'evil.xml')
  (export / 'annotations' / 'more').symlink_to(outside)
  (export / 'labels.txt').symlink_to(outside / 'labels.txt')
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  assert builder.info.features['objects']['label'].names == ['cat']
  refused = {i['file']: i for i in report['issues']}
  assert set(refused) == {'annotations/evil.xml', 'annotations/more',
                          'labels.txt'}
  assert all(i['action'] == 'not included' for i in refused.values())
  assert 'dragon' not in str(report)


def test_symlinked_mask_is_not_read(tmp_path):
  outside = _outside(tmp_path)
  export = write_export(tmp_path, {
      'Annotations/a.xml': box_xml('a.jpg'), 'JPEGImages/a.jpg': image_bytes(),
      'labels.txt': 'cat\n'})
  (export / 'SegmentationClass').mkdir()
  (export / 'SegmentationClass' / 'a.png').symlink_to(outside / 'mask.png')
  report, builder = build_report('voc_export', export, tmp_path)
  issue = only_issue(report)
  assert issue['file'] == 'SegmentationClass/a.png'
  assert 'symlink leading outside' in issue['problem']
  ex = all_examples(builder)['a']
  assert (ex['segmentation_mask'] == 255).sum() == 18 * 22  # the box only


def test_annotation_path_that_is_a_folder(tmp_path):
  export = good_voc(tmp_path)
  (export / 'annotations' / 'c.xml').mkdir()
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  assert report['issues'] == [] and sorted(all_examples(builder)) == ['a', 'b']


def test_manual_dir_that_is_a_file(tmp_path):
  (tmp_path / 'export.xml').write_text(box_xml('a.jpg'))
  with pytest.raises(ExportError, match='missing or (is not a folder|empty)'):
    build('voc_export', tmp_path / 'export.xml', tmp_path / 'data')


# Masks that are not what they say, or too big to decode.

def test_mask_that_is_not_an_image_skips_the_image(tmp_path):
  export = write_export(tmp_path, {
      'Annotations/a.xml': box_xml('a.jpg'), 'JPEGImages/a.jpg': image_bytes(),
      'Annotations/b.xml': box_xml('b.jpg'), 'JPEGImages/b.jpg': image_bytes(),
      'labels.txt': 'cat\n', 'SegmentationClass/a.png': b'<html>nope</html>'})
  report, builder = build_report('voc_export', export, tmp_path)
  issue = only_issue(report)
  assert (issue['file'], issue['action'], issue['objects_lost']) == (
      'SegmentationClass/a.png', 'skipped image', 1)
  assert issue['problem'].startswith('not a readable mask')
  assert sorted(all_examples(builder)) == ['b']


def test_decompression_bomb_mask_is_refused(tmp_path):
  import io  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  buffer = io.BytesIO()
  Image.new('P', (20000, 20000), 0).save(buffer, format='PNG')  # 400 MP
  export = write_export(tmp_path, {
      'Annotations/a.xml': box_xml('a.jpg'), 'JPEGImages/a.jpg': image_bytes(),
      'Annotations/b.xml': box_xml('b.jpg'), 'JPEGImages/b.jpg': image_bytes(),
      'labels.txt': 'cat\n', 'SegmentationClass/a.png': buffer.getvalue()})
  report, _ = build_report('voc_export', export, tmp_path)
  issue = only_issue(report)
  assert issue['file'] == 'SegmentationClass/a.png'
  assert issue['problem'].startswith('mask is too large to decode safely')
  assert '400000000 pixels' in issue['problem']


def test_cvat_rotated_box_becomes_its_polygon(tmp_path):
  xml = box_xml('a.jpg', [('cat', (10, 10, 30, 20))]).replace(
      '</bndbox>', '</bndbox><attributes><attribute><name>rotation</name>'
      '<value>90.0</value></attribute></attributes>')
  report, builder = build_report(
      'voc_export', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  ex = all_examples(builder)['a']
  assert report['issues'] == [] and ex['objects']['has_mask'].tolist() == [
      True]
  np.testing.assert_allclose(ex['objects']['bbox'][0],
                             [5 / 30, 15 / 40, 25 / 30, 25 / 40], atol=1e-6)


def test_two_boxes_in_one_object_and_an_empty_polygon_beside_a_box(tmp_path):
  """Two <bndbox>: which one is meant is unclear, so the object is a
  reported skip (the second was ignored unreported); an empty <polygon/>
  beside a box adds no shape, the box is kept (it skipped the object)."""
  two = box_xml('a.jpg', [('cat', (2, 3, 20, 25))]).replace(
      '</bndbox>', '</bndbox><bndbox><xmin>1</xmin><ymin>1</ymin>'
      '<xmax>5</xmax><ymax>5</ymax></bndbox>')
  empty = box_xml('b.jpg', [('dog', (4, 5, 30, 20))]).replace(
      '</bndbox>', '</bndbox><polygon/>')
  export = good_voc(tmp_path, **{'annotations/a.xml': two,
                                 'annotations/b.xml': empty})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert (issue['file'], issue['item'], issue['action'], issue['problem'],
          issue['objects_lost']) == (
              'annotations/a.xml', 'object #1 (cat)', 'skipped object',
              'has 2 <bndbox> elements; one object has one box.', 1)
  b = all_examples(builder)['b']['objects']
  assert np.round(b['bbox'] * [30, 40, 30, 40]).tolist() == [[5, 4, 20, 30]]


def test_person_layout_parts_are_listed_not_dropped_unsaid(tmp_path):
  """VOC2012 layout: <part> boxes inside a person; the person is kept."""
  part = ('<part><name>{}</name><bndbox><xmin>3</xmin><ymin>4</ymin>'
          '<xmax>8</xmax><ymax>9</ymax></bndbox></part>')
  xml = box_xml('a.jpg', [('person', (2, 3, 20, 25))]).replace(
      '</object>', part.format('head') + part.format('hand') + '</object>')
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'annotations/a.xml': xml}),
      tmp_path)
  issue = only_issue(report)
  assert (issue['file'], issue['item'], issue['action'],
          issue['objects_lost']) == ('annotations/a.xml', 'object #1',
                                     'warning', 0)
  assert issue['problem'].startswith('its 2 <part> box(es) (head, hand) are'
                                     ' not kept')
  assert builder.info.features['objects']['label'].names == ['cat', 'person']
  person = all_examples(builder)['a']['objects']
  np.testing.assert_allclose(person['bbox'], [[3 / 30, 2 / 40, 25 / 30,
                                               20 / 40]], atol=1e-6)


def test_copied_xml_naming_another_files_image_uses_its_own_image(tmp_path):
  """labelImg: a.xml copied from b.xml still says <filename>b.jpg; a.jpg
  gets a.xml's boxes (reported), b.jpg keeps b.xml's, nothing is lost."""
  export = good_voc(tmp_path, **{
      'annotations/a.xml': box_xml('b.jpg', [('dog', (1, 2, 10, 12))])})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert (issue['file'], issue['item'], issue['action']) == (
      'annotations/a.xml', '<filename>', 'repaired')
  assert issue['problem'] == ("names 'b.jpg', the image of annotations/b.xml;"
                              ' images/a.jpg (the name of this file) is used'
                              ' instead')
  examples = all_examples(builder)
  names = builder.info.features['objects']['label'].names
  assert {k: [names[i] for i in v['objects']['label']]
          for k, v in examples.items()} == {'a': ['dog'], 'b': ['cat']}
  assert examples['a']['image/filename'] == b'images/a.jpg'
  assert report['nothing_lost']


def test_filename_differing_from_the_xml_name_is_still_used(tmp_path):
  """Ids that are not image names (000001.xml -> photo.jpg) keep working."""
  export = write_export(tmp_path, {
      'images/photo.jpg': image_bytes(),
      'annotations/000001.xml': box_xml('photo.jpg')})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  assert report['issues'] == []
  [example] = all_examples(builder).values()
  assert example['image/filename'] == b'images/photo.jpg'
