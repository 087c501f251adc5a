"""The part of a build that does not need TFDS: export in, checked records out.

`prepare` reads an export through its format's parser and settles what a
build settles before encoding: the files refused on the way, strict mode,
media that are all missing, the class list, duplicate image ids and the
split of every image. `ExportBuilder` runs it before handing the records to
TFDS; `python -m tfds_builders check` runs it and then encodes each record
without writing anything, so both report the same problems the same way.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Callable, Iterator, Sequence

from tfds_builders.core import (encode, parallel, record_store, report,
                                 splits)
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.labels import ClassList, first_seen, resolve_classes
from tfds_builders.core.records import ImageRecord, ParsedExport

STRICT_ACTIONS = (report.SKIPPED_IMAGE, report.SKIPPED_OBJECT)


@dataclasses.dataclass
class Prepared:
  """An export read, its classes resolved and its images split."""
  files: ExportFiles
  parsed: ParsedExport
  classes: ClassList
  by_split: dict[str, list[ImageRecord]]
  # split -> {what stated it: images}, for the report.
  split_sources: dict[str, dict[str, int]]


def prepare(files: ExportFiles, parse: Callable[[ExportFiles], ParsedExport],
            *, fixed_classes: Sequence[str] | None = None,
            fixed_source: str = 'the builder', test_fraction: float = 0.2,
            strict: bool = False) -> Prepared:
  """Parses the export and settles classes and splits (see the module doc).

  Raises:
    ExportError: for structural problems, and in strict mode for anything
      that would be skipped.
  """
  parsed = parse(files)
  parsed.issues[:0] = files.issues
  raise_if_strict(parsed.issues, strict)
  check_media_found(parsed)
  given = parsed.classes
  if fixed_classes:
    given = ClassList(tuple(fixed_classes), fixed_source)
  try:
    classes = resolve_classes(given, first_seen(
        (o.label, f'{r.annotation_file}: {o.where}')
        for r in parsed.records for o in r.objects))
  except ExportError as e:
    raise _with_skips(e, parsed.issues) from None
  by_split, sources = _group_by_split(parsed, test_fraction)
  raise_if_strict(parsed.issues, strict)
  if not by_split:
    raise _with_skips(ExportError(
        'the export lists no images.', file=str(files.root),
        fix='Point --manual_dir at the folder holding the export.'),
                      parsed.issues)
  return Prepared(files, parsed, classes, by_split, sources)


def _with_skips(error: ExportError, issues: list[report.Issue]
                ) -> ExportError:
  """`error` saying what was skipped on the way, when that is why nothing
  is left (every object of an export skipped reads as "no objects")."""
  skipped = [i for i in issues
             if i.action in (report.SKIPPED_IMAGE, report.SKIPPED_OBJECT)]
  if not skipped:
    return error
  first = skipped[0]
  where = ': '.join(p for p in (first.file, first.item) if p)
  return ExportError(
      f'{error.problem.rstrip(".")}; {len(skipped)} image(s) or object(s)'
      f' were skipped, the first: {where}: {first.problem}', file=error.file,
      item=error.item, fix=f'Fix what was skipped, or: {error.fix}'
      if error.fix else 'Fix what was skipped.')


def encode_all(prepared: Prepared, options: encode.EncodeOptions,
               workers: int | None = None) -> Iterator[tuple[str, tuple]]:
  """`(split, encode_record result)` for every record, in order, encoded in
  worker processes (`core.parallel`)."""
  for split, records in prepared.by_split.items():
    for result in parallel.in_order(encode.encode_record, records, split,
                                    prepared.classes, options,
                                    workers=workers):
      yield split, result


def make_report(prepared: Prepared, dataset: str,
                summaries: list[report.ExampleSummary], *,
                manifest: dict | None = None,
                warnings: Sequence[str] = ()) -> report.BuildReport:
  parsed = prepared.parsed
  return report.BuildReport(
      dataset=dataset, export_dir=str(prepared.files.root),
      export_format=parsed.export_format,
      classes=list(prepared.classes.names),
      class_source=prepared.classes.source,
      export_images=parsed.export_images,
      export_objects=parsed.export_objects, parse_issues=parsed.issues,
      summaries=summaries, manifest=manifest, warnings=list(warnings),
      split_sources=prepared.split_sources)


def raise_if_strict(issues: list[report.Issue], strict: bool) -> None:
  if not strict:
    return
  skips = [i for i in issues if i.action in STRICT_ACTIONS]
  if skips:
    first = skips[0]
    raise ExportError(
        f'{first.problem} (strict mode; {len(skips)} item(s) would be'
        ' skipped)', file=first.file, item=first.item,
        fix='Fix the export, or build without strict to skip and report.')


def check_media_found(parsed: ParsedExport) -> None:
  """An export whose images are all missing is one error, not N skips."""
  records = parsed.records
  if records and not any(r.image_path or r.image_bytes or r.image_in_record
                         for r in records):
    first = records[0]
    raise ExportError(
        f'no media found: none of the {len(records)} images the annotations'
        f' name is in the export (the first, {first.filename!r}:'
        f' {first.missing_image or "not found"}).',
        file=first.annotation_file,
        fix='Put the images in the export folder (beside the annotations,'
        ' or in images/), or download them first.')


def _group_by_split(parsed: ParsedExport, test_fraction: float):
  """Records by split (sorted), and where each split came from; a second
  record of an image id is reported, not kept; one image file in two splits
  (a test image the model also trains on) is warned. Only names are kept
  of the records seen (they may be spilled: `core.record_store`)."""
  by_split: dict[str, list[ImageRecord]] = {}
  sources: dict[str, collections.Counter] = {}
  seen: dict[str, str] = {}  # image id -> its annotation file
  in_split: dict[str, tuple[str, str, str]] = {}  # image file -> first's
  for record in parsed.records:
    if record.image_id in seen:
      parsed.issues.append(report.Issue(
          record.annotation_file, f'image {record.image_id!r}',
          f'image id already used by {seen[record.image_id]}; the second'
          ' annotation of the same image is left out', report.SKIPPED_IMAGE,
          len(record.objects), fix='Give every image its own id.'))
      continue
    seen[record.image_id] = record.annotation_file
    split = record.split or splits.assign_split(
        record.split_key or record.image_id, test_fraction)
    source = record.split_source if record.split else splits.HASHED
    if record.image_path:
      first_split, first_id, first_file = in_split.setdefault(
          record.image_path, (split, record.image_id, record.annotation_file))
      if first_split != split:
        parsed.issues.append(report.Issue(
            record.annotation_file, f'image {record.image_id!r}',
            f'is the image file of {first_id!r} ({first_file}) too, which is'
            f' in split {first_split!r}; it is in both {split!r} and'
            f' {first_split!r}', report.WARNING,
            fix='Keep each image in one split (is one annotation file a copy'
            ' of another?).'))
    if split not in by_split:
      by_split[split] = record_store.new_list()
    by_split[split].append(record)
    sources.setdefault(split, collections.Counter())[source or '?'] += 1
  return ({name: by_split[name] for name in sorted(by_split)},
          {name: dict(sorted(sources[name].items()))
           for name in sorted(sources)})
