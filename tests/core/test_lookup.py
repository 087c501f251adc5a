"""tfds_builders.core.lookup: finding the image an annotation names."""

import pytest

from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.lookup import ImageLookup


@pytest.fixture
def lookup(tmp_path):
  for name in ('images/train/a.jpg', 'images/test/b.JPG', 'valid/c.png',
               'ann/d.jpeg', 'x/dup.jpg', 'y/dup.jpg', 'deep/er/e.png',
               'SegmentationClass/a.png', 'notes.txt'):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'x')
  return ImageLookup(ExportFiles(tmp_path),
                     ignore_folders=('segmentationclass',))


@pytest.mark.parametrize('name, kwargs, found', [
    ('a.jpg', {'split_folder': 'train'}, 'images/train/a.jpg'),
    ('b.jpg', {'split_folder': 'test'}, 'images/test/b.JPG'),  # suffix case
    ('c.png', {'split_folder': 'valid'}, 'valid/c.png'),
    ('d.jpeg', {'near': ('ann',)}, 'ann/d.jpeg'),
    ('d', {'near': ('ann',)}, 'ann/d.jpeg'),  # no suffix
    ('images\\train\\a.jpg', {}, 'images/train/a.jpg'),  # Windows separators
    ('gone/folder/e.png', {}, 'deep/er/e.png'),  # the one e.png anywhere
    ('./valid/c.png', {}, 'valid/c.png'),
])
def test_found(lookup, name, kwargs, found):
  assert lookup.find(name, **kwargs).name == found


def test_ambiguous_name_is_reported_not_guessed(lookup):
  found = lookup.find('dup.jpg')
  assert found.name is None
  assert "2 images are named 'dup.jpg' (x/dup.jpg, y/dup.jpg)" in (
      found.problem)


def test_exact_name_wins_over_one_differing_in_case(tmp_path):
  """On a case-sensitive disk `Cat.jpg` and `cat.jpg` are two images."""
  for name in ('Cat.jpg', 'cat.jpg', 'dog.jpg', 'DOG.jpg', 'Bird.JPG'):
    (tmp_path / name).write_bytes(b'x')
  lookup = ImageLookup(ExportFiles(tmp_path))
  assert lookup.find('cat').name == 'cat.jpg'  # suffix added, exact
  assert lookup.find('Cat.jpg').name == 'Cat.jpg'
  assert lookup.find('bird.jpg').name == 'Bird.JPG'  # the only one
  found = lookup.find('dog.JPG', anywhere=False)
  assert found.name is None
  assert found.problem == ("2 images differ from 'dog.JPG' only in case"
                           ' (DOG.jpg, dog.jpg) and none is that name'
                           ' exactly')


def test_the_one_image_of_a_name_in_another_splits_folder_is_not_taken(
    tmp_path):
  """CVAT numbers frames frame_000000.jpg in every subset: valid's frame is
  not train's."""
  for name in ('train/frame_000000.jpg', 'train/frame_000001.jpg',
               'photos/only.jpg'):
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_bytes(b'x')
  lookup = ImageLookup(ExportFiles(tmp_path))
  found = lookup.find('frame_000000.jpg', near=('valid',),
                      split_folder='valid')
  assert found.name is None
  assert found.problem.endswith(
      "the one image named 'frame_000000.jpg' is train/frame_000000.jpg, in"
      ' the folder of another split (train/), most likely another image')
  assert lookup.find('frame_000001.jpg', split_folder='train').name == (
      'train/frame_000001.jpg')
  # Not in a split folder: the one image of the name is still used.
  assert lookup.find('only.jpg', split_folder='valid').name == (
      'photos/only.jpg')


def test_missing_says_where_it_looked(lookup):
  found = lookup.find('zzz.jpg', near=('ann',), split_folder='train')
  assert found.name is None
  assert 'ann/, ./, images/, images/train/, train/' in found.problem


def test_anywhere_can_be_turned_off(lookup):
  assert lookup.find('e.png', anywhere=False).name is None


@pytest.mark.parametrize('name, problem', [
    ('../a.jpg', 'climbs out of the export folder'),
    ('/abs/zzz.jpg', "is absolute; annotation paths must be relative to the"
     " export folder; no image(s) named 'zzz.jpg' in the export"),
    ('C:\\x\\dup.jpg', "is absolute; annotation paths must be relative to"
     " the export folder; 2 image(s) named 'dup.jpg' in the export")])
def test_paths_leaving_the_export_are_not_found(lookup, name, problem):
  found = lookup.find(name, file='x.xml')
  assert found.name is None and problem in found.problem
  assert 'images/train/a.jpg' in lookup.unclaimed()  # not by base name


@pytest.mark.parametrize('name', [
    '/data/upload/1/a.jpg',  # Label Studio's local storage
    'C:\\Users\\me\\Pictures\\a.jpg', '~/a.jpg'])
def test_absolute_path_is_the_one_image_of_its_name_reported(lookup, name):
  """Where the image was on the labelling machine: never opened; the one
  image of that name in the export is used, and said so."""
  assert lookup.find(name, file='result.json').name == 'images/train/a.jpg'
  [issue] = lookup.unclaimed_issues()[:1]
  assert (issue.file, issue.item, issue.action) == (
      'images/train/a.jpg', f'named {name!r} in result.json', 'repaired')
  assert issue.problem.endswith(
      "is absolute; annotation paths must be relative to the export folder;"
      " the one image named 'a.jpg' in the export is used")
  assert lookup.find(name, anywhere=False).name is None


def test_unclaimed_images_exclude_masks_and_found_ones(lookup):
  lookup.find('a.jpg', split_folder='train')
  assert lookup.unclaimed() == [
      'ann/d.jpeg', 'deep/er/e.png', 'images/test/b.JPG', 'valid/c.png',
      'x/dup.jpg', 'y/dup.jpg']
  assert all(i.action == 'not included' for i in lookup.unclaimed_issues())


def test_an_image_found_by_name_in_another_folder_is_a_reported_repair(
    lookup):
  """`photos/a.jpg` is not there; the one a.jpg elsewhere is used, and said."""
  assert lookup.find('photos/a.jpg', file='x.json').name == (
      'images/train/a.jpg')
  assert lookup.find('a.jpg', file='y.json').name == 'images/train/a.jpg'
  repaired = [i for i in lookup.unclaimed_issues()
              if i.action == 'repaired']
  assert [(i.file, i.item, i.problem) for i in repaired] == [(
      'images/train/a.jpg', "named 'photos/a.jpg' in x.json",
      "is not at 'photos/a.jpg'; the one image of this name in the export"
      ' is used')]
