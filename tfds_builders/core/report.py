"""The build report: what went into the dataset and what did not, and why.

Every build writes `build_report.json` next to its shards and prints a short
summary. The accounting rule is "nothing lost": objects in the export equal
objects in the dataset plus objects listed as skipped.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import pathlib
from typing import Iterable

from tfds_builders.core.errors import ExportError

REPORT_FILENAME = 'build_report.json'
INDEX_FILENAME = 'image_index.jsonl'

# What happened to the item.
SKIPPED_IMAGE = 'skipped image'
SKIPPED_OBJECT = 'skipped object'
REPAIRED = 'repaired'
WARNING = 'warning'
NOT_INCLUDED = 'not included'  # e.g. image on disk but not in the annotations


@dataclasses.dataclass(frozen=True)
class Issue:
  file: str
  item: str
  problem: str
  action: str  # one of the constants above
  objects_lost: int = 0  # annotations that did not make it into the dataset
  fix: str = ''  # what the user can do about it

  def to_json(self) -> dict:
    return dataclasses.asdict(self)

  @classmethod
  def from_error(cls, error: ExportError, action: str, objects_lost: int = 0,
                 *, file: str = '', item: str = '') -> 'Issue':
    """The report entry for a per-item error that was skipped, not raised.

    `file` and `item` are used where the error does not name its own.
    """
    return cls(error.file or file, error.item or item, error.problem, action,
               objects_lost, error.fix or '')


@dataclasses.dataclass
class ExampleSummary:
  """What one example (or one skipped image) contributed, for the report."""
  split: str
  included: bool
  labels: list[str]  # class name of every object kept
  issues: list[Issue]
  image_id: str = ''
  image_sha256: str = ''  # of the stored image bytes, for the manifest
  # Each kept object's [ymin, xmin, ymax, xmax] (relative), with `labels`.
  boxes: list[list[float]] = dataclasses.field(default_factory=list)
  # Objects found at encode time in an instance file (VOC masks without
  # XML): part of the export's objects, which the parser could not count.
  derived_objects: int = 0

  def to_json(self) -> dict:
    return {'split': self.split, 'included': self.included,
            'labels': self.labels, 'issues': [i.to_json() for i in self.issues],
            'image_id': self.image_id, 'image_sha256': self.image_sha256,
            'boxes': self.boxes, 'derived_objects': self.derived_objects}

  @classmethod
  def from_json(cls, data: dict) -> 'ExampleSummary':
    return cls(data['split'], data['included'], data['labels'],
               [Issue(**i) for i in data['issues']], data['image_id'],
               data['image_sha256'], data.get('boxes', []),
               data.get('derived_objects', 0))


@dataclasses.dataclass
class BuildReport:
  dataset: str
  export_dir: str
  export_format: str
  classes: list[str]
  class_source: str
  export_images: int
  export_objects: int
  parse_issues: list[Issue]
  summaries: list[ExampleSummary]
  manifest: dict | None = None
  warnings: list[str] = dataclasses.field(default_factory=list)
  # split -> {what stated it: images}, e.g. {'validation': {'folder valid/':
  # 6}, 'test': {'hash of the image id': 9}}.
  split_sources: dict = dataclasses.field(default_factory=dict)

  def to_json(self) -> dict:
    splits = collections.defaultdict(
        lambda: {'images': 0, 'objects': 0, 'objects_per_class': {}})
    for summary in self.summaries:
      if not summary.included:
        continue
      split = splits[summary.split]
      split['images'] += 1
      split['objects'] += len(summary.labels)
      per_class = split['objects_per_class']
      for label in summary.labels:
        per_class[label] = per_class.get(label, 0) + 1
    issues = self.issues
    dataset_objects = sum(s['objects'] for s in splits.values())
    skipped_objects = sum(i.objects_lost for i in issues)
    export_objects = self.export_objects + sum(s.derived_objects
                                               for s in self.summaries)
    return {
        'dataset': self.dataset,
        'export_dir': self.export_dir,
        'export_format': self.export_format,
        'classes': self.classes,
        'class_source': self.class_source,
        'splits': {k: splits[k] for k in sorted(splits)},
        'split_sources': self.split_sources,
        'export': {'images': self.export_images,
                   'objects': export_objects},
        'dataset_totals': {
            'images': sum(s['images'] for s in splits.values()),
            'objects': dataset_objects},
        'skipped': {
            'images': sum(i.action == SKIPPED_IMAGE for i in issues),
            'objects': skipped_objects},
        'nothing_lost': export_objects == dataset_objects + skipped_objects,
        'issue_counts': dict(collections.Counter(i.action for i in issues)),
        'issues': [i.to_json() for i in issues],
        'warnings': self.warnings,
        'source_manifest': self.manifest,
    }

  @property
  def issues(self) -> list[Issue]:
    return self.parse_issues + [i for s in self.summaries for i in s.issues]

  def write(self, directory: pathlib.Path) -> dict:
    data = self.to_json()
    (pathlib.Path(directory) / REPORT_FILENAME).write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + '\n')
    return data


def summary_text(data: dict, max_issues: int = 10) -> str:
  """A few human lines from the report JSON."""
  lines = [f"{data['dataset']}: {data['export_format']} export at"
           f" {data['export_dir']}",
           f"  classes ({data['class_source']}): {', '.join(data['classes'])}"]
  for name, split in data['splits'].items():
    per_class = ', '.join(f'{k}={v}' for k, v in sorted(
        split['objects_per_class'].items()))
    sources = ', '.join(data.get('split_sources', {}).get(name, {}))
    lines.append(f"  {name}: {split['images']} images, {split['objects']}"
                 f" objects ({per_class})"
                 + (f" [split from {sources}]" if sources else ''))
  skipped = data['skipped']
  lines.append(f"  export: {data['export']['images']} images,"
               f" {data['export']['objects']} objects; skipped"
               f" {skipped['images']} images, {skipped['objects']} objects;"
               f" nothing lost: {data['nothing_lost']}")
  for warning in data['warnings']:
    lines.append(f'  WARNING: {warning}')
  for issue in data['issues'][:max_issues]:
    fix = f" Fix: {issue['fix']}" if issue.get('fix') else ''
    lines.append(f"  - {issue['action']}: {issue['file']}"
                 f"{': ' + issue['item'] if issue['item'] else ''}:"
                 f" {issue['problem']}{fix}")
  if len(data['issues']) > max_issues:
    lines.append(f"  ... {len(data['issues']) - max_issues} more in"
                 f" {REPORT_FILENAME}")
  return '\n'.join(lines)


def write_index(directory: pathlib.Path,
                summaries: Iterable[ExampleSummary]) -> pathlib.Path:
  """The per-image index next to the report, one JSON line per image in the
  dataset, sorted by id: what `python -m tfds_builders diff` compares.

  `{"id", "split", "sha256", "objects": [[label, ymin, xmin, ymax, xmax]]}`.
  """
  lines = sorted(
      json.dumps({'id': s.image_id, 'split': s.split, 'sha256': s.image_sha256,
                  'objects': [[label, *box]
                              for label, box in zip(s.labels, s.boxes)]},
                 ensure_ascii=False, sort_keys=True)
      for s in summaries if s.included)
  path = pathlib.Path(directory) / INDEX_FILENAME
  path.write_text(''.join(line + '\n' for line in lines), encoding='utf-8')
  return path


def read_summaries(lines: Iterable[str]) -> list[ExampleSummary]:
  return [ExampleSummary.from_json(json.loads(line)) for line in lines if line]
