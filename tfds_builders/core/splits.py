"""Splits: the one table of split words, and the hash split for the rest.

Every format names its splits the same few ways: a list file (`ImageSets/
Main/val.txt`, Darknet's `train.txt`), a folder (Roboflow's `valid/`,
labelImg's `images/test/`, COCO's `val2017/`), or a word in the name of a file
that holds a whole split (`instances_val2017.json`, `train.record`). All of
them are read through `split_word`, so `minival`, `dev` or `testing` mean the
same in every format. A split the export states wins over hashing; the
report says where each split came from (`ImageRecord.split_source`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterable

TRAIN, VALIDATION, TEST = 'train', 'validation', 'test'
SPLIT_WORDS = {
    'train': TRAIN, 'training': TRAIN, 'trainaug': TRAIN,
    'val': VALIDATION, 'valid': VALIDATION, 'validation': VALIDATION,
    'minival': VALIDATION, 'dev': VALIDATION, 'eval': VALIDATION,
    'evaluation': VALIDATION,
    'test': TEST, 'testing': TEST, 'testdev': TEST,
}
# Not splits, though they hold split words: a union (`trainval`), COCO's
# `valminusminival` (Detectron trains on it), free subset names.
HASHED = 'hash of the image id'  # split_source of hashed images
_WORD = re.compile(r'[a-z]+')


def split_word(text: str) -> str | None:
  """The split a name states, or None.

  The whole name is tried first (`val2017`, `Train`), then its words, cut
  at anything that is not a letter (`obj_train_data`, `test-dev2017`,
  `instances_val2017`). A name whose words state two different splits
  (`train_test`) states none.
  """
  lowered = re.sub(r'test[-_ ]dev', 'testdev', text.lower())  # COCO test-dev
  whole = SPLIT_WORDS.get(lowered.rstrip('0123456789'))
  if whole:
    return whole
  found = {SPLIT_WORDS[w] for w in _WORD.findall(lowered) if w in SPLIT_WORDS}
  return found.pop() if len(found) == 1 else None


def split_from_folders(folders: Iterable[str]) -> tuple[str, str] | None:
  """`(split, folder)` of the nearest folder naming a split, or None.

  `folders` are the folder names between the export root and the file,
  outermost first (the root's own name is the user's choice and is never
  read): `('valid',)`, `('images', 'test')`, `('train', 'labels')`.
  """
  for folder in reversed(list(folders)):
    split = split_word(folder)
    if split:
      return split, folder
  return None


# Roboflow names augmented copies of one photo `<stem>_jpg.rf.<hash>.jpg`:
# they are hashed as one, or copies of a photo land in train and in test.
_ROBOFLOW_COPY = re.compile(r'_(?:jpe?g|png|bmp|webp)\.rf\.[0-9a-f]+(?:\.\w+)?$',
                            re.IGNORECASE)


def hash_key(image_id: str) -> str:
  """What an image is hashed by: its id, less Roboflow's copy suffix."""
  return _ROBOFLOW_COPY.sub('', image_id)


def holdout_fraction_of(image_id: str) -> float:
  """A stable number in [0, 1) derived from the image id alone.

  sha256 rather than `hash()`: Python salts string hashes per process, and the
  same export must give the same split on every machine and every run.
  """
  digest = hashlib.sha256(image_id.encode('utf-8')).digest()
  return int.from_bytes(digest[:8], 'big') / 2**64


def assign_split(image_id: str, test_fraction: float = 0.2) -> str:
  """'test' for about `test_fraction` of ids, 'train' for the rest."""
  return TEST if holdout_fraction_of(hash_key(image_id)) < test_fraction else (
      TRAIN)
