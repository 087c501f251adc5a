"""tfds_builders.core.tfrecords: framing, CRCs and lengths are checked."""

import struct
import subprocess
import sys

import pytest
import tensorflow as tf

from tfds_builders.core import tfrecords
from tfds_builders.core.errors import ExportError


def write(path, records, options=None):
  with tf.io.TFRecordWriter(str(path), options=options) as writer:
    for record in records:
      writer.write(record)
  return path


@pytest.mark.parametrize('options', [None, 'GZIP'])
def test_reads_what_tensorflow_writes(tmp_path, options):
  records = [b'', b'a' * 1000, b'bc' * 50000]
  path = write(tmp_path / 'a.tfrecord', records, options)
  assert [r for _, r in tfrecords.read_records(path, file='a')] == records


def test_masked_crc_matches_tensorflow(tmp_path):
  path = write(tmp_path / 'a.tfrecord', [b'hello'])
  data = path.read_bytes()
  assert struct.unpack('<I', data[8:12])[0] == tfrecords.masked_crc32c(
      data[:8])
  assert struct.unpack('<I', data[-4:])[0] == tfrecords.masked_crc32c(
      b'hello')


def _huge_length_header() -> bytes:
  length = struct.pack('<Q', 2**62)
  return length + struct.pack('<I', tfrecords.masked_crc32c(length)) + b'x'


@pytest.mark.parametrize('damage, problem', [
    (lambda d: d[:-10], 'ends in the middle of this record'),
    (lambda d: d[:5], 'middle of a record header'),
    (lambda d: d[:20] + bytes([d[20] ^ 1]) + d[21:], 'fails its CRC'),
    (lambda d: b'garbage!!!!!' + d, 'header fails its CRC'),
    (lambda d: d + _huge_length_header(), 'more than the'),
])
def test_damaged_files_are_errors_naming_the_record(tmp_path, damage,
                                                    problem):
  good = write(tmp_path / 'a.tfrecord', [b'x' * 100, b'y' * 100]).read_bytes()
  path = tmp_path / 'b.tfrecord'
  path.write_bytes(damage(good))
  with pytest.raises(ExportError, match=problem) as e:
    list(tfrecords.read_records(path, file='b.tfrecord'))
  assert str(e.value).startswith('b.tfrecord: record ')


def test_huge_length_header_does_not_crash_the_process(tmp_path):
  path = tmp_path / 'c.tfrecord'
  path.write_bytes(_huge_length_header())
  code = ('from tfds_builders.core import tfrecords\n'
          'try:\n'
          f'  list(tfrecords.read_records({str(path)!r}, file="c"))\n'
          'except Exception as e:\n'
          '  print(type(e).__name__, e)\n')
  result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'ExportError' in result.stdout and 'more than the' in result.stdout


def test_a_record_is_read_again_at_its_offset(tmp_path):
  records = [b'first', b'second' * 100, b'third']
  path = write(tmp_path / 'a.tfrecord', records)
  found = list(tfrecords.read_records(path, file='a', with_offsets=True))
  assert [r for _, r, _ in found] == records
  for _, record, offset in found:
    assert tfrecords.read_record_at(path, offset, file='a', item='x') == (
        record)
  gz = write(tmp_path / 'b.tfrecord', records, 'GZIP')
  assert {o for *_, o in tfrecords.read_records(gz, file='b',
                                                 with_offsets=True)} == {None}
  data = bytearray(path.read_bytes())
  data[found[1][2] + 20] ^= 1  # the file changed after it was read
  path.write_bytes(bytes(data))
  with pytest.raises(ExportError, match='changed since it was read'):
    tfrecords.read_record_at(path, found[1][2], file='a', item='record 1')
