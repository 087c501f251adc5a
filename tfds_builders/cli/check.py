"""`python -m tfds_builders check EXPORT`: would a build succeed, and what
would it skip?

The same reading and validation as `tfds build` (the format's own builder
parses the export, `core.pipeline` settles classes and splits, every record
goes through `core.encode`), without the costs of storing a dataset: image
headers are read instead of decoding every pixel, no PNG is encoded and
nothing is written. So `check` misses what only a full decode finds (JPEG
scans cut short, PNG data that does not inflate) and does not list the
conversions a build makes (CMYK, 16-bit, palette images re-encoded as PNG).

Exit status: 0 a build would succeed (skips and warnings listed), 1 with
`--strict` when anything would be skipped (a strict build refuses it), 2 the
export has an error a build stops on (or no format could be told).
"""

from __future__ import annotations

import dataclasses
import tempfile
import types

import tensorflow_datasets as tfds

from tfds_builders.cli import detect
from tfds_builders.core import encode, parallel, pipeline, report
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles

BUILDERS = {'voc': 'voc_export', 'coco': 'coco_export',
            'labelbox': 'labelbox_export', 'tfod': 'tfod_export',
            'yolo': 'yolo_export'}
CONFIGS = ('default', 'boxes')
OK, STRICT_REFUSED, ERROR = 0, 1, 2
# Checking an image takes about a millisecond, as long as handing one item
# to a worker process and back: images go to the workers of
# `core.parallel` in batches (2,000 images on 2 cores: 1.1 s in batches of
# 32, 2.1 s one by one on threads, 2.8 s one by one on processes).
BATCH = 32
HEADERS_ONLY = ('check reads image headers only: damaged pixel data and'
                ' format conversions show up in the build report')


@dataclasses.dataclass
class Outcome:
  exit_code: int
  format: str | None  # None: not told and not detected
  builder: str | None  # e.g. 'voc_export/boxes'
  strict: bool
  report: dict | None = None  # the build report's JSON, as a build has it
  error: ExportError | None = None
  strict_refuses: int = 0  # report entries a strict build stops on

  def to_json(self) -> dict:
    check = {'exit_code': self.exit_code, 'format': self.format,
             'builder': self.builder, 'strict': self.strict,
             'strict_refuses': self.strict_refuses, 'reads': HEADERS_ONLY}
    if self.error is not None:
      e = self.error
      return {'check': check, 'error': {
          'problem': e.problem, 'file': e.file, 'item': e.item, 'fix': e.fix,
          'message': str(e)}}
    return {**self.report, 'check': check}


def check(export, export_format: str | None = None, config: str = 'default',
          strict: bool = False, download_dir=None) -> Outcome:
  """Checks the export at `export` as `tfds build` would read it."""
  builder_name = None
  try:
    files = ExportFiles(export, trusted=[download_dir])
    if export_format is None:
      export_format = detect.detect(files).format
    builder_name = f'{BUILDERS[export_format]}/{config}'
    data = _read_and_validate(files, builder_name, download_dir)
  except ExportError as e:
    return Outcome(ERROR, export_format, builder_name, strict, error=e)
  refuses = sum(1 for i in data['issues']
                if i['action'] in pipeline.STRICT_ACTIONS)
  return Outcome(STRICT_REFUSED if strict and refuses else OK, export_format,
                 builder_name, strict, data, strict_refuses=refuses)


def _read_and_validate(files: ExportFiles, builder_name: str,
                       download_dir) -> dict:
  # The builder only needs a data_dir to exist as an object; nothing is
  # written to it, and a scratch one keeps the user's ~/tensorflow_datasets
  # out of it.
  with tempfile.TemporaryDirectory(prefix='tfds_builders_check_') as scratch:
    builder = tfds.builder(builder_name, data_dir=scratch)
    # What `_parse_export` reads of TFDS's download manager.
    dl_manager = types.SimpleNamespace(download_dir=download_dir,
                                       manual_dir=files.root)
    prepared = builder.prepare_export(files, dl_manager)
    summaries = _encode_in_batches(prepared,
                                   builder.encode_options(check_only=True))
    _check_splits_keep_images(prepared, summaries)
    return pipeline.make_report(prepared, builder.info.full_name,
                                summaries).to_json()


def _encode_in_batches(prepared: pipeline.Prepared,
                       options: encode.EncodeOptions
                       ) -> list[report.ExampleSummary]:
  """`pipeline.encode_all`'s summaries, in the same order, with the
  records handed to the worker processes BATCH at a time."""
  summaries = []
  for split, records in prepared.by_split.items():
    batches = [records[i:i + BATCH] for i in range(0, len(records), BATCH)]
    for results in parallel.in_order(_encode_batch, batches, split,
                                     prepared.classes, options):
      summaries += [summary for _, _, summary in results]
  return summaries


def _encode_batch(records, split, classes, options):
  return [encode.encode_record(r, split, classes, options) for r in records]


def _check_splits_keep_images(prepared: pipeline.Prepared,
                              summaries: list[report.ExampleSummary]) -> None:
  """A split whose every image is skipped stops a build (TFDS refuses an
  empty split): the same error here."""
  for split, records in prepared.by_split.items():
    mine = [s for s in summaries if s.split == split]
    if not any(s.included for s in mine):
      last = mine[-1].issues[0]
      raise ExportError(
          f'every one of the {len(records)} images of split {split!r} would'
          f' be skipped; the last: {last.problem}', file=last.file,
          item=last.item, fix=last.fix or 'Fix the images of that split.')


def text(outcome: Outcome, max_issues: int = 20) -> str:
  """The lines `check` prints: the build summary and the verdict."""
  if outcome.error is not None:
    e = outcome.error
    lines = ['check: the export has an error that stops a build'
             + (f' ({outcome.builder})' if outcome.builder else '') + ':',
             f'  problem: {e.problem}']
    lines += [f'  {key}: {value}' for key, value in
              (('file', e.file), ('item', e.item), ('fix', e.fix)) if value]
    return '\n'.join(lines)
  data = outcome.report
  lines = report.summary_text(data, max_issues=max_issues).splitlines()
  if len(data['issues']) > max_issues:  # summary_text points at a file
    lines[-1] = (f"  ... {len(data['issues']) - max_issues} more (all of"
                 ' them with --json)')
  counts = ', '.join(f'{n} {action}' for action, n in sorted(
      data['issue_counts'].items()))
  listed = f' ({counts})' if counts else ''
  if outcome.exit_code == STRICT_REFUSED:
    lines.append(f'check: a strict build would stop: {outcome.strict_refuses}'
                 f' item(s) would be skipped{listed}.')
  else:
    lines.append('check: OK, a build would succeed'
                 + (' (strict too)' if outcome.strict else '') + listed + '.')
  lines.append(f'  ({HEADERS_ONLY}.)')
  return '\n'.join(lines)
