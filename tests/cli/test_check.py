"""`python -m tfds_builders check`: exit codes, summary, --json, detection.

Most tests call `check.check` / `main.main` in this process (fast); the
first runs the real command line, as a user would.
"""

import json
import shutil
import subprocess
import sys

import pytest

from tests.builds import build, read_report
from tests.fixtures.writers import (box_xml, good_voc, image_bytes,
                                    write_export)
from tests.paths import DUMMY_DATA, PROJECT, shared_export
from tfds_builders.cli import check, detect, main
from tfds_builders.core.errors import ExportError
from tfds_builders.voc import VocExport
from tfds_builders.core.exportfs import ExportFiles

HEADERS_NOTE = ('  (check reads image headers only: damaged pixel data and'
                ' format conversions show up in the build report.)')


def run(*args):
  return subprocess.run([sys.executable, '-m', 'tfds_builders', *map(
      str, args)], capture_output=True, text=True, timeout=600, cwd=PROJECT,
                        check=False)


def test_command_line_prints_the_build_summary_and_exits_0():
  export = DUMMY_DATA / 'voc' / 'labelimg'
  result = run('check', export)
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.splitlines() == [
      f'voc_export/default/{VocExport.VERSION}: PASCAL VOC (annotations/ + images/) export'
      f' at {export}',
      '  classes (labels.txt): person, bicycle',
      '  train: 5 images, 10 objects (bicycle=5, person=5) [split from hash'
      ' of the image id]',
      '  export: 5 images, 10 objects; skipped 0 images, 0 objects; nothing'
      ' lost: True',
      '  - not included: images/not_annotated.jpg: no annotation names this'
      ' image Fix: Annotate it (an image without objects is kept when a split'
      ' list or annotation names it), or delete it.',
      'check: OK, a build would succeed (1 not included).',
      HEADERS_NOTE]
  assert 'Traceback' not in result.stderr


def test_command_line_error_exits_2_with_a_json_error(tmp_path):
  export = good_voc(tmp_path, **{'labels.txt': 'dog\n'})
  result = run('check', export, '--json')
  assert result.returncode == 2, result.stderr[-3000:]
  data = json.loads(result.stdout)
  assert data['check']['exit_code'] == 2
  assert data['check']['format'] == 'voc'
  assert data['error']['problem'] == (
      "classes not in the class list from labels.txt: 'cat' (first in"
      " annotations/a.xml: object #1 (cat)).")
  assert data['error']['fix'] == ('Add them to labels.txt, or relabel those'
                                  ' objects.')
  assert 'Traceback' not in result.stderr


def test_error_text_names_problem_file_and_fix(tmp_path):
  outcome = check.check(good_voc(tmp_path, **{'labels.txt': 'dog\n'}))
  assert outcome.exit_code == 2 and outcome.report is None
  assert check.text(outcome).splitlines() == [
      'check: the export has an error that stops a build'
      ' (voc_export/default):',
      "  problem: classes not in the class list from labels.txt: 'cat' (first"
      ' in annotations/a.xml: object #1 (cat)).',
      '  fix: Add them to labels.txt, or relabel those objects.']


def test_json_is_the_report_with_the_verdict(tmp_path, capsys):
  export = good_voc(tmp_path, **{
      'annotations/a.xml': box_xml('a.jpg', [('cat', (30, 3, 20, 25))])})
  assert main.main(['check', str(export), '--json', '--config', 'boxes']) == 0
  data = json.loads(capsys.readouterr().out)
  assert data['dataset'] == f'voc_export/boxes/{VocExport.VERSION}'
  assert data['export'] == {'images': 2, 'objects': 2}
  assert data['skipped'] == {'images': 0, 'objects': 1}
  assert data['nothing_lost'] is True
  assert data['issue_counts'] == {'skipped object': 1}
  assert data['check'] == {
      'exit_code': 0, 'format': 'voc', 'builder': 'voc_export/boxes',
      'strict': False, 'strict_refuses': 1, 'reads': check.HEADERS_ONLY}


def test_strict_exits_1_when_anything_would_be_skipped(tmp_path):
  export = good_voc(tmp_path, **{
      'annotations/a.xml': box_xml('a.jpg', [('cat', (30, 3, 20, 25))])})
  relaxed = check.check(export)
  strict = check.check(export, strict=True)
  assert (relaxed.exit_code, strict.exit_code) == (0, 1)
  assert strict.strict_refuses == 1
  issue, = strict.report['issues']
  assert (issue['action'], issue['file'], issue['item']) == (
      'skipped object', 'annotations/a.xml', 'object #1 (cat)')
  assert issue['problem'].startswith('box is inverted (xmin=30, xmax=20')
  assert check.text(strict).splitlines()[-2] == (
      'check: a strict build would stop: 1 item(s) would be skipped (1'
      ' skipped object).')
  assert check.text(relaxed).splitlines()[-2] == (
      'check: OK, a build would succeed (1 skipped object).')


def test_strict_passes_warnings(tmp_path):
  # A size that disagrees with the image is a warning, which strict allows.
  xml = box_xml('a.jpg', size=(400, 300))
  outcome = check.check(good_voc(tmp_path, **{'annotations/a.xml': xml}),
                        strict=True)
  assert outcome.exit_code == 0
  assert outcome.report['issue_counts'] == {'warning': 1}
  assert check.text(outcome).splitlines()[-2] == (
      'check: OK, a build would succeed (strict too) (1 warning).')


def test_missing_folder_exits_2(tmp_path):
  for export_format in (None, 'voc'):
    outcome = check.check(tmp_path / 'nope', export_format)
    assert outcome.exit_code == 2
    assert outcome.error.problem == ('the export folder is missing or is not'
                                     ' a folder.')


def test_a_split_left_empty_stops_like_a_build(tmp_path):
  export = write_export(tmp_path, {'images/a.jpg': b'',
                                   'annotations/a.xml': box_xml('a.jpg')})
  outcome = check.check(export)
  assert outcome.exit_code == 2
  assert outcome.error.problem.startswith(
      "every one of the 1 images of split 'train' would be skipped; the last:"
      ' image file is empty (0 bytes).')
  assert outcome.error.file == 'images/a.jpg'


def test_long_issue_lists_point_at_json(tmp_path):
  files = {f'images/x{i}.jpg': image_bytes() for i in range(25)}
  outcome = check.check(good_voc(tmp_path, **files))
  lines = check.text(outcome).splitlines()
  assert outcome.exit_code == 0
  assert sum(line.startswith('  - not included: images/x') for line in
             lines) == 20
  assert lines[-3] == '  ... 5 more (all of them with --json)'


def test_header_only_check_passes_an_image_the_build_skips(tmp_path):
  """check reads headers: a JPEG cut short after its header is in the check
  report as a kept image, while a build decodes it and skips it."""
  broken = image_bytes(size=(64, 48))
  files = {f'images/{n}.jpg': image_bytes(size=(64, 48)) for n in 'abcdef'}
  files.update({f'annotations/{n}.xml': box_xml(f'{n}.jpg', size=(64, 48))
                for n in 'abcdef'})
  files['images/a.jpg'] = broken[:len(broken) // 2]
  export = write_export(tmp_path, files)
  checked = check.check(export, config='boxes')
  assert checked.exit_code == 0
  assert checked.report['dataset_totals'] == {'images': 6, 'objects': 6}
  assert checked.report['issues'] == []
  built = read_report(build('voc_export/boxes', export, tmp_path / 'data'))
  assert built['dataset_totals'] == {'images': 5, 'objects': 5}
  issue, = built['issues']
  assert (issue['file'], issue['action']) == ('images/a.jpg', 'skipped image')
  assert issue['problem'].startswith('JPEG data is corrupt or incomplete')


def test_header_only_check_lists_no_conversion(tmp_path):
  # A build converts a CMYK JPEG to an RGB PNG and reports it as repaired;
  # check reads the header only and does not list it.
  export = good_voc(tmp_path, **{'images/a.jpg': image_bytes('CMYK')})
  checked = check.check(export, config='boxes')
  assert checked.exit_code == 0 and checked.report['issues'] == []


def test_labelbox_media_not_local_are_missing_without_download_dir(tmp_path):
  export = tmp_path / 'ndjson'
  shutil.copytree(DUMMY_DATA / 'labelbox_export' / 'ndjson', export)
  rows = [json.loads(line) for line in
          (export / 'export.ndjson').read_text().splitlines()]
  row, = [r for r in rows if r['data_row']['global_key'] == 'g.jpg']
  row['data_row']['row_data'] = 'https://example.invalid/g.jpg'
  (export / 'export.ndjson').write_text(
      ''.join(json.dumps(r) + '\n' for r in rows))
  (export / 'images' / 'g.jpg').unlink()
  outcome = check.check(export)
  assert outcome.exit_code == 0
  missing = [i for i in outcome.report['issues'] if i['file'] == 'g.jpg']
  assert len(missing) == 1 and missing[0]['action'] == 'skipped image'
  assert missing[0]['problem'].endswith(
      'no download folder to fetch https://example.invalid/g.jpg into.')


# Format detection.


@pytest.mark.parametrize('folder, expected', [
    ('voc/labelimg', 'voc'), ('voc/vocdevkit', 'voc'), ('voc/flat', 'voc'),
    ('voc/roboflow', 'voc'), ('voc/cvat_rgb', 'voc'),
    ('voc/split_folders', 'voc'), ('voc/cvat_masks', 'voc'),
    ('coco/cvat', 'coco'), ('coco/official', 'coco'), ('coco/roboflow', 'coco'),
    ('coco/labelstudio', 'coco'), ('coco/single', 'coco'),
    ('coco/keypoints', 'coco'),
    ('labelbox_export/ndjson', 'labelbox'),
    ('labelbox_export/v1_json', 'labelbox'),
    ('labelbox_export/tfrecord', 'labelbox'), ('labelbox_cars', 'labelbox'),
    ('tfod_export/cvat', 'tfod'), ('tfod_export/roboflow', 'tfod'),
    ('tfod_export/sharded', 'tfod'),
    ('yolo/ultralytics_dict', 'yolo'), ('yolo/roboflow', 'yolo'),
    ('yolo/darknet', 'yolo'), ('yolo/labelstudio', 'yolo'),
    ('yolo/labelimg', 'yolo'),
])
def test_detects_each_dummy_export(folder, expected):
  assert detect.detect(ExportFiles(DUMMY_DATA / folder)).format == expected


def test_ambiguous_folder_names_the_matches():
  with pytest.raises(ExportError) as error:
    detect.detect(ExportFiles(DUMMY_DATA / 'labelbox_export' /
                              'same_as_coco'))
  assert error.value.problem == (
      'the folder matches several export formats: coco'
      ' (annotations/instances.json), labelbox (export.ndjson).')
  assert error.value.fix == 'Pass the one to check with --format coco|labelbox.'
  outcome = check.check(DUMMY_DATA / 'labelbox_export' / 'same_as_coco')
  assert outcome.exit_code == 2 and outcome.format is None
  told = check.check(DUMMY_DATA / 'labelbox_export' / 'same_as_coco', 'coco')
  assert told.exit_code == 0 and told.builder == 'coco_export/default'


def test_unknown_folder_says_what_was_looked_for(tmp_path):
  # CVAT's own XML ("CVAT for images") has <annotations>, not VOC's root;
  # README text files, a CSV and JSON that is not COCO are no format either.
  export = write_export(tmp_path, {
      'annotations.xml': '<?xml version="1.0"?>\n<annotations><version>1.1'
                         '</version></annotations>\n',
      'README.roboflow.txt': 'Exported with roboflow\n1 2 3\n',
      'labels.csv': 'file,x,y\n', 'notes.json': '{"categories": [], "info":'
                                                 ' {}}',
      'img.jpg': image_bytes()})
  with pytest.raises(ExportError) as error:
    detect.detect(ExportFiles(export))
  assert error.value.problem.startswith('no known export format found'
                                        ' (looked for voc: PASCAL VOC *.xml')
  for fmt in detect.FORMATS:
    assert f'{fmt}: ' in error.value.problem
  assert main.main(['check', str(export)]) == 2


def test_yolo_labels_found_past_empty_label_files(tmp_path):
  files = {f'labels/{i:02d}.txt': '' for i in range(30)}
  files['labels/99.txt'] = '0 0.5 0.5 0.2 0.2\n'
  files['classes.txt'] = 'cat\n'
  found = detect.detect(ExportFiles(write_export(tmp_path, files)))
  assert found == detect.Match('yolo', 'labels/99.txt')


def test_detected_export_keeps_what_the_walk_refused(tmp_path):
  outside = tmp_path / 'outside.jpg'
  outside.write_bytes(image_bytes())
  export = good_voc(tmp_path)
  (export / 'images' / 'link.jpg').symlink_to(outside)
  issue, = check.check(export).report['issues']
  assert (issue['file'], issue['action']) == ('images/link.jpg',
                                              'not included')
  assert issue['problem'].startswith('symlink leading outside the export')


def test_detection_leaves_the_report_to_the_parser(tmp_path):
  # A dataset YAML in Windows-1252: detection reads it, the parser reads it
  # again; the fallback is reported once.
  export = write_export(tmp_path, {
      'data.yaml': 'train: images/train\nnames: [caf\xe9]\n'.encode('cp1252'),
      'images/train/a.jpg': image_bytes(),
      'labels/train/a.txt': '0 0.5 0.5 0.5 0.5\n'})
  files = ExportFiles(export)
  assert detect.detect(files).format == 'yolo' and files.issues == []
  outcome = check.check(export)
  assert outcome.exit_code == 0 and outcome.report['classes'] == ['caf\xe9']
  assert [(i['file'], i['problem']) for i in outcome.report['issues']] == [
      ('data.yaml', 'not UTF-8 (byte 0xe9 at offset 31); read as'
       ' Windows-1252')]


# The real exports in ../shared/data.


def test_conformance_labelimg_cards_counts_as_a_build(tmp_path):
  export = shared_export('conformance/labelimg_voc_cards')
  outcome = check.check(export)
  assert outcome.exit_code == 0 and outcome.format == 'voc'
  built = read_report(build('voc_export/default', export, tmp_path))
  assert outcome.report['splits'] == built['splits']
  assert outcome.report['classes'] == built['classes']
  assert outcome.report['issues'] == built['issues'] == []
  lines = check.text(outcome).splitlines()
  assert lines[2:4] == [
      '  test: 10 images, 19 objects (ace=2, jack=6, king=6, nine=2, queen=1,'
      ' ten=2) [split from folder test/]',
      '  train: 20 images, 23 objects (ace=3, jack=3, king=3, nine=5, queen=6,'
      ' ten=3) [split from folder train/]']


def test_conformance_keypoints_without_images_exits_2():
  outcome = check.check(
      shared_export('conformance/coco_official_person_keypoints'))
  assert outcome.exit_code == 2 and outcome.format == 'coco'
  assert outcome.error.problem.startswith(
      'no media found: none of the 18 images the annotations name is in the'
      ' export')
  assert outcome.error.file == 'annotations/person_keypoints_train2017.json'


@pytest.mark.parametrize('name, expected', [
    ('labelimg_voc_microcontroller', 'voc'), ('roboflow_voc_stairs', 'voc'),
    ('cvat_coco_dental', 'coco'), ('roboflow_coco_chess', 'coco'),
    ('labelstudio_coco_parts', 'coco'), ('tfod_pikachu', 'tfod'),
    ('labelstudio_yolo_doors', 'yolo'), ('labelbox_ndjson_zealot', 'labelbox'),
])
def test_conformance_detected(name, expected):
  assert detect.detect(ExportFiles(shared_export(
      f'conformance/{name}'))).format == expected
