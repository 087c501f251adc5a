"""`python -m tfds_builders diff`: two real builds of an export before and
after a round of edits, and the pairing rules on small hand-made indexes."""

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.builds import build
from tests.fixtures.writers import box_xml, jpeg, write_export
from tests.paths import PROJECT
from tfds_builders.cli import diff, main, release_notes
from tfds_builders.cli.diff import Obj, Version
from tfds_builders.core.errors import ExportError
from tfds_builders.voc import VocExport

VOC = str(VocExport.VERSION)


def labelimg_export(root: pathlib.Path, images: dict) -> pathlib.Path:
  """XML beside each image in images/<split>/ (labelImg): `images` maps
  'split/name' to (image seed, [(class, (xmin, ymin, xmax, ymax))])."""
  files = {}
  for path, (seed, boxes) in images.items():
    name = path.rsplit('/', 1)[1]
    files[f'images/{path}.jpg'] = jpeg(40, 30, seed)
    files[f'images/{path}.xml'] = box_xml(f'{name}.jpg', boxes)
  return write_export(root, files)


CAT, DOG = (2, 3, 20, 25), (10, 5, 30, 28)
VERSION_1 = {
    'train/a': (1, [('cat', CAT), ('dog', DOG)]),
    'train/b': (2, [('cat', CAT)]),
    'train/c': (3, [('dog', (5, 5, 25, 25))]),
    'train/d': (4, [('cat', (1, 1, 15, 15))]),
    'test/e': (5, [('dog', (3, 3, 30, 20))]),
    'test/f': (6, [('cat', CAT), ('dog', (22, 4, 38, 28))]),
}
VERSION_2 = {
    # Objects in the other order, one edge 0.2 px (0.005) off: no change.
    'train/a': (1, [('dog', DOG), ('cat', (2.2, 3, 20, 25))]),
    'train/b': (2, [('cat', (4, 3, 22, 25))]),  # box moved 2 px (0.05)
    # train/c removed
    'test/d': (4, [('cat', (1, 1, 15, 15))]),  # moved to the test folder
    'test/e': (55, [('dog', (3, 3, 30, 20))]),  # other image bytes
    'test/f': (6, [('cat', CAT), ('cat', (22, 4, 38, 28))]),  # dog -> cat
    'train/g': (7, [('bird', (5, 5, 35, 25))]),  # added, with a new class
}


@pytest.fixture(scope='module')
def versions(tmp_path_factory):
  root = tmp_path_factory.mktemp('versions')
  folders = []
  for number, images in ((1, VERSION_1), (2, VERSION_2)):
    export = labelimg_export(root / f'v{number}', images)
    builder = build('voc_export/boxes', export, root / f'data{number}')
    folders.append(pathlib.Path(builder.data_dir))
  return folders


def test_command_line_prints_and_writes_markdown(versions, tmp_path):
  old, new = versions
  notes = tmp_path / 'notes.md'
  result = subprocess.run(
      [sys.executable, '-m', 'tfds_builders', 'diff', str(old), str(new),
       '--markdown', str(notes)], capture_output=True, text=True, timeout=600,
      cwd=PROJECT, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  lines = result.stdout.splitlines()
  assert lines[2:10] == [
      'images: 6 -> 6: 1 added, 1 removed, 1 changed (same id, other bytes),'
      ' 1 moved to another split',
      '  test: 2 -> 3',
      '  train: 4 -> 3',
      'classes: 2 -> 3: 1 class added: bird; label ids changed: cat 0 -> 1,'
      ' dog 1 -> 2',
      'objects per class (before -> after):',
      '  cat: 4 -> 5 (+1)',
      '  dog: 4 -> 2 (-2)',
      '  bird: 0 -> 1 (+1)']
  assert lines[-2] == f'suggested release note: {NOTE}'
  assert lines[-1] == f'markdown written to {notes}'
  text = notes.read_text()
  assert text.startswith(f'# voc_export/boxes: {VOC} -> {VOC}\n')
  assert f"RELEASE_NOTES = {{'{VOC}': {NOTE!r}}}" in text
  for section in ('## Added images (1)\n\n- images/train/g (train, 1 object)',
                  '## Removed images (1)\n\n- images/train/c (train, 1'
                  ' object)',
                  '## Changed images (same id, other bytes) (1)\n\n-'
                  ' images/test/e (test)',
                  '## Moved between splits (1)\n\n- images/train/d ->'
                  ' images/test/d: train -> test',
                  '## Relabelled objects (1)\n\n- images/test/f: dog -> cat at'
                  ' [0.133, 0.550, 0.933, 0.950]',
                  '## Moved boxes (an edge beyond 0.01) (1)\n\n-'
                  ' images/train/b: cat [0.100, 0.050, 0.833, 0.500] ->'
                  ' [0.100, 0.100, 0.833, 0.550]',
                  '## Objects added to kept images (0)\n\nNone.',
                  '| cat | 4 | 5 | +1 |\n| dog | 4 | 2 | -2 |\n| bird | 0 | 1'
                  ' | +1 |',
                  '| test | 2 | 3 | +1 |\n| train | 4 | 3 | -1 |\n| all | 6 |'
                  ' 6 | 0 |'):
    assert section in text, section


NOTE = ('1 image added, 1 removed, 1 replaced by other image bytes; 1 image'
        ' moved between splits (1 train -> test); 1 class added: bird; label'
        ' ids changed: cat 0 -> 1, dog 1 -> 2; 1 object relabelled, 1 box'
        ' moved.')


def test_counts_and_items(versions):
  result = diff.compare(*map(diff.load, versions))
  assert result.added == ['images/train/g']
  assert result.removed == ['images/train/c']
  assert result.changed == ['images/test/e']
  assert result.moved == [('images/train/d', 'images/test/d', 'train',
                           'test')]
  assert result.renamed == []
  (image, before, after), = result.relabelled
  assert (image, before.label, after.label) == ('images/test/f', 'dog', 'cat')
  assert before.box == after.box == pytest.approx((4 / 30, 22 / 40, 28 / 30,
                                                   38 / 40), abs=1e-6)
  (image, before, after), = result.boxes_moved
  assert (image, before.label, after.label) == ('images/train/b', 'cat',
                                                'cat')
  assert before.box == pytest.approx((3 / 30, 2 / 40, 25 / 30, 20 / 40))
  assert after.box == pytest.approx((3 / 30, 4 / 40, 25 / 30, 22 / 40))
  assert result.objects_added == result.objects_removed == []
  assert (result.classes_added, result.classes_removed) == (['bird'], [])
  assert result.label_ids_changed == [('cat', 0, 1), ('dog', 1, 2)]
  assert result.objects_per_class() == {'cat': (4, 5), 'dog': (4, 2),
                                        'bird': (0, 1)}
  assert result.images_per_split() == {'test': (2, 3), 'train': (4, 3)}
  assert release_notes.release_note(result) == NOTE


def test_box_tolerance(versions):
  strict = diff.compare(*map(diff.load, versions), box_tolerance=0.001)
  assert [(i, a.label) for i, a, _ in strict.boxes_moved] == [
      ('images/train/a', 'cat'), ('images/train/b', 'cat')]
  loose = diff.compare(*map(diff.load, versions), box_tolerance=0.1)
  assert loose.boxes_moved == [] and len(loose.relabelled) == 1


def test_same_version_twice_is_no_change(versions):
  result = diff.compare(diff.load(versions[0]), diff.load(versions[0]))
  assert release_notes.release_note(result) == (
      'Rebuilt; no change to images, labels, boxes or splits.')


def test_folder_without_index_says_rebuild(versions, tmp_path, capsys):
  old = tmp_path / '1.0.0'
  shutil.copytree(versions[0], old)
  (old / 'image_index.jsonl').unlink()
  with pytest.raises(ExportError) as error:
    diff.load(old)
  assert error.value.problem.startswith(
      'no image_index.jsonl here: the folder was not built by tfds_builders,'
      ' or was built by an older version')
  assert error.value.fix.startswith('Rebuild that version with this'
                                    ' tfds_builders')
  assert main.main(['diff', str(old), str(versions[1])]) == 2
  assert capsys.readouterr().err.startswith(f'diff: {old}: no image_index')


def test_classes_from_tfds_metadata_without_the_report(versions, tmp_path):
  copy = tmp_path / VOC
  shutil.copytree(versions[1], copy)
  (copy / 'build_report.json').unlink()
  loaded = diff.load(copy)
  assert loaded.dataset == f'voc_export/boxes/{VOC}'
  assert loaded.classes == ['bird', 'cat', 'dog']


def test_folder_of_versions_names_them(versions):
  with pytest.raises(ExportError) as error:
    diff.load(versions[0].parent)
  assert error.value.problem == (f'this folder holds versions ({VOC}), not'
                                 ' one built version.')


# Pairing rules, on hand-made indexes.


def version(images: dict, classes=('cat', 'dog')) -> Version:
  return Version(pathlib.Path('/x/1.0.0'), 'x/default/1.0.0', list(classes),
                 {i: {'split': s, 'sha256': h, 'objects': o}
                  for i, (s, h, o) in images.items()})


BOX = (0.1, 0.1, 0.5, 0.5)


def test_pairing_ignores_order_and_pairs_relabels_by_overlap():
  other = (0.1, 0.4, 0.5, 0.8)  # overlaps BOX a little (IoU 1/7)
  old = [Obj('cat', BOX), Obj('dog', other), Obj('cat', (0.6, 0.6, 0.9, 0.9))]
  new = [Obj('cat', (0.6, 0.6, 0.9, 0.9)), Obj('cat', other),
         Obj('cat', BOX)]
  pairs, gone, came = diff.pair_objects(old, new, 0.01)
  assert sorted((a.label, b.label, a.box) for a, b in pairs) == sorted([
      ('cat', 'cat', BOX), ('dog', 'cat', other),
      ('cat', 'cat', (0.6, 0.6, 0.9, 0.9))])
  assert gone == came == []


def test_a_box_moved_past_half_overlap_is_removed_and_added():
  far = (0.1, 0.3, 0.5, 0.7)  # IoU with BOX = 1/3
  result = diff.compare(version({'a': ('train', 'h', [Obj('cat', BOX)])}),
                        version({'a': ('train', 'h', [Obj('cat', far)])}))
  assert result.boxes_moved == [] and result.relabelled == []
  assert result.objects_removed == [('a', Obj('cat', BOX))]
  assert result.objects_added == [('a', Obj('cat', far))]


def test_same_id_in_another_split_and_renames():
  old = version({'a': ('train', 'h1', []), 'b': ('train', 'h2', []),
                 'c': ('test', 'h3', [])})
  new = version({'a': ('test', 'h1', []), 'b2': ('train', 'h2', []),
                 'c': ('test', 'h4', [])}, classes=('cat', 'hound'))
  result = diff.compare(old, new)
  assert result.moved == [('a', 'a', 'train', 'test')]
  assert result.renamed == [('b', 'b2')]
  assert result.changed == ['c']
  assert result.added == result.removed == []
  assert (result.classes_added, result.classes_removed) == (['hound'],
                                                            ['dog'])
  assert release_notes.release_note(result) == (
      '1 image replaced by other image bytes; 1 image moved between splits'
      ' (1 train -> test); 1 image renamed; 1 class added: hound; 1 class'
      ' removed: dog.')


# Damaged folders and bad arguments: a clean `diff: FILE: problem Fix: ...`
# and exit 2 (argparse's usage error for arguments), never a traceback.


def index_line(image_id='a', split='train', sha='h1',
               objects=(('cat', *BOX),)) -> str:
  return json.dumps({'id': image_id, 'split': split, 'sha256': sha,
                     'objects': [list(o) for o in objects]})


def built_folder(folder: pathlib.Path, lines=None, report='default'):
  """A hand-made built version: build_report.json and image_index.jsonl."""
  folder.mkdir(parents=True)
  if report == 'default':
    report = json.dumps({'dataset': 'x/default/1.0.0',
                         'classes': ['cat', 'dog']})
  if report is not None:
    (folder / 'build_report.json').write_text(report)
  lines = [index_line()] if lines is None else lines
  (folder / 'image_index.jsonl').write_text(''.join(f'{l}\n' for l in lines))
  return folder


def run_diff(capsys, *argv):
  code = main.main(['diff', *map(str, argv)])
  out = capsys.readouterr()
  return code, out.out, out.err


def test_markdown_into_a_folder_that_does_not_exist_creates_it(tmp_path,
                                                               capsys):
  good = built_folder(tmp_path / 'good')
  notes = tmp_path / 'not' / 'yet' / 'notes.md'
  code, out, err = run_diff(capsys, good, good, '--markdown', notes)
  assert (code, err) == (0, '')
  assert out.splitlines()[-1] == f'markdown written to {notes}'
  assert notes.read_text().startswith('# x/default: 1.0.0 -> 1.0.0\n')


@pytest.mark.parametrize('where', ['a folder', 'below a file'])
def test_markdown_that_cannot_be_written_exits_2(where, tmp_path, capsys):
  good = built_folder(tmp_path / 'good')
  (tmp_path / 'file').write_text('')
  notes = tmp_path if where == 'a folder' else tmp_path / 'file' / 'n.md'
  code, _, err = run_diff(capsys, good, good, '--markdown', notes)
  assert code == 2
  assert err.startswith(f'diff: {notes}: cannot write the markdown (')
  assert err.rstrip().endswith('Fix: Pass --markdown a file path you can'
                               ' write to (folders on the way are created).')


@pytest.mark.parametrize('report, problem', [
    ('{bad', 'cannot read the build report (Expecting property name'),
    ('[]', 'not a build report: it needs "dataset"'),
    ('{"dataset": "x/default/1.0.0"}', 'not a build report: it needs'),
    ('{"dataset": "x/default/1.0.0", "classes": [1]}', 'not a build report'),
])
def test_damaged_build_report_exits_2(report, problem, tmp_path, capsys):
  good = built_folder(tmp_path / 'good')
  bad = built_folder(tmp_path / 'bad', report=report)
  code, out, err = run_diff(capsys, good, bad)
  assert (code, out) == (2, '')
  assert err.startswith(f'diff: {bad / "build_report.json"}: {problem}')
  assert 'Fix: Rebuild that version to rewrite it; or delete' in err


def test_index_alone_without_report_or_tfds_metadata_exits_2(tmp_path,
                                                             capsys):
  good = built_folder(tmp_path / 'good')
  bad = built_folder(tmp_path / 'bad', report=None)
  code, out, err = run_diff(capsys, bad, good)
  assert (code, out) == (2, '')
  assert err.startswith(
      f'diff: {bad}: neither build_report.json nor dataset_info.json is'
      ' here, so the dataset and its classes are unknown')
  assert 'Fix: Rebuild that version' in err


def test_damaged_tfds_metadata_without_report_exits_2(tmp_path, capsys):
  good = built_folder(tmp_path / 'good')
  bad = built_folder(tmp_path / 'bad', report=None)
  (bad / 'dataset_info.json').write_text('{bad')
  code, out, err = run_diff(capsys, good, bad)
  assert (code, out) == (2, '')
  assert err.startswith(
      f'diff: {bad / "dataset_info.json"}: build_report.json is missing and'
      ' the TFDS metadata does not give the dataset and its classes (')
  assert 'Fix: Rebuild that version' in err


BAD_OBJECT = ('not [label, ymin, xmin, ymax, xmax] with a string label and 4'
              ' finite numbers')


@pytest.mark.parametrize('line, problem', [
    (index_line(objects=[('dog', 0.1, 0.1)]),
     f'object #1 is ["dog", 0.1, 0.1], {BAD_OBJECT}'),
    (index_line(objects=[('cat', *BOX), ('dog', 0.1, 0.1, 0.5, 0.5, 0.9)]),
     f'object #2 is ["dog", 0.1, 0.1, 0.5, 0.5, 0.9], {BAD_OBJECT}'),
    (index_line(objects=[('dog', 0.1, float('nan'), 0.5, 0.5)]),
     f'object #1 is ["dog", 0.1, NaN, 0.5, 0.5], {BAD_OBJECT}'),
    (index_line(objects=[('dog', 0.1, '0.1', 0.5, 0.5)]),
     f'object #1 is ["dog", 0.1, "0.1", 0.5, 0.5], {BAD_OBJECT}'),
    (index_line(objects=[('dog', 0.1, True, 0.5, 0.5)]),
     f'object #1 is ["dog", 0.1, true, 0.5, 0.5], {BAD_OBJECT}'),
    (index_line(objects=[(3, *BOX)]),
     f'object #1 is [3, 0.1, 0.1, 0.5, 0.5], {BAD_OBJECT}'),
    (index_line().replace('"objects": [', '"objects": {"x": ').replace(
        ']]}', ']}}'), "'objects' is {'x': ['cat', 0.1, 0.1, 0.5, 0.5]},"
     ' not a list'),
    (index_line(split=None), "'split' is None, not a non-empty string"),
    (index_line(image_id=7), "'id' is 7, not a non-empty string"),
    ('{"id": "b", "split": "train", "objects": []}', "no 'sha256'"),
    ('["b", "train"]', 'a JSON list, not an object'),
])
def test_bad_index_line_is_refused_with_file_and_line(line, problem,
                                                      tmp_path, capsys):
  good = built_folder(tmp_path / 'good')
  bad = built_folder(tmp_path / 'bad', [index_line(image_id='z'), '', line])
  code, out, err = run_diff(capsys, good, bad)
  assert (code, out) == (2, '')
  assert err == (f'diff: {bad / "image_index.jsonl"}: line 3: line is not an'
                 f' index entry ({problem}). Fix: Rebuild that version (tfds'
                 ' build NAME --imports tfds_builders --manual_dir EXPORT'
                 ' --data_dir DIR) to rewrite it, then diff again.\n')


def test_short_box_no_longer_crashes_the_comparison(tmp_path, capsys):
  """The tester's case: a 3-number box reached geometry.iou (IndexError)."""
  old = built_folder(tmp_path / 'old', [index_line(objects=[
      ('dog', 0.5, 0.5, 0.9, 0.9)])])
  new = built_folder(tmp_path / 'new', [index_line(objects=[
      ('cat', 0.1, 0.1)])])
  code, _, err = run_diff(capsys, old, new)
  assert code == 2
  assert err.startswith(f'diff: {new / "image_index.jsonl"}: line 1: line is'
                        ' not an index entry (object #1 is ["cat", 0.1,'
                        ' 0.1]')


def test_duplicate_id_in_the_index_is_refused(tmp_path, capsys):
  good = built_folder(tmp_path / 'good')
  bad = built_folder(tmp_path / 'bad', [index_line(), index_line(sha='h2')])
  code, _, err = run_diff(capsys, good, bad)
  assert code == 2
  assert err.startswith(f'diff: {bad / "image_index.jsonl"}: line 2: image id'
                        " 'a' is listed twice.")


@pytest.mark.parametrize('value', ['-1', '-0.001', 'nan', 'inf', '-inf'])
def test_box_tolerance_must_be_finite_and_not_negative(value, tmp_path,
                                                       capsys):
  good = built_folder(tmp_path / 'good')
  with pytest.raises(SystemExit) as stop:
    main.main(['diff', str(good), str(good), f'--box_tolerance={value}'])
  assert stop.value.code == 2
  err = capsys.readouterr().err
  assert (f'error: argument --box_tolerance: {value} is not a fraction of'
          ' the image size: pass a finite number of 0 or more, e.g. 0.01'
          in err)
  with pytest.raises(ValueError, match='box_tolerance must be a finite'):
    diff.compare(diff.load(good), diff.load(good), float(value))


def test_box_tolerance_zero_and_not_a_number(tmp_path, capsys):
  good = built_folder(tmp_path / 'good')
  code, out, _ = run_diff(capsys, good, good, '--box_tolerance', '-0')
  assert code == 0 and 'moved boxes (an edge beyond 0) (0)' in out
  with pytest.raises(SystemExit) as stop:
    main.main(['diff', str(good), str(good), '--box_tolerance', 'abc'])
  assert stop.value.code == 2
  assert ("argument --box_tolerance: 'abc' is not a number; pass a fraction"
          in capsys.readouterr().err)


def test_two_different_datasets_are_compared_with_a_note(tmp_path, capsys):
  voc = built_folder(tmp_path / 'voc', report=json.dumps(
      {'dataset': 'voc_export/boxes/1.1.0', 'classes': ['cat']}))
  coco = built_folder(tmp_path / 'coco', [index_line(image_id='7')],
                      report=json.dumps({'dataset': 'coco_export/boxes/1.1.0',
                                         'classes': ['cat']}))
  notes = tmp_path / 'notes.md'
  code, out, _ = run_diff(capsys, voc, coco, '--markdown', notes)
  assert code == 0
  assert out.splitlines()[2] == (
      'note: these are different datasets (voc_export/boxes,'
      ' coco_export/boxes): images are matched by id, or by identical bytes'
      ' under another id, so ids that each format spells its own way show as'
      ' removed and added.')
  # Same bytes under another id in the same split: a rename, not a loss.
  assert 'renamed (same bytes, same split) (1):\n  a -> 7' in out
  text = notes.read_text()
  assert text.startswith('# voc_export/boxes 1.1.0 -> coco_export/boxes'
                         ' 1.1.0\n')
  assert 'Note: these are different datasets' in text
