"""Records spilled to chunk files: what a Beam build's driver and pipeline
graph hold instead of every record."""

import pickle
import random

import apache_beam as beam
import pytest

from tfds_builders.core import beam_encode, encode, pipeline, record_store
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.labels import ClassList
from tfds_builders.core.records import ImageRecord, ObjectAnnotation
from tfds_builders.voc import parse as voc_parse
from tests.paths import DUMMY_DATA


def records(n: int) -> list[ImageRecord]:
  """Like a parsed export's: coordinates differ from image to image (the
  graph's pickles are compressed, so repeated ones would hide the size)."""
  rng = random.Random(0)
  def box():
    return tuple(round(rng.uniform(0, 640), 1) for _ in range(4))
  return [ImageRecord(
      f'image_{i:06d}', f'images/image_{i:06d}.jpg', f'ann/image_{i:06d}.xml',
      objects=[ObjectAnnotation('cat', 'object #1', box=box()),
               ObjectAnnotation('dog', 'object #2', box=box())])
          for i in range(n)]


def test_spilled_list_keeps_every_record_in_order(tmp_path):
  written = records(600)
  with record_store.spilling_to(str(tmp_path)):
    spilled = record_store.new_list()
  assert isinstance(spilled, record_store.SpilledRecords)
  assert record_store.new_list() == []  # outside the context: a list
  assert not spilled
  for record in written:
    spilled.append(record)
  written[0].objects.clear()  # appended records are already pickled
  assert len(spilled) == 600 and spilled
  assert [r.image_id for r in spilled] == [r.image_id for r in written]
  assert len(spilled[0].objects) == 2
  assert (spilled[300], spilled[-1]) == (written[300], written[599])
  with pytest.raises(IndexError):
    spilled[600]  # pylint: disable=pointless-statement
  paths = spilled.chunk_paths()
  assert [p.rsplit('/', 1)[1] for p in paths] == [
      'records-00000.pkl', 'records-00001.pkl', 'records-00002.pkl']
  chunks = [list(record_store.read_chunk(p)) for p in paths]
  assert [len(c) for c in chunks] == [256, 256, 88]
  assert [r for c in chunks for r in c][1:] == written[1:]


def test_a_plain_list_is_written_to_chunks(tmp_path):
  written = records(300)
  paths = record_store.chunk_paths(written, str(tmp_path / 'train'))
  assert [r for p in paths for r in record_store.read_chunk(p)] == written


def test_prepare_while_spilling_gives_the_same_splits(tmp_path):
  export = ExportFiles(DUMMY_DATA / 'voc' / 'labelimg')
  in_memory = pipeline.prepare(export, voc_parse.parse_export)
  with record_store.spilling_to(str(tmp_path)):
    spilled = pipeline.prepare(ExportFiles(DUMMY_DATA / 'voc' / 'labelimg'),
                               voc_parse.parse_export)
  assert isinstance(spilled.parsed.records, record_store.SpilledRecords)
  assert spilled.by_split.keys() == in_memory.by_split.keys()
  for split, kept in in_memory.by_split.items():
    assert isinstance(spilled.by_split[split], record_store.SpilledRecords)
    assert list(spilled.by_split[split]) == kept
  assert spilled.classes == in_memory.classes
  assert list(map(str, spilled.parsed.issues)) == list(
      map(str, in_memory.parsed.issues))


def graph_bytes(transform) -> int:
  pipeline_ = beam.Pipeline()
  _ = pipeline_ | transform
  return len(pipeline_.to_runner_api().SerializeToString())


def test_pipeline_graph_does_not_grow_with_the_records(tmp_path):
  """Create(records) put every record in the graph a runner ships to its
  service; the graph now holds one path per 256 records."""
  classes, options = ClassList(('cat', 'dog'), 'test'), encode.EncodeOptions()
  sizes = {}
  for n in (1_000, 10_000):
    paths = record_store.chunk_paths(records(n), str(tmp_path / str(n)))
    sizes[n] = graph_bytes(beam_encode.EncodeRecords(
        'train', paths, classes, options, str(tmp_path / f's{n}')))
  create_growth = (graph_bytes(beam.Create(records(10_000))) -
                   graph_bytes(beam.Create(records(1_000))))
  assert create_growth > 500_000  # what a Create of the records carried
  assert sizes[10_000] - sizes[1_000] < 10_000  # ~40 more chunk paths


def test_chunks_close_early_when_their_records_hold_images(tmp_path):
  with_images = records(10)
  for record in with_images:
    record.image_bytes = bytes(1000)
  one = len(pickle.dumps(with_images[0], pickle.HIGHEST_PROTOCOL))
  spilled = record_store.SpilledRecords(
      record_store.epath.Path(tmp_path), size=256, max_bytes=int(one * 2.5))
  for record in with_images:
    spilled.append(record)
  assert spilled[9] == with_images[9]  # still pending
  assert [len(list(record_store.read_chunk(p)))
          for p in spilled.chunk_paths()] == [
      3, 3, 3, 1]
  assert [spilled[i] for i in range(-10, 10)] == with_images * 2
