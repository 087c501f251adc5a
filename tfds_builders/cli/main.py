"""The command line: `python -m tfds_builders {check,diff} ...`.

  check EXPORT [--format voc|coco|labelbox|tfod|yolo] [--config default|boxes]
        [--strict] [--json] [--download_dir DIR]
      Reads and validates the export as `tfds build` would, writing nothing.
      Exit 0: a build would succeed; 1: with --strict, something would be
      skipped; 2: an error a build stops on.
  diff OLD_DIR NEW_DIR [--markdown FILE] [--box_tolerance 0.01]
      What changed between two built versions, and a draft release note.
      Exit 0, or 2 when a folder cannot be read or FILE cannot be
      written.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys

from tfds_builders.cli import check, detect, diff, release_notes
from tfds_builders.core.errors import ExportError


def parser() -> argparse.ArgumentParser:
  top = argparse.ArgumentParser(
      prog='python -m tfds_builders',
      description='Check an export before building it; compare two built'
      ' versions of a dataset.')
  commands = top.add_subparsers(dest='command', required=True)
  c = commands.add_parser(
      'check', help='read and validate an export as a build would, without'
      ' writing a dataset',
      description='Reads and validates EXPORT as `tfds build` would (image'
      ' headers, classes, splits, geometry, masks), writing nothing. Exit'
      ' status: 0 a build would succeed, 1 with --strict when anything would'
      ' be skipped, 2 when the export has an error a build stops on.')
  c.add_argument('export', metavar='EXPORT', help='the export folder')
  c.add_argument('--format', choices=detect.FORMATS, default=None,
                 help='the export format (default: told from the files)')
  c.add_argument('--config', choices=check.CONFIGS, default='default',
                 help='the builder config to check for (default: default)')
  c.add_argument('--strict', action='store_true',
                 help='exit 1 when anything would be skipped')
  c.add_argument('--json', action='store_true',
                 help='print the report as JSON instead of a summary')
  c.add_argument('--download_dir', default=None,
                 help='where Labelbox media are downloaded; without it,'
                 ' media not in the export are reported missing')
  d = commands.add_parser(
      'diff', help='what changed between two built dataset versions',
      description='Compares two built dataset folders (e.g. .../1.0.0 and'
      ' .../1.1.0): images added, removed, changed and moved between splits,'
      ' classes, objects per class, relabelled objects and moved boxes.')
  d.add_argument('old', metavar='OLD_DIR')
  d.add_argument('new', metavar='NEW_DIR')
  d.add_argument('--markdown', metavar='FILE', default=None,
                 help='also write the comparison as markdown (folders on the'
                 ' way are created)')
  d.add_argument('--box_tolerance', type=box_tolerance,
                 default=diff.BOX_TOLERANCE,
                 help='a box moved when an edge moved more than this'
                 ' fraction of the image size (default: %(default)s)')
  return top


def box_tolerance(value: str) -> float:
  """--box_tolerance: a finite fraction of the image size, 0 or more."""
  try:
    number = float(value)
  except ValueError:
    raise argparse.ArgumentTypeError(
        f'{value!r} is not a number; pass a fraction of the image size, e.g.'
        f' {diff.BOX_TOLERANCE}') from None
  if not math.isfinite(number) or number < 0:
    raise argparse.ArgumentTypeError(
        f'{value} is not a fraction of the image size: pass a finite number'
        f' of 0 or more, e.g. {diff.BOX_TOLERANCE} (0 lists every box that'
        ' moved at all)')
  return abs(number)  # -0.0 prints as -0


def main(argv: list[str] | None = None) -> int:
  args = parser().parse_args(argv)
  if args.command == 'check':
    return run_check(args)
  return run_diff(args)


def run_check(args) -> int:
  outcome = check.check(args.export, args.format, args.config, args.strict,
                        args.download_dir)
  if args.json:
    print(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False))
  elif outcome.error is not None:
    print(check.text(outcome), file=sys.stderr)
  else:
    print(check.text(outcome))
  return outcome.exit_code


def run_diff(args) -> int:
  try:
    result = diff.compare(diff.load(args.old), diff.load(args.new),
                          args.box_tolerance)
  except ExportError as e:
    print(f'diff: {e}', file=sys.stderr)
    return 2
  print(release_notes.text(result))
  if args.markdown:
    path = pathlib.Path(args.markdown).expanduser()
    try:
      path.parent.mkdir(parents=True, exist_ok=True)
      path.write_text(release_notes.markdown(result), encoding='utf-8')
    except OSError as e:
      print(f'diff: {path}: cannot write the markdown ({e.strerror or e}).'
            ' Fix: Pass --markdown a file path you can write to (folders on'
            ' the way are created).', file=sys.stderr)
      return 2
    print(f'markdown written to {args.markdown}')
  return 0
