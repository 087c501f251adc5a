"""`ExportBuilder`: the TFDS builder every export format plugs into.

A format module implements one method, `_parse_export(files, dl_manager)`,
reading the export through `files` (an `ExportFiles`: the one confined way
to list and read its files) and returning a `ParsedExport` (image records,
the class list the export names, parse-time report entries). Everything else is shared: class-list checks,
split assignment, per-example encoding (plain or Apache Beam), the build
report and the source manifest.
"""

from __future__ import annotations

import abc
import collections
import concurrent.futures
import contextlib
import dataclasses
import os
import pathlib
import shutil
from typing import Iterator

from absl import logging
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.core import shuffle

from tfds_builders.core import encode, manifest, masks, report, schema, splits
from tfds_builders.core.determinism import deterministic_serialization
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.labels import ClassList, first_seen, resolve_classes
from tfds_builders.core.records import ImageRecord, ParsedExport

_SUMMARIES_DIR = '_summaries'
_STRICT_ACTIONS = (report.SKIPPED_IMAGE, report.SKIPPED_OBJECT)
# TFDS holds a split's serialized examples in memory up to 1 GB before it
# spills them to sorted buckets on disk; with images of ~100 KB, peak memory
# then grows with the export. Spilling from 64 MB keeps it flat, and the
# shards are the same bytes either way (both emit examples in hashed-key
# order; shard boundaries depend only on counts and sizes).
_SHUFFLE_MEMORY_BYTES = 64 << 20


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
  """
  instance_masks: bool = True
  strict: bool = False
  test_fraction: float = 0.2
  max_instance_mask_pixels: int = masks.MAX_INSTANCE_MASK_PIXELS


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

  def _download_and_prepare(self, dl_manager, download_config):
    self._use_beam = bool(download_config.beam_options or
                          download_config.beam_runner)
    self._summaries: list[report.ExampleSummary] = []
    with deterministic_serialization(), _bounded_shuffle_memory():
      super()._download_and_prepare(dl_manager, download_config)
    self._summaries += self._collect_beam_summaries()
    source = manifest.build_manifest(
        self._export_root, self._parsed.source_files,
        [(s.image_id, s.image_sha256) for s in self._summaries if s.included])
    self.info.metadata['source_manifest'] = source
    warning = manifest.check_and_record(
        pathlib.Path(self.data_dir).parent, str(self.version), source)
    built = report.BuildReport(
        dataset=self.info.full_name, export_dir=str(self._export_root),
        export_format=self._parsed.export_format,
        classes=list(self._classes.names),
        class_source=self._classes.source,
        export_images=self._parsed.export_images,
        export_objects=self._parsed.export_objects,
        parse_issues=self._parsed.issues, summaries=self._summaries,
        manifest=source, warnings=[warning] if warning else [],
        split_sources=self._split_sources)
    data = built.write(pathlib.Path(self.data_dir))
    print(report.summary_text(data), flush=True)
    if not data['nothing_lost']:
      logging.error('Report accounting does not balance: %s', data['export'])

  def _split_generators(self, dl_manager):
    files = ExportFiles(_manual_dir(dl_manager, self.name),
                        trusted=[getattr(dl_manager, 'download_dir', None)])
    self._export_root = files.root
    parsed = self._parse_export(files, dl_manager)
    parsed.issues[:0] = files.issues
    self._raise_if_strict(parsed.issues)
    _check_media_found(parsed)
    given = parsed.classes
    if self.FIXED_CLASSES:
      given = ClassList(tuple(self.FIXED_CLASSES), f'the {self.name} builder')
    classes = resolve_classes(given, first_seen(
        (o.label, f'{r.annotation_file}: {o.where}')
        for r in parsed.records for o in r.objects))
    schema.set_class_names(self.info.features, list(classes.names))
    self._parsed, self._classes = parsed, classes
    return {split: self._examples_for(split, records)
            for split, records in self._by_split(parsed).items()}

  def _generate_examples(self, split: str, records: list[ImageRecord]
                         ) -> Iterator[tuple[str, dict]]:
    options = self._encode_options()
    yielded = 0
    for key, example, summary in _in_order_threaded(
        encode.encode_record, records, split, self._classes, options):
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

  def _examples_for(self, split: str, records: list[ImageRecord]):
    if not self._use_beam:
      return self._generate_examples(split, records)
    from tfds_builders.core import beam_encode  # pylint: disable=g-import-not-at-top
    return beam_encode.EncodeRecords(
        split, records, self._classes, self._encode_options(),
        str(pathlib.Path(self.data_dir) / _SUMMARIES_DIR / split))

  def _collect_beam_summaries(self) -> list[report.ExampleSummary]:
    folder = pathlib.Path(self.data_dir) / _SUMMARIES_DIR
    if not folder.exists():
      return []
    lines = [line for path in sorted(folder.rglob('*')) if path.is_file()
             for line in path.read_text().splitlines()]
    shutil.rmtree(folder)
    return report.read_summaries(lines)

  def _encode_options(self) -> encode.EncodeOptions:
    config = self.builder_config
    return encode.EncodeOptions(
        instance_masks=config.instance_masks, box_masks=self.BOX_MASKS,
        strict=config.strict,
        max_instance_mask_pixels=config.max_instance_mask_pixels)

  def _by_split(self, parsed: ParsedExport) -> dict[str, list[ImageRecord]]:
    """Groups records by split; duplicate image ids are reported, not kept."""
    fraction = self.builder_config.test_fraction
    by_split: dict[str, list[ImageRecord]] = {}
    sources: dict[str, collections.Counter] = {}
    seen: dict[str, ImageRecord] = {}
    for record in parsed.records:
      if record.image_id in seen:
        first = seen[record.image_id]
        parsed.issues.append(report.Issue(
            record.annotation_file, f'image {record.image_id!r}',
            f'image id already used by {first.annotation_file}; the second'
            ' annotation of the same image is left out', report.SKIPPED_IMAGE,
            len(record.objects)))
        continue
      seen[record.image_id] = record
      split = record.split or splits.assign_split(record.image_id, fraction)
      source = record.split_source if record.split else splits.HASHED
      by_split.setdefault(split, []).append(record)
      sources.setdefault(split, collections.Counter())[source or '?'] += 1
    self._raise_if_strict(parsed.issues)
    if not by_split:
      raise ExportError(
          'the export lists no images.', file=str(self._export_root),
          fix='Point --manual_dir at the folder holding the export.')
    self._split_sources = {name: dict(sorted(sources[name].items()))
                           for name in sorted(sources)}
    return {name: by_split[name] for name in sorted(by_split)}

  def _raise_if_strict(self, issues: list[report.Issue]) -> None:
    if not self.builder_config.strict:
      return
    skips = [i for i in issues if i.action in _STRICT_ACTIONS]
    if skips:
      first = skips[0]
      raise ExportError(
          f'{first.problem} (strict mode; {len(skips)} item(s) would be'
          ' skipped)', file=first.file, item=first.item,
          fix='Fix the export, or build without strict to skip and report.')


@contextlib.contextmanager
def _bounded_shuffle_memory():
  original = shuffle.MAX_MEM_BUFFER_SIZE
  shuffle.MAX_MEM_BUFFER_SIZE = min(original, _SHUFFLE_MEMORY_BYTES)
  try:
    yield
  finally:
    shuffle.MAX_MEM_BUFFER_SIZE = original


def _in_order_threaded(function, items, *args):
  """`function(item, *args)` for each item, on a few threads, in order.

  Reading files, hashing, Pillow and zlib release the GIL, so encoding the
  next images overlaps with TFDS serializing and writing the current one.
  Results come back in input order, so the shards stay byte-identical; at
  most a small window of results is held at once.
  """
  workers = min(4, os.cpu_count() or 1)
  if workers == 1:
    yield from (function(item, *args) for item in items)
    return
  with concurrent.futures.ThreadPoolExecutor(workers) as pool:
    window = collections.deque()
    for item in items:
      window.append(pool.submit(function, item, *args))
      if len(window) > 2 * workers:
        yield window.popleft().result()
    while window:
      yield window.popleft().result()


def _check_media_found(parsed: ParsedExport) -> None:
  """An export whose images are all missing is one error, not N skips."""
  records = parsed.records
  if records and not any(r.image_path or r.image_bytes for r in records):
    first = records[0]
    raise ExportError(
        f'no media found: none of the {len(records)} images the annotations'
        f' name is in the export (the first, {first.filename!r}:'
        f' {first.missing_image or "not found"}).',
        file=first.annotation_file,
        fix='Put the images in the export folder (beside the annotations,'
        ' or in images/), or download them first.')


def _manual_dir(dl_manager, name: str) -> pathlib.Path:
  try:
    root = pathlib.Path(dl_manager.manual_dir).resolve()
  # TFDS asserts the folder exists and has files; listing a file raises.
  except (AssertionError, OSError, tf.errors.OpError) as e:
    raise ExportError(
        f'the export folder is missing or empty, or is not a folder ({e}).',
        fix=f'Pass the export with `tfds build {name} --manual_dir PATH`.'
    ) from None
  return root
