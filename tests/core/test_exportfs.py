"""tfds_builders.core.exportfs: the one confined way to list and read."""

import codecs
import os

import pytest

from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles, UnreadableFile, read_file


@pytest.fixture
def export(tmp_path):
  root = tmp_path / 'export'
  (root / 'images' / 'sub').mkdir(parents=True)
  (root / 'images' / 'a.jpg').write_bytes(b'a')
  (root / 'images' / 'sub' / 'b.png').write_bytes(b'b')
  (root / 'labels.txt').write_text('cat\n')
  (root / '.git').mkdir()
  (root / '.git' / 'config').write_text('x')
  (root / '__MACOSX').mkdir()
  (root / '__MACOSX' / '._a.jpg').write_bytes(b'junk')
  outside = tmp_path / 'secret.txt'
  outside.write_text('dog\n')
  (root / 'link_out.txt').symlink_to(outside)
  (root / 'link_in.jpg').symlink_to(root / 'images' / 'a.jpg')
  (root / 'folder_link').symlink_to(root / 'images')
  os.mkfifo(root / 'fifo.txt')
  return root


def test_walk_lists_regular_files_inside_only(export):
  files = ExportFiles(export)
  assert files.files() == ['images/a.jpg', 'images/sub/b.png', 'labels.txt',
                           'link_in.jpg']
  assert files.files('images', ('.png',)) == ['images/sub/b.png']
  assert files.named('A.JPG') == ['images/a.jpg']
  refused = {i.file: i.problem for i in files.issues}
  assert set(refused) == {'link_out.txt', 'folder_link', 'fifo.txt'}
  assert 'leading outside the export' in refused['link_out.txt']
  assert all(i.action == 'not included' for i in files.issues)
  assert files.real_path('link_in.jpg') == str(export / 'images' / 'a.jpg')


@pytest.mark.parametrize('name, problem', [
    ('../outside.jpg', 'climbs out'), ('/etc/passwd', 'absolute'),
    ('C:\\images\\a.jpg', 'absolute'), ('~/a.jpg', 'absolute'),
    ('a\0b.jpg', 'NUL byte'), ('', 'empty'),
])
def test_names_cannot_leave_the_export(export, name, problem):
  with pytest.raises(ExportError, match=problem):
    ExportFiles(export).confine(name, file='a.xml')


def test_confine_finds_indexed_files_and_refuses_links_out(export):
  files = ExportFiles(export)
  assert files.confine('sub/b.png', base='images') == 'images/sub/b.png'
  assert files.confine('images\\a.jpg') == 'images/a.jpg'
  assert files.confine('missing.jpg') is None
  with pytest.raises(ExportError, match='leads outside'):
    files.confine('link_out.txt', file='a.xml')


def test_reads_are_confined_regular_and_capped(export):
  assert read_file(export / 'images' / 'a.jpg') == b'a'
  with pytest.raises(UnreadableFile, match='not a regular file'):
    read_file(export / 'fifo.txt')  # would block without O_NONBLOCK
  with pytest.raises(UnreadableFile, match='cannot be opened'):
    read_file(export / 'link_in.jpg')  # symlinks are read via real_path
  with pytest.raises(UnreadableFile, match='more than the 3 allowed'):
    (export / 'big.bin').write_bytes(b'1234')
    read_file(export / 'big.bin', limit=3)


def test_missing_or_file_root_is_a_clear_error(tmp_path):
  (tmp_path / 'file.txt').write_text('x')
  for root in (tmp_path / 'nope', tmp_path / 'file.txt'):
    with pytest.raises(ExportError, match='missing or is not a folder'):
      ExportFiles(root)


@pytest.mark.parametrize('data, text, warned', [
    (codecs.BOM_UTF8 + 'cat\n'.encode(), 'cat\n', False),
    ('caf\u00e9\n'.encode('utf-16'), 'caf\u00e9\n', False),
    ('caf\u00e9\n'.encode('latin-1'), 'caf\u00e9\n', True),
    (b'a\x81\n', 'a\x81\n', True),  # undefined in cp1252: Latin-1
])
def test_text_encodings(tmp_path, data, text, warned):
  (tmp_path / 'labels.txt').write_bytes(data)
  files = ExportFiles(tmp_path)
  assert files.read_text('labels.txt') == text
  assert bool(files.issues) == warned
  if warned:
    assert 'not UTF-8' in files.issues[0].problem
    assert 'at offset 3' in files.issues[0].problem or 'offset 1' in (
        files.issues[0].problem)


@pytest.mark.parametrize('data, problem', [
    (b'{"a": [1, 2', 'not valid JSON'),
    (b'[' * 100000 + b']' * 100000, 'nested too deeply'),
    (b'{"a": "\xff"}', 'not UTF-8'),
    (b'[' + b'1' * 5000 + b']', 'Python refuses'),
])
def test_json_errors_name_file_and_place(tmp_path, data, problem):
  (tmp_path / 'a.json').write_bytes(data)
  with pytest.raises(ExportError, match=problem) as e:
    ExportFiles(tmp_path).read_json('a.json')
  assert str(e.value).startswith('a.json: ')


def test_json_with_bom(tmp_path):
  (tmp_path / 'a.json').write_bytes(codecs.BOM_UTF8 + b'{"images": []}')
  assert ExportFiles(tmp_path).read_json('a.json') == {'images': []}
