"""Reading TFRecord files without trusting them.

A TFRecord is a sequence of `length (uint64 LE) | masked crc32c(length) |
data | masked crc32c(data)`. `tf.data.TFRecordDataset` allocates `length`
bytes before checking anything, so a crafted length header of 2**62 killed
the process. Records are framed here instead: the header CRC is checked,
the length is held against what the file can still hold (and a cap), and
the data CRC is checked, with crc32c from google-crc32c (C, the checksum
library the Google Cloud clients use). Gzip-compressed files are read in a
stream, in bounded chunks.
"""

from __future__ import annotations

import gzip
import os
import struct
from typing import Iterator

import google_crc32c

from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import open_regular

MAX_RECORD_BYTES = 1 << 30  # one example; real ones are a few MB
_CHUNK = 1 << 24
_FIX = 'Re-download or re-export the file; it is cut short or corrupt.'


def masked_crc32c(data: bytes) -> int:
  crc = google_crc32c.value(data)
  return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def is_gzip(path: os.PathLike | str, *, file: str) -> bool:
  with open_regular(path, file=file) as f:
    return f.read(2) == b'\x1f\x8b'


def read_records(path: os.PathLike | str, *, file: str,
                 limit: int = MAX_RECORD_BYTES, with_offsets: bool = False
                 ) -> Iterator[tuple]:
  """Yields `(index, record bytes)`, or with `with_offsets` `(index, record
  bytes, offset of its header or None in a gzip file)`; a damaged file is an
  ExportError naming the record, after the records before it were
  yielded."""
  compressed = is_gzip(path, file=file)
  with open_regular(path, file=file) as raw:
    size = os.fstat(raw.fileno()).st_size
    stream = gzip.GzipFile(fileobj=raw) if compressed else raw
    index = 0
    while True:
      item = f'record {index}'
      try:
        header = stream.read(12)
      except (OSError, EOFError) as e:
        raise ExportError(f'the gzip stream is damaged ({e}).', file=file,
                          item=item, fix=_FIX) from None
      if not header:
        return
      offset = None if compressed else raw.tell() - 12
      length = _length(header, file, item, limit)
      if not compressed and raw.tell() + length + 4 > size:
        raise ExportError(
            f'the file ends in the middle of this record (its header says'
            f' {length:,} bytes; {max(size - raw.tell(), 0):,} are left); the'
            f' {index} record(s) before it are readable.', file=file,
            item=item, fix=_FIX)
      data = _read_exactly(stream, length + 4, file, item, index)
      body, crc = data[:length], struct.unpack('<I', data[length:])[0]
      if masked_crc32c(body) != crc:
        raise ExportError(
            f'this record fails its CRC check: the file is corrupt; the'
            f' {index} record(s) before it are readable.', file=file,
            item=item, fix=_FIX)
      yield (index, body, offset) if with_offsets else (index, body)
      index += 1


def read_record_at(path: os.PathLike | str, offset: int, *, file: str,
                   item: str, limit: int = MAX_RECORD_BYTES) -> bytes:
  """The record whose header starts at `offset` (from `read_records`), its
  header and data checked again: the file may have changed since."""
  with open_regular(path, file=file, item=item) as raw:
    raw.seek(offset)
    length = _length(raw.read(12), file, item, limit)
    data = _read_exactly(raw, length + 4, file, item, 0)
  body, crc = data[:length], struct.unpack('<I', data[length:])[0]
  if masked_crc32c(body) != crc:
    raise ExportError('this record fails its CRC check: the file changed'
                      ' since it was read.', file=file, item=item, fix=_FIX)
  return body


def _length(header: bytes, file: str, item: str, limit: int) -> int:
  if len(header) < 12:
    raise ExportError('the file ends in the middle of a record header.',
                      file=file, item=item, fix=_FIX)
  length_bytes, crc = header[:8], struct.unpack('<I', header[8:])[0]
  if masked_crc32c(length_bytes) != crc:
    raise ExportError('the record header fails its CRC check: this is not a'
                      ' TFRecord file, or it is corrupt.', file=file,
                      item=item, fix=_FIX)
  length = struct.unpack('<Q', length_bytes)[0]
  if length > limit:
    raise ExportError(f'the record header says {length:,} bytes, more than'
                      f' the {limit:,} allowed for one record.', file=file,
                      item=item, fix=_FIX)
  return length


def _read_exactly(stream, count: int, file: str, item: str,
                  index: int) -> bytes:
  parts, left = [], count
  while left:
    try:
      part = stream.read(min(left, _CHUNK))
    except (OSError, EOFError) as e:
      raise ExportError(f'the gzip stream is damaged ({e}).', file=file,
                        item=item, fix=_FIX) from None
    if not part:
      raise ExportError(
          f'the file ends in the middle of this record; the {index}'
          ' record(s) before it are readable.', file=file, item=item,
          fix=_FIX)
    parts.append(part)
    left -= len(part)
  return b''.join(parts)
