"""Fuzzing the YOLO parser: arbitrary label lines, config files and list
entries give examples, reported skips or ExportError, never another
exception."""

from __future__ import annotations

from hypothesis import given, strategies as st

from tests.fuzzing import FUZZ, JPEG, parse_and_encode
from tfds_builders.yolo import parse

CLASSES = b'cat\ndog\n'
TOKENS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-2, 3).map(lambda f: f'{f:.6f}'),
    st.integers(-3, 5).map(str),
    st.sampled_from(['1_0', '1e400', '-0', '0x1', '.5', '5.', '1e-3', 'nan',
                     '+0.5', '\ufeff0', '٣', '0.5\x00']),
    st.text(max_size=4))
LINES = st.lists(st.lists(TOKENS, max_size=14).map(' '.join), max_size=8)
SEPARATORS = st.sampled_from(['\n', '\r\n', '\r', '\t\n'])


def _files(label: bytes, **extra) -> dict[str, bytes]:
  files = {'classes.txt': CLASSES, 'images/a.jpg': JPEG, 'labels/a.txt': label}
  files.update(extra)
  return files


@FUZZ
@given(LINES, SEPARATORS)
def test_yolo_label_lines(lines, separator):
  text = separator.join(lines)
  parse_and_encode(_files(text.encode('utf-8', 'surrogatepass')),
                   parse.parse_export)


@FUZZ
@given(st.binary(max_size=300))
def test_yolo_label_file_bytes(data):
  parse_and_encode(_files(data), parse.parse_export)


@FUZZ
@given(st.text(max_size=200), LINES)
def test_yolo_data_yaml(yaml_text, lines):
  files = _files('\n'.join(lines).encode('utf-8', 'surrogatepass'),
                 **{'data.yaml': ('names: [cat, dog]\n' + yaml_text).encode(
                     'utf-8', 'surrogatepass')})
  del files['classes.txt']
  parse_and_encode(files, parse.parse_export)


@FUZZ
@given(st.lists(st.one_of(
    st.text(max_size=20),
    st.sampled_from(['../../etc/passwd', '/etc/passwd', 'data/images/a.jpg',
                     './images/a.jpg', 'images\\a.jpg', '~/a.jpg', 'C:/a.jpg',
                     'images/a', 'a.JPG', '..', '.', '/'])), max_size=6))
def test_yolo_list_entries(entries):
  text = '\n'.join(entries).encode('utf-8', 'surrogatepass')
  parse_and_encode(_files(b'0 0.5 0.5 0.5 0.5\n', **{
      'obj.data': b'classes = 2\ntrain = data/train.txt\nnames = data/'
                  b'classes.txt\n', 'train.txt': text}), parse.parse_export)
