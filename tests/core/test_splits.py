"""tfds_builders.core.splits: the one table of split words, the hash split."""

import numpy as np
import pytest

from tfds_builders.core import splits


@pytest.mark.parametrize('name, split', [
    ('train', 'train'), ('Training', 'train'), ('train2017', 'train'),
    ('obj_train_data', 'train'), ('val', 'validation'),
    ('valid', 'validation'), ('validation', 'validation'),
    ('minival2014', 'validation'), ('dev', 'validation'),
    ('instances_val2017', 'validation'), ('test', 'test'),
    ('testing', 'test'), ('test-dev2017', 'test'),
    ('image_info_test-dev2017', 'test'),
    # Not splits: no word, a union, two splits at once, a file's own name.
    ('eval', 'validation'), ('train_aug', 'train'), ('trainaug', 'train'),
    ('trainval', None), ('images', None), ('train_test', None),
    ('_annotations.coco', None), ('default', None), ('contest', None),
    ('valminusminival2014', None), ('unlabeled', None),
])
def test_split_words(name, split):
  assert splits.split_word(name) == split


def test_nearest_split_folder_wins():
  assert splits.split_from_folders(('images', 'test')) == ('test', 'test')
  assert splits.split_from_folders(('train', 'valid', 'labels')) == (
      'validation', 'valid')
  assert splits.split_from_folders(('a', 'b')) is None
  assert splits.split_from_folders(()) is None


def test_split_hash_is_stable_and_near_the_fraction():
  # Fixed values: a change here silently reshuffles every user's splits.
  assert splits.assign_split('raccoon-1') == 'train'
  assert [splits.assign_split(f'img{i}') for i in range(6)] == [
      splits.assign_split(f'img{i}') for i in range(6)]
  share = np.mean([splits.assign_split(str(i)) == 'test'
                   for i in range(5000)])
  assert 0.18 < share < 0.22
  assert all(splits.assign_split(str(i), 0.0) == 'train' for i in range(100))


def test_split_hash_known_values():
  assert splits.holdout_fraction_of('a') == pytest.approx(
      int('ca978112ca1bbdca', 16) / 2**64)


def test_roboflow_copies_of_one_photo_share_a_split():
  stem = 'IMG_2383_jpg.rf.'
  copies = [f'train/{stem}{h}.jpg' for h in ('0a1b', 'ffee', '1234abcd')]
  assert {splits.hash_key(c) for c in copies} == {'train/IMG_2383'}
  assert len({splits.assign_split(c) for c in copies}) == 1
  assert splits.hash_key('plain_photo.jpg') == 'plain_photo.jpg'
