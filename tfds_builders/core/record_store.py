"""Image records kept in chunk files instead of memory, for Beam builds.

A Beam build's driver reads the export and its workers encode the images.
If the driver kept every image record until the pipeline ran, its memory
would grow with the export (about 5 KB per image of Python objects), and a
`beam.Create` of the records would put them all in the pipeline graph that
a distributed runner ships to its service (Dataflow refuses graphs of more
than about 10-20 MB). Inside `spilling_to(folder)`, `new_list()` gives a
`SpilledRecords` instead of a list: each record is pickled when it is
appended and written in chunks of `CHUNK_RECORDS`, so the driver holds one
chunk at a time; the pipeline carries only the chunk paths (`chunk_paths`)
and each worker reads its chunks (`read_chunk`).

Parsers that read their format record by record (VOC, YOLO, TFRecords)
append to `new_list()`; those that hold a whole JSON file in memory anyway
(COCO, Labelbox) hand over a list, which `chunk_paths` writes out.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import pickle
from typing import Iterable, Iterator

from etils import epath

from tfds_builders.core.records import ImageRecord

# A chunk file holds this many records, or fewer when their pickles reach
# CHUNK_BYTES (TFRecord exports' records can hold their images).
CHUNK_RECORDS = 256
CHUNK_BYTES = 16 << 20

_spill_folder: epath.Path | None = None
_lists = itertools.count()


@contextlib.contextmanager
def spilling_to(folder: str):
  """`new_list()` spills into `folder` (local or a bucket) while open."""
  global _spill_folder
  previous, _spill_folder = _spill_folder, epath.Path(folder)
  try:
    yield
  finally:
    _spill_folder = previous


def new_list() -> list[ImageRecord] | SpilledRecords:
  """An empty list of records: in memory, or spilled inside `spilling_to`."""
  if _spill_folder is None:
    return []
  return SpilledRecords(_spill_folder / f'list-{next(_lists):04d}')


class SpilledRecords:
  """Append, len, iterate, index: what parsers and `core.pipeline` do with
  their list of records. A record is pickled when it is appended, so
  changing it afterwards changes nothing (append finished records)."""

  def __init__(self, folder: epath.Path, size: int = CHUNK_RECORDS,
               max_bytes: int = CHUNK_BYTES):
    self._folder, self._size, self._max_bytes = folder, size, max_bytes
    self._paths: list[str] = []
    self._starts: list[int] = []  # index of each chunk's first record
    self._pending: list[bytes] = []
    self._pending_bytes = 0
    self._length = 0

  def append(self, record: ImageRecord) -> None:
    data = pickle.dumps(record, pickle.HIGHEST_PROTOCOL)
    self._pending.append(data)
    self._pending_bytes += len(data)
    self._length += 1
    if (len(self._pending) == self._size or
        self._pending_bytes >= self._max_bytes):
      self._flush()

  def __len__(self) -> int:
    return self._length

  def __bool__(self) -> bool:
    return self._length > 0

  def __iter__(self) -> Iterator[ImageRecord]:
    for path in list(self._paths):
      yield from read_chunk(path)
    yield from [pickle.loads(p) for p in list(self._pending)]  # a snapshot

  def __getitem__(self, index: int) -> ImageRecord:
    if not -self._length <= index < self._length:
      raise IndexError(index)
    index %= self._length
    chunk = bisect.bisect_right(self._starts, index) - 1
    if chunk < 0 or index >= self._length - len(self._pending):
      return pickle.loads(self._pending[index - (self._length -
                                                 len(self._pending))])
    return next(itertools.islice(read_chunk(self._paths[chunk]),
                                 index - self._starts[chunk], None))

  def chunk_paths(self) -> list[str]:
    self._flush()
    return list(self._paths)

  def _flush(self) -> None:
    if not self._pending:
      return
    self._folder.mkdir(parents=True, exist_ok=True)
    path = self._folder / f'records-{len(self._paths):05d}.pkl'
    # One pickle after the other: read back one record at a time.
    with path.open('wb') as f:
      for data in self._pending:
        f.write(data)
    self._paths.append(str(path))
    self._starts.append(self._length - len(self._pending))
    self._pending, self._pending_bytes = [], 0


def chunk_paths(records: Iterable[ImageRecord], folder: str) -> list[str]:
  """The chunk files holding `records`: a `SpilledRecords`' own, or a
  list's written under `folder`."""
  if isinstance(records, SpilledRecords):
    return records.chunk_paths()
  spilled = SpilledRecords(epath.Path(folder))
  for record in records:
    spilled.append(record)
  return spilled.chunk_paths()


def read_chunk(path: str) -> Iterator[ImageRecord]:
  """The records of a chunk file, one at a time."""
  # Only files this build wrote (SpilledRecords) are unpickled here.
  with epath.Path(path).open('rb') as f:
    while True:
      try:
        yield pickle.load(f)
      except EOFError:
        return
