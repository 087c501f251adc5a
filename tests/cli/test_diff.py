"""`python -m tfds_builders diff`: two real builds of an export before and
after a round of edits, and the pairing rules on small hand-made indexes."""

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
  assert text.startswith('# voc_export/boxes: 1.1.0 -> 1.1.0\n')
  assert f"RELEASE_NOTES = {{'1.1.0': {NOTE!r}}}" in text
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
  copy = tmp_path / '1.1.0'
  shutil.copytree(versions[1], copy)
  (copy / 'build_report.json').unlink()
  loaded = diff.load(copy)
  assert loaded.dataset == 'voc_export/boxes/1.1.0'
  assert loaded.classes == ['bird', 'cat', 'dog']


def test_folder_of_versions_names_them(versions):
  with pytest.raises(ExportError) as error:
    diff.load(versions[0].parent)
  assert error.value.problem == ('this folder holds versions (1.1.0), not one'
                                 ' built version.')


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
