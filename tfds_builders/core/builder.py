"""`ExportBuilder`: the TFDS builder every export format plugs into.

A format module implements one method, `_parse_export(files, dl_manager)`,
reading the export through `files` (an `ExportFiles`: the one confined way
to list and read its files) and returning a `ParsedExport` (image records,
the class list the export names, parse-time report entries). Everything
else is shared: classes and splits (`core.pipeline`), per-example encoding
(`core.encode`, plain or Apache Beam), the build report, the per-image
index and the source manifest.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import pathlib
import shutil
from typing import Iterator

from absl import logging
import tensorflow_datasets as tfds
from tensorflow_datasets.core import shuffle

from tfds_builders.core import (encode, manifest, masks, parallel, pipeline,
                                 record_store, report, schema)
from tfds_builders.core.determinism import deterministic_serialization
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.records import ImageRecord, ParsedExport

_SUMMARIES_DIR = '_summaries'
_RECORDS_DIR = '_records'  # image records in chunk files while building
# TFDS holds a split's serialized examples in memory up to 1 GB before it
# spills them to sorted buckets on disk; with images of ~100 KB, peak memory
# then grows with the export. Spilling from 256 MB keeps it flat (and
# exports of a few thousand images never spill), and the shards are the same
# bytes either way (both emit examples in hashed-key
# order; shard boundaries depend only on counts and sizes).
_SHUFFLE_MEMORY_BYTES = 256 << 20


@dataclasses.dataclass
class ExportConfig(tfds.core.BuilderConfig):
  """Options of every export builder.

  Attributes:
    instance_masks: store a 0/1 PNG mask per object (`boxes` configs don't).
    strict: turn every skipped image or object into an error.
    test_fraction: share of images hashed into `test` when the export has no
      splits of its own (0 puts everything in `train`).
    max_instance_mask_pixels: an image whose instance masks would hold more
      pixels (objects with a mask x image pixels) is skipped and reported.
    workers: processes that encode examples in a plain build (default: one
      per core, at most 8); the shards are the same bytes whatever it is.
  """
  instance_masks: bool = True
  strict: bool = False
  test_fraction: float = 0.2
  max_instance_mask_pixels: int = masks.MAX_INSTANCE_MASK_PIXELS
  workers: int | None = None


def default_configs() -> list[ExportConfig]:
  return [
      ExportConfig(name='default', description='Boxes, instance masks and the'
                   ' semantic segmentation mask.'),
      ExportConfig(name='boxes', instance_masks=False,
                   description='Boxes and the semantic segmentation mask, no'
                   ' per-object masks (smaller; for detectors).'),
  ]


class ExportBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Base class; subclasses set the class attributes and `_parse_export`."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Initial release.'}
  BUILDER_CONFIGS = default_configs()
  DEFAULT_CONFIG_NAME = 'default'
  # The class list, when the builder fixes it (e.g. labelbox_cars).
  FIXED_CLASSES: tuple[str, ...] | None = None
  # Paint box-only objects into segmentation_mask with their class (True) or
  # as 255 "unknown" (False).
  BOX_MASKS = False
  DESCRIPTION = ''
  HOMEPAGE = 'https://github.com/tfds-builders/tfds_builders'

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        description=self.DESCRIPTION,
        features=schema.features(self.builder_config.instance_masks,
                                 list(self.FIXED_CLASSES or ()) or None),
        homepage=self.HOMEPAGE,
        metadata=tfds.core.MetadataDict(),
    )

  @abc.abstractmethod
  def _parse_export(self, files: ExportFiles, dl_manager) -> ParsedExport:
    """Reads the export (its files, confined) into image records."""

  # The TFDS hooks, in the order TFDS calls them.

  def prepare_export(self, files: ExportFiles, dl_manager=None
                     ) -> pipeline.Prepared:
    """The export read with this builder's format and config: classes and
    splits settled, records ready to encode (`core.pipeline`)."""
    config = self.builder_config
    return pipeline.prepare(
        files, lambda f: self._parse_export(f, dl_manager),
        fixed_classes=self.FIXED_CLASSES,
        fixed_source=f'the {self.name} builder',
        test_fraction=config.test_fraction, strict=config.strict)

  def encode_options(self, check_only: bool = False) -> encode.EncodeOptions:
    config = self.builder_config
    return encode.EncodeOptions(
        instance_masks=config.instance_masks, box_masks=self.BOX_MASKS,
        strict=config.strict,
        max_instance_mask_pixels=config.max_instance_mask_pixels,
        check_only=check_only)

  # The TFDS hooks, in the order TFDS calls them.

  def _download_and_prepare(self, dl_manager, download_config):
    self._use_beam = bool(download_config.beam_options or
                          download_config.beam_runner)
    self._summaries: list[report.ExampleSummary] = []
    with deterministic_serialization(), _bounded_shuffle_memory():
      super()._download_and_prepare(dl_manager, download_config)
    shutil.rmtree(pathlib.Path(self.data_dir) / _RECORDS_DIR,
                  ignore_errors=True)
    self._summaries += self._collect_beam_summaries()
    prepared = self._prepared
    source = manifest.build_manifest(
        prepared.files.root, prepared.parsed.source_files,
        [(s.image_id, s.image_sha256) for s in self._summaries if s.included],
        known=prepared.files.digests)
    self.info.metadata['source_manifest'] = source
    warning = manifest.check_and_record(
        pathlib.Path(self.data_dir).parent, str(self.version), source)
    built = pipeline.make_report(prepared, self.info.full_name,
                                 self._summaries, manifest=source,
                                 warnings=[warning] if warning else [])
    data = built.write(pathlib.Path(self.data_dir))
    report.write_index(pathlib.Path(self.data_dir), self._summaries)
    print(report.summary_text(data), flush=True)
    if not data['nothing_lost']:
      logging.error('Report accounting does not balance: %s', data['export'])

  def _split_generators(self, dl_manager):
    files = ExportFiles(_manual_dir(dl_manager, self.name),
                        trusted=[getattr(dl_manager, 'download_dir', None)])
    # The records go to chunk files as they are read (`core.record_store`):
    # a build holds one chunk at a time, not the export, and a Beam
    # pipeline carries only the chunks' paths.
    spill = pathlib.Path(self.data_dir) / _RECORDS_DIR
    with record_store.spilling_to(str(spill)):
      self._prepared = prepared = self.prepare_export(files, dl_manager)
    # Formats that read a whole JSON file (COCO, Labelbox) hand over a list:
    # by_split holds its records, spilled; the list itself is not read again.
    prepared.parsed.records = []
    schema.set_class_names(self.info.features, list(prepared.classes.names))
    if not self._use_beam:
      return {split: self._generate_examples(split, records)
              for split, records in prepared.by_split.items()}
    from tfds_builders.core import beam_encode  # pylint: disable=g-import-not-at-top
    return {split: beam_encode.EncodeRecords(
        split, record_store.chunk_paths(records, str(spill / split)),
        prepared.classes, self.encode_options(),
        str(pathlib.Path(self.data_dir) / _SUMMARIES_DIR / split))
            for split, records in prepared.by_split.items()}

  def _generate_examples(self, split: str, records: list[ImageRecord]
                         ) -> Iterator[tuple[str, dict]]:
    yielded = 0
    with parallel.serializing_in_workers(self.info.features):
      for key, example, summary in parallel.in_order(
          parallel.serialized_record, records, split, self._prepared.classes,
          self.encode_options(), workers=self.builder_config.workers):
        self._summaries.append(summary)
        if example is not None:
          yielded += 1
          yield key, example
    if not yielded:  # TFDS would fail with a bare "No examples were yielded"
      first = self._summaries[-1].issues[0]
      raise ExportError(
          f'every one of the {len(records)} images of split {split!r} was'
          f' skipped (see the build log); the last: {first.problem}',
          file=first.file, item=first.item)

  # Helpers.

  def _collect_beam_summaries(self) -> list[report.ExampleSummary]:
    folder = pathlib.Path(self.data_dir) / _SUMMARIES_DIR
    if not folder.exists():
      return []
    lines = [line for path in sorted(folder.rglob('*')) if path.is_file()
             for line in path.read_text().splitlines()]
    shutil.rmtree(folder)
    return report.read_summaries(lines)


@contextlib.contextmanager
def _bounded_shuffle_memory():
  original = shuffle.MAX_MEM_BUFFER_SIZE
  shuffle.MAX_MEM_BUFFER_SIZE = min(original, _SHUFFLE_MEMORY_BYTES)
  try:
    yield
  finally:
    shuffle.MAX_MEM_BUFFER_SIZE = original


def _manual_dir(dl_manager, name: str) -> pathlib.Path:
  try:
    root = pathlib.Path(dl_manager.manual_dir).resolve()
  # TFDS asserts the folder exists and has files; listing a file raises
  # (OSError, or TensorFlow's OpError for remote file systems).
  except Exception as e:  # pylint: disable=broad-except
    raise ExportError(
        f'the export folder is missing or empty, or is not a folder ({e}).',
        fix=f'Pass the export with `tfds build {name} --manual_dir PATH`.'
    ) from None
  return root
