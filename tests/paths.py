"""Where the tests find fixtures and the real exports in ../shared/data."""

import pathlib

import pytest

PROJECT = pathlib.Path(__file__).resolve().parent.parent
DUMMY_DATA = PROJECT / 'dummy_data'
SHARED_DATA = PROJECT.parent / 'shared' / 'data'


def shared_export(name: str) -> pathlib.Path:
  """Path of a real export in ../shared/data, or skip the test with why."""
  path = SHARED_DATA / name
  if not path.is_dir():
    pytest.skip(f'real export {path} is absent (../shared/data is only on'
                ' the development machines); skipping the real-data test.')
  return path
