"""Resolve file names found in annotations without ever leaving the export."""

from __future__ import annotations

import os
import pathlib

from tfds_builders.core.errors import ExportError


def resolve_inside(root: os.PathLike | str, name: str, *, file: str,
                   item: str | None = None) -> pathlib.Path:
  """Returns `root / name`, refusing anything that points outside `root`.

  `../`, absolute paths and symlinks whose target lies outside the export are
  rejected: annotation files come from other people's tools and must not make
  a build read `/etc/passwd` into a dataset.
  """
  root = pathlib.Path(root).resolve()
  candidate = check_relative(name, file=file, item=item)
  path = root.joinpath(*candidate.parts)
  real = path.resolve()
  if real != root and root not in real.parents:
    raise ExportError(
        f'path {name!r} is a symlink that leads outside the export folder'
        f' (to {real}).', file=file, item=item,
        fix='Copy the file into the export instead of linking to it.')
  return path


def check_relative(name: str, *, file: str,
                   item: str | None = None) -> pathlib.PurePosixPath:
  """`name` as a relative path; absolute paths and `..` are an ExportError."""
  normalized = name.replace('\\', '/')
  candidate = pathlib.PurePosixPath(normalized)
  if candidate.is_absolute() or normalized.startswith('~') or (
      len(normalized) > 1 and normalized[1] == ':'):
    raise ExportError(
        f'path {name!r} is absolute; annotation paths must be relative to the'
        ' export folder.', file=file, item=item,
        fix='Re-export with relative paths or edit the annotation.')
  if '..' in candidate.parts:
    raise ExportError(
        f'path {name!r} climbs out of the export folder with "..".',
        file=file, item=item,
        fix='Keep every image inside the export folder.')
  return candidate


def relative_name(root: os.PathLike | str, path: os.PathLike | str) -> str:
  """`path` relative to `root`, with forward slashes (for ids and reports)."""
  return pathlib.Path(path).relative_to(root).as_posix()
