"""Deterministic train/test assignment for exports that carry no splits."""

from __future__ import annotations

import hashlib


def holdout_fraction_of(image_id: str) -> float:
  """A stable number in [0, 1) derived from the image id alone.

  sha256 rather than `hash()`: Python salts string hashes per process, and the
  same export must give the same split on every machine and every run.
  """
  digest = hashlib.sha256(image_id.encode('utf-8')).digest()
  return int.from_bytes(digest[:8], 'big') / 2**64


def assign_split(image_id: str, test_fraction: float = 0.2) -> str:
  """'test' for about `test_fraction` of ids, 'train' for the rest."""
  return 'test' if holdout_fraction_of(image_id) < test_fraction else 'train'
